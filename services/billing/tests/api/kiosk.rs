//! The lobby kiosk: a patient it has identified reads their balance and pays it by card. The
//! identity evidence is checked with the patient registry before anything is shown or written.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Date;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, balance, card, cash, charge, mxn, whole_ledger};

backend_tests!(
    a_kiosk_reads_the_balance_of_a_patient_it_has_identified,
    a_kiosk_takes_a_card_payment_and_a_retry_returns_it,
    a_kiosk_with_the_wrong_identity_learns_nothing_and_writes_nothing,
    a_kiosk_must_identify_the_patient_and_takes_cards_only,
    staff_may_present_identity_too_and_it_is_checked,
);

/// What `TestClinic::register_patient` registers: born 1990-07-02, phone ending 2222.
fn lucias_identity() -> Option<pb::IdentityEvidence> {
    Some(pb::IdentityEvidence {
        date_of_birth: Some(Date {
            year: 1990,
            month: 7,
            day: 2,
        }),
        phone_last_four: "2222".into(),
    })
}

fn wrong_identity() -> Option<pb::IdentityEvidence> {
    Some(pb::IdentityEvidence {
        date_of_birth: Some(Date {
            year: 1990,
            month: 7,
            day: 3,
        }),
        phone_last_four: "2222".into(),
    })
}

/// A registered patient owing 800.00 for a cleaning.
async fn patient_owing(clinic: &TestClinic) -> String {
    let patient_id = clinic.register_patient().await;
    clinic.add_item("LIMP-01", 80_000).await;
    clinic
        .client(Role::Reception)
        .await
        .post_charge(charge(&patient_id, "LIMP-01", "kiosk-charge"))
        .await
        .expect("charged");
    patient_id
}

fn balance_request(patient_id: &str) -> pb::GetAccountBalanceRequest {
    pb::GetAccountBalanceRequest {
        patient_id: patient_id.into(),
        identity: lucias_identity(),
    }
}

async fn a_kiosk_reads_the_balance_of_a_patient_it_has_identified(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic).await;
    let mut kiosk = clinic.client_as(Role::Kiosk, "kiosk:lobby-1").await;

    // Act
    let account = kiosk
        .get_account_balance(balance_request(&patient_id))
        .await
        .expect("the kiosk reads the balance")
        .into_inner();

    // Assert
    assert_eq!(account.balance, Some(mxn(80_000)));
    assert_eq!(account.patient_id, patient_id);
}

async fn a_kiosk_takes_a_card_payment_and_a_retry_returns_it(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic).await;
    let mut kiosk = clinic.client_as(Role::Kiosk, "kiosk:lobby-1").await;
    let request = pb::PostPaymentRequest {
        identity: lucias_identity(),
        ..card(&patient_id, 80_000, "kiosk-pay-1")
    };

    // Act
    let payment = kiosk
        .post_payment(request.clone())
        .await
        .expect("the kiosk takes the card")
        .into_inner();
    let retried = kiosk
        .post_payment(request)
        .await
        .expect("the retry is answered")
        .into_inner();

    // Assert
    assert_eq!(payment.method(), pb::PaymentMethod::Card);
    assert_eq!(payment.received_by, "kiosk:lobby-1");
    assert_eq!(payment.balance_after, Some(mxn(0)));
    assert_eq!(retried, payment);
    let account = balance(&mut clinic.client(Role::Reception).await, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(0)));
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 2, "one charge, one payment");
}

async fn a_kiosk_with_the_wrong_identity_learns_nothing_and_writes_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    // Act
    let reading = kiosk
        .get_account_balance(pb::GetAccountBalanceRequest {
            patient_id: patient_id.clone(),
            identity: wrong_identity(),
        })
        .await
        .expect_err("refused");
    let paying = kiosk
        .post_payment(pb::PostPaymentRequest {
            identity: wrong_identity(),
            ..card(&patient_id, 80_000, "kiosk-pay-wrong")
        })
        .await
        .expect_err("refused");
    let stranger = kiosk
        .get_account_balance(pb::GetAccountBalanceRequest {
            patient_id: clinic_common::ids::PatientId::new().to_string(),
            identity: lucias_identity(),
        })
        .await
        .expect_err("refused");

    // Assert
    for status in [&reading, &paying, &stranger] {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert_eq!(status.message(), "identity could not be confirmed");
    }
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 1, "only the charge");
}

async fn a_kiosk_must_identify_the_patient_and_takes_cards_only(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    // Act
    let unidentified = kiosk
        .get_account_balance(pb::GetAccountBalanceRequest {
            patient_id: patient_id.clone(),
            identity: None,
        })
        .await
        .expect_err("refused");
    let in_cash = kiosk
        .post_payment(pb::PostPaymentRequest {
            identity: lucias_identity(),
            ..cash(&patient_id, 80_000, 100_000, "kiosk-cash")
        })
        .await
        .expect_err("refused");
    let half_identified = kiosk
        .post_payment(pb::PostPaymentRequest {
            identity: Some(pb::IdentityEvidence {
                date_of_birth: None,
                phone_last_four: "22".into(),
            }),
            ..card(&patient_id, 80_000, "kiosk-half")
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(unidentified.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&unidentified), ["identity"]);
    assert_eq!(in_cash.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&in_cash), ["method"]);
    assert_eq!(
        violated_fields(&half_identified),
        ["identity.date_of_birth", "identity.phone_last_four"]
    );
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 1, "only the charge");
}

async fn staff_may_present_identity_too_and_it_is_checked(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let without = reception
        .get_account_balance(pb::GetAccountBalanceRequest {
            patient_id: patient_id.clone(),
            identity: None,
        })
        .await
        .expect("staff need no evidence");
    let wrong = reception
        .get_account_balance(pb::GetAccountBalanceRequest {
            patient_id: patient_id.clone(),
            identity: wrong_identity(),
        })
        .await
        .expect_err("evidence given is checked");

    // Assert
    assert_eq!(without.into_inner().balance, Some(mxn(80_000)));
    assert_eq!(wrong.code(), Code::FailedPrecondition);
}
