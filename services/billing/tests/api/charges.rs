//! Posting charges: pricing, defaults, retries, validation and a registry that is down.

use clinic_common::auth::Role;
use clinic_common::ids::{AppointmentId, PatientId};
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Date;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, balance, charge, mxn, whole_ledger};

backend_tests!(
    a_charge_is_priced_from_the_list_and_raises_the_balance,
    quantity_zero_means_one_and_the_service_date_defaults_to_the_clinic_day,
    retrying_a_charge_returns_the_first_and_posts_once,
    a_charge_for_an_unknown_patient_and_code_names_both_and_writes_nothing,
    malformed_charges_name_every_bad_field,
    the_registry_being_down_makes_post_charge_unavailable_and_writes_nothing,
);

async fn a_charge_is_priced_from_the_list_and_raises_the_balance(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("LIMP-01", 45_050).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let posted = reception
        .post_charge(pb::PostChargeRequest {
            quantity: 2,
            ..charge(&patient_id, "limp-01", "ch-1")
        })
        .await
        .expect("posted")
        .into_inner();

    // Assert
    assert_eq!(posted.patient_id, patient_id);
    assert_eq!(posted.price_code, "LIMP-01");
    assert_eq!(posted.description, "Servicio LIMP-01");
    assert_eq!(posted.quantity, 2);
    assert_eq!(posted.unit_price, Some(mxn(45_050)));
    assert_eq!(posted.amount, Some(mxn(90_100)));
    assert_eq!(posted.posted_by, "reception:tester");
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(90_100)));
    assert_eq!(account.total_charged, Some(mxn(90_100)));
    assert_eq!(account.total_paid, Some(mxn(0)));
    assert_eq!(account.as_of_sequence, 1);
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].kind(), pb::LedgerEntryKind::Charge);
    assert_eq!(ledger[0].source_id, posted.charge_id);
    assert_eq!(ledger[0].amount, Some(mxn(90_100)));
    assert_eq!(ledger[0].service_date, posted.service_date);
}

async fn quantity_zero_means_one_and_the_service_date_defaults_to_the_clinic_day(
    database: TestDatabase,
) {
    // 23:30 on the 22nd in Mexico City is already the 23rd in UTC.
    let clinic = TestClinic::start_at(database, "2026-11-23T05:30:00Z").await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("CONS-01", 50_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let appointment_id = AppointmentId::new().to_string();

    // Act
    let today = reception
        .post_charge(pb::PostChargeRequest {
            quantity: 0,
            appointment_id: appointment_id.clone(),
            ..charge(&patient_id, "CONS-01", "ch-today")
        })
        .await
        .expect("posted")
        .into_inner();
    let earlier_day = Date {
        year: 2026,
        month: 11,
        day: 20,
    };
    let backdated = reception
        .post_charge(pb::PostChargeRequest {
            service_date: Some(earlier_day),
            ..charge(&patient_id, "CONS-01", "ch-backdated")
        })
        .await
        .expect("posted")
        .into_inner();

    // Assert
    assert_eq!(today.quantity, 1);
    assert_eq!(today.amount, Some(mxn(50_000)));
    assert_eq!(today.appointment_id, appointment_id);
    assert_eq!(
        today.service_date,
        Some(Date {
            year: 2026,
            month: 11,
            day: 22
        })
    );
    assert_eq!(backdated.service_date, Some(earlier_day));
    assert_eq!(backdated.appointment_id, "");
}

async fn retrying_a_charge_returns_the_first_and_posts_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("CONS-01", 50_000).await;
    let mut service = clinic.client(Role::Service).await;
    let first = service
        .post_charge(charge(&patient_id, "CONS-01", "ch-retry"))
        .await
        .expect("posted")
        .into_inner();

    // Act
    let retry = service
        .post_charge(charge(&patient_id, "CONS-01", "ch-retry"))
        .await
        .expect("retried")
        .into_inner();
    let reused = service
        .post_charge(pb::PostChargeRequest {
            quantity: 3,
            ..charge(&patient_id, "CONS-01", "ch-retry")
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(retry, first);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_eq!(whole_ledger(&mut service).await.len(), 1);
    assert_eq!(
        balance(&mut service, &patient_id).await.balance,
        Some(mxn(50_000))
    );
}

async fn a_charge_for_an_unknown_patient_and_code_names_both_and_writes_nothing(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let registered = clinic.register_patient().await;
    clinic.add_item("CONS-01", 50_000).await;
    let stranger = PatientId::new().to_string();
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let both_unknown = reception
        .post_charge(charge(&stranger, "NOPE-01", "ch-unknown"))
        .await
        .expect_err("refused");
    let code_unknown = reception
        .post_charge(charge(&registered, "NOPE-01", "ch-code"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(both_unknown.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&both_unknown), ["patient_id", "price_code"]);
    assert_eq!(violated_fields(&code_unknown), ["price_code"]);
    assert!(
        whole_ledger(&mut clinic.client(Role::Manager).await)
            .await
            .is_empty()
    );
    let posted = reception
        .post_charge(charge(&registered, "CONS-01", "ch-code"))
        .await
        .expect("the refused request did not use up its key");
    assert_eq!(posted.into_inner().amount, Some(mxn(50_000)));
}

async fn malformed_charges_name_every_bad_field(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let status = reception
        .post_charge(pb::PostChargeRequest {
            patient_id: "42".into(),
            price_code: "consulta general".into(),
            quantity: 1000,
            appointment_id: "tomorrow".into(),
            service_date: Some(Date {
                year: 2026,
                month: 11,
                day: 23,
            }),
            request_id: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let impossible_date = reception
        .post_charge(pb::PostChargeRequest {
            quantity: -1,
            service_date: Some(Date {
                year: 2026,
                month: 2,
                day: 30,
            }),
            ..charge(&PatientId::new().to_string(), "CONS-01", "ch-bad")
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        [
            "patient_id",
            "price_code",
            "quantity",
            "appointment_id",
            "service_date",
            "request_id"
        ]
    );
    assert_eq!(
        violated_fields(&impossible_date),
        ["quantity", "service_date"]
    );
}

async fn the_registry_being_down_makes_post_charge_unavailable_and_writes_nothing(
    database: TestDatabase,
) {
    let mut clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("CONS-01", 50_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let before = reception
        .post_charge(charge(&patient_id, "CONS-01", "ch-before"))
        .await
        .expect("posted while the registry is up")
        .into_inner();

    // Act
    clinic.stop_registry().await;
    let status = reception
        .post_charge(charge(&patient_id, "CONS-01", "ch-during"))
        .await
        .expect_err("the registry cannot be asked");
    let retry_of_before = reception
        .post_charge(charge(&patient_id, "CONS-01", "ch-before"))
        .await
        .expect("a retry is answered from billing's own records")
        .into_inner();

    // Assert
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(retry_of_before, before);
    let ledger = whole_ledger(&mut clinic.client(Role::Manager).await).await;
    assert_eq!(
        ledger.len(),
        1,
        "nothing was written for the refused charge"
    );
    assert_eq!(
        balance(&mut reception, &patient_id).await.balance,
        Some(mxn(50_000))
    );
}
