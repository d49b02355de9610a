//! Refunds: reversing ledger entries, the refundable remainder under retries and concurrency,
//! and cash refunds coming out of a drawer.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, balance, card, cash, charge, mxn, whole_ledger};

backend_tests!(
    a_partial_refund_is_a_reversing_entry_that_raises_the_balance,
    refunds_never_add_up_to_more_than_the_payment,
    concurrent_refunds_cannot_exceed_the_payment,
    a_cash_refund_at_a_terminal_comes_out_of_its_drawer,
    retries_return_the_first_refund_and_write_once,
    invalid_refunds_name_every_bad_field_and_write_nothing,
);

/// A registered patient charged $900.00 who paid it all by card; returns the patient and payment.
async fn patient_who_paid(clinic: &TestClinic) -> (String, pb::Payment) {
    let patient_id = clinic.register_patient().await;
    let code = format!("C-{}", &patient_id[..8].to_ascii_uppercase());
    clinic.add_item(&code, 90_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .post_charge(charge(&patient_id, &code, &format!("charge-{patient_id}")))
        .await
        .expect("charged");
    let payment = reception
        .post_payment(card(&patient_id, 90_000, &format!("pay-{patient_id}")))
        .await
        .expect("paid")
        .into_inner();
    (patient_id, payment)
}

fn refund(payment_id: &str, amount_minor: i64, request_id: &str) -> pb::RefundPaymentRequest {
    pb::RefundPaymentRequest {
        payment_id: payment_id.into(),
        amount: Some(mxn(amount_minor)),
        reason: "Tratamiento no realizado".into(),
        terminal_id: String::new(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

async fn a_partial_refund_is_a_reversing_entry_that_raises_the_balance(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, payment) = patient_who_paid(&clinic).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let refunded = manager
        .refund_payment(refund(&payment.payment_id, 30_000, "refund-1"))
        .await
        .expect("refunded")
        .into_inner();

    // Assert
    assert_eq!(refunded.payment_id, payment.payment_id);
    assert_eq!(refunded.patient_id, patient_id);
    assert_eq!(refunded.amount, Some(mxn(30_000)));
    assert_eq!(refunded.method(), pb::PaymentMethod::Card);
    assert_eq!(refunded.reason, "Tratamiento no realizado");
    assert_eq!(refunded.balance_after, Some(mxn(30_000)));
    assert_eq!(refunded.refunded_by, "manager:tester");
    assert_eq!(refunded.cash_drawer_session_id, "");
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    let kinds: Vec<pb::LedgerEntryKind> = ledger.iter().map(|entry| entry.kind()).collect();
    assert_eq!(
        kinds,
        [
            pb::LedgerEntryKind::Charge,
            pb::LedgerEntryKind::Payment,
            pb::LedgerEntryKind::Refund
        ]
    );
    let entry = ledger.last().expect("an entry");
    assert_eq!(entry.source_id, refunded.refund_id);
    assert_eq!(entry.amount, Some(mxn(30_000)));
    let account = balance(&mut manager, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(30_000)));
    assert_eq!(account.total_paid, Some(mxn(60_000)));
    assert_eq!(account.total_charged, Some(mxn(90_000)));
}

async fn refunds_never_add_up_to_more_than_the_payment(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (_, payment) = patient_who_paid(&clinic).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    manager
        .refund_payment(refund(&payment.payment_id, 60_000, "refund-1"))
        .await
        .expect("refunded");
    let too_much = manager
        .refund_payment(refund(&payment.payment_id, 30_001, "refund-2"))
        .await
        .expect_err("refused");
    let the_rest = manager
        .refund_payment(refund(&payment.payment_id, 30_000, "refund-3"))
        .await
        .expect("refunded")
        .into_inner();
    let nothing_left = manager
        .refund_payment(refund(&payment.payment_id, 1, "refund-4"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(too_much.code(), Code::FailedPrecondition);
    assert!(
        too_much.message().contains("$300.00"),
        "{}",
        too_much.message()
    );
    assert_eq!(the_rest.balance_after, Some(mxn(90_000)));
    assert_eq!(nothing_left.code(), Code::FailedPrecondition);
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 4, "charge, payment and two refunds");
}

async fn concurrent_refunds_cannot_exceed_the_payment(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, payment) = patient_who_paid(&clinic).await;
    let manager = clinic.client(Role::Manager).await;

    // Act: six refunds of $400.00 race for a $900.00 payment.
    let mut calls = Vec::new();
    for attempt in 0..6 {
        let mut client = manager.clone();
        let request = refund(&payment.payment_id, 40_000, &format!("refund-{attempt}"));
        calls.push(tokio::spawn(
            async move { client.refund_payment(request).await },
        ));
    }
    let mut succeeded = 0;
    for call in calls {
        match call.await.expect("the call ran") {
            Ok(_) => succeeded += 1,
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition),
        }
    }

    // Assert
    assert_eq!(succeeded, 2);
    let account = balance(&mut clinic.client(Role::Manager).await, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(80_000)));
}

async fn a_cash_refund_at_a_terminal_comes_out_of_its_drawer(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let mut manager = clinic.client(Role::Manager).await;
    manager
        .open_cash_drawer(pb::OpenCashDrawerRequest {
            terminal_id: "counter-1".into(),
            opening_count: vec![pb::DenominationCount {
                kind: pb::DenominationKind::Note.into(),
                value: Some(mxn(50_000)),
                count: 2,
            }],
            opening_difference_reason: String::new(),
            request_id: "open-1".into(),
        })
        .await
        .expect("opened");
    let mut paid_in_cash = cash(&patient_id, 50_000, 50_000, "pay-1");
    paid_in_cash.terminal_id = "counter-1".into();
    let payment = manager
        .post_payment(paid_in_cash)
        .await
        .expect("paid")
        .into_inner();
    let at_counter = |request_id: &str, terminal_id: &str| pb::RefundPaymentRequest {
        terminal_id: terminal_id.into(),
        ..refund(&payment.payment_id, 20_000, request_id)
    };

    // Act
    let no_drawer = manager
        .refund_payment(at_counter("refund-0", "counter-2"))
        .await
        .expect_err("counter-2 has no open drawer");
    let refunded = manager
        .refund_payment(at_counter("refund-1", "counter-1"))
        .await
        .expect("refunded")
        .into_inner();
    let x = manager
        .get_cash_drawer(pb::GetCashDrawerRequest {
            terminal_id: "counter-1".into(),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();

    // Assert
    assert_eq!(no_drawer.code(), Code::FailedPrecondition);
    assert_eq!(refunded.method(), pb::PaymentMethod::Cash);
    assert_eq!(refunded.cash_drawer_session_id, x.session_id);
    let report = x.report.expect("a report");
    assert_eq!(report.cash_taken, Some(mxn(50_000)));
    assert_eq!(report.cash_out, Some(mxn(20_000)));
    assert_eq!(report.cash_refunded, Some(mxn(20_000)));
    assert_eq!(report.expected, Some(mxn(130_000)));
}

async fn retries_return_the_first_refund_and_write_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (_, payment) = patient_who_paid(&clinic).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let first = manager
        .refund_payment(refund(&payment.payment_id, 10_000, "refund-1"))
        .await
        .expect("refunded")
        .into_inner();
    let mut retries = Vec::new();
    for _ in 0..3 {
        retries.push(
            manager
                .refund_payment(refund(&payment.payment_id, 10_000, "refund-1"))
                .await
                .expect("retried")
                .into_inner(),
        );
    }
    let reused = manager
        .refund_payment(refund(&payment.payment_id, 20_000, "refund-1"))
        .await
        .expect_err("a different refund under the same key");

    // Assert
    for retry in retries {
        assert_eq!(retry, first);
    }
    assert_eq!(violated_fields(&reused), ["request_id"]);
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 3, "charge, payment and one refund");
}

async fn invalid_refunds_name_every_bad_field_and_write_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let nothing_right = manager
        .refund_payment(pb::RefundPaymentRequest {
            payment_id: "R-000001".into(),
            amount: Some(mxn(-1)),
            reason: "  ".into(),
            terminal_id: "counter 1".into(),
            request_id: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let unknown_payment = manager
        .refund_payment(refund(
            &clinic_common::ids::PaymentId::new().to_string(),
            100,
            "refund-1",
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(nothing_right.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&nothing_right),
        [
            "payment_id",
            "amount",
            "reason",
            "terminal_id",
            "request_id"
        ]
    );
    assert_eq!(unknown_payment.code(), Code::NotFound);
    assert!(
        whole_ledger(&mut clinic.client(Role::Service).await)
            .await
            .is_empty()
    );
}
