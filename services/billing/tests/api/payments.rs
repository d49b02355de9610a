//! Posting payments: methods, receipts, balances, validation and idempotency under retries and
//! concurrency.

use clinic_common::auth::Role;
use clinic_common::ids::PatientId;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Money;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, balance, card, cash, charge, mxn, transfer, whole_ledger};

backend_tests!(
    a_cash_payment_gives_change_and_the_first_receipt,
    receipts_are_numbered_in_order_across_methods,
    ten_sequential_retries_return_the_first_payment_and_write_once,
    eight_concurrent_calls_with_one_key_make_exactly_one_payment,
    reusing_a_request_id_for_a_different_payment_is_refused,
    an_overpayment_leaves_the_account_in_credit,
    invalid_payments_name_every_bad_field_and_write_nothing,
    a_payment_for_an_unregistered_patient_is_refused_and_writes_nothing,
    the_registry_being_down_makes_post_payment_unavailable_but_retries_still_answer,
    a_huge_bad_currency_code_is_quoted_only_in_part,
);

/// A registered patient owing `owed_minor` centavos for one consultation.
async fn patient_owing(clinic: &TestClinic, owed_minor: i64) -> String {
    let patient_id = clinic.register_patient().await;
    let code = format!("C-{}", &patient_id[..8].to_ascii_uppercase());
    clinic.add_item(&code, owed_minor).await;
    clinic
        .client(Role::Reception)
        .await
        .post_charge(charge(&patient_id, &code, &format!("charge-{patient_id}")))
        .await
        .expect("charged");
    patient_id
}

fn payments_in(ledger: &[pb::LedgerEntry]) -> usize {
    ledger
        .iter()
        .filter(|entry| entry.kind() == pb::LedgerEntryKind::Payment)
        .count()
}

async fn a_cash_payment_gives_change_and_the_first_receipt(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 90_000).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let payment = reception
        .post_payment(cash(&patient_id, 50_000, 100_000, "pay-cash"))
        .await
        .expect("paid")
        .into_inner();

    // Assert
    assert_eq!(payment.method(), pb::PaymentMethod::Cash);
    assert_eq!(payment.amount, Some(mxn(50_000)));
    assert_eq!(payment.tendered, Some(mxn(100_000)));
    assert_eq!(payment.change, Some(mxn(50_000)));
    assert_eq!(payment.receipt_number, "R-000001");
    assert_eq!(payment.balance_after, Some(mxn(40_000)));
    assert_eq!(payment.received_by, "reception:tester");
    assert_eq!(payment.request_id, "pay-cash");
    assert_eq!(payment.authorization_code, "");
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(40_000)));
    assert_eq!(account.total_paid, Some(mxn(50_000)));
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    let entry = ledger.last().expect("an entry");
    assert_eq!(entry.kind(), pb::LedgerEntryKind::Payment);
    assert_eq!(entry.source_id, payment.payment_id);
    assert_eq!(entry.amount, Some(mxn(-50_000)));
    assert_eq!(account.as_of_sequence, entry.sequence);
}

async fn receipts_are_numbered_in_order_across_methods(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 300_000).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let by_card = reception
        .post_payment(card(&patient_id, 100_000, "pay-1"))
        .await
        .expect("paid")
        .into_inner();
    let by_transfer = reception
        .post_payment(transfer(&patient_id, 100_000, "pay-2"))
        .await
        .expect("paid")
        .into_inner();
    let in_cash = reception
        .post_payment(cash(&patient_id, 100_000, 100_000, "pay-3"))
        .await
        .expect("paid")
        .into_inner();

    // Assert
    assert_eq!(
        [
            by_card.receipt_number.as_str(),
            by_transfer.receipt_number.as_str(),
            in_cash.receipt_number.as_str()
        ],
        ["R-000001", "R-000002", "R-000003"]
    );
    assert_eq!(by_card.method(), pb::PaymentMethod::Card);
    assert_eq!(by_card.authorization_code, "A1B2C3");
    assert_eq!(by_card.card_last_four, "4242");
    assert_eq!(by_card.card_type(), pb::CardType::Debit);
    assert_eq!(by_card.tendered, None);
    assert_eq!(by_transfer.method(), pb::PaymentMethod::BankTransfer);
    assert_eq!(by_transfer.transfer_reference, "SPEI 20261122 0001");
    assert_eq!(in_cash.change, Some(mxn(0)));
    assert_eq!(
        [
            by_card.balance_after,
            by_transfer.balance_after,
            in_cash.balance_after
        ],
        [Some(mxn(200_000)), Some(mxn(100_000)), Some(mxn(0))]
    );
}

async fn ten_sequential_retries_return_the_first_payment_and_write_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 90_000).await;
    let mut collections = clinic.client(Role::Collections).await;
    let first = collections
        .post_payment(card(&patient_id, 30_000, "pay-retried"))
        .await
        .expect("paid")
        .into_inner();

    // Act
    let mut retries = Vec::new();
    for _ in 0..10 {
        retries.push(
            collections
                .post_payment(card(&patient_id, 30_000, "pay-retried"))
                .await
                .expect("retried")
                .into_inner(),
        );
    }

    // Assert
    for retry in &retries {
        assert_eq!(retry, &first, "same payment_id, receipt and balance_after");
    }
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(payments_in(&ledger), 1);
    let account = balance(&mut collections, &patient_id).await;
    assert_eq!(account.total_paid, Some(mxn(30_000)));
    assert_eq!(account.balance, Some(mxn(60_000)));
    let next = collections
        .post_payment(card(&patient_id, 30_000, "pay-next"))
        .await
        .expect("paid")
        .into_inner();
    assert_eq!(
        next.receipt_number, "R-000002",
        "retries used no receipt number"
    );
}

async fn eight_concurrent_calls_with_one_key_make_exactly_one_payment(database: TestDatabase) {
    // Five keys, each sent by eight callers at once: enough rounds that first attempts really
    // do race inside the database, not only in the early lookup.
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 100_000).await;
    let reception = clinic.client(Role::Reception).await;

    for round in 1..=5 {
        // Act
        let mut calls = Vec::new();
        for _ in 0..8 {
            let mut client = reception.clone();
            let request = cash(
                &patient_id,
                20_000,
                50_000,
                &format!("pay-concurrent-{round}"),
            );
            calls.push(tokio::spawn(async move {
                client.post_payment(request).await.map(|r| r.into_inner())
            }));
        }
        let mut payments = Vec::new();
        for call in calls {
            payments.push(
                call.await
                    .expect("the call task ran")
                    .expect("every call succeeds"),
            );
        }

        // Assert
        for payment in &payments {
            assert_eq!(payment, &payments[0]);
        }
        assert_eq!(payments[0].receipt_number, format!("R-{round:06}"));
        assert_eq!(
            payments[0].balance_after,
            Some(mxn(100_000 - 20_000 * round))
        );
    }
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(payments_in(&ledger), 5, "one payment per key");
    let sequences: Vec<i64> = ledger.iter().map(|entry| entry.sequence).collect();
    assert_eq!(sequences, (1..=6).collect::<Vec<i64>>(), "no gaps");
    assert_eq!(
        balance(&mut clinic.client(Role::Manager).await, &patient_id)
            .await
            .balance,
        Some(mxn(0))
    );
}

async fn reusing_a_request_id_for_a_different_payment_is_refused(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 90_000).await;
    let other_patient = patient_owing(&clinic, 90_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let first = reception
        .post_payment(cash(&patient_id, 50_000, 50_000, "pay-reused"))
        .await
        .expect("paid")
        .into_inner();

    // Act
    let other_amount = reception
        .post_payment(cash(&patient_id, 40_000, 50_000, "pay-reused"))
        .await
        .expect_err("refused");
    let other_tendered = reception
        .post_payment(cash(&patient_id, 50_000, 60_000, "pay-reused"))
        .await
        .expect_err("refused");
    let for_someone_else = reception
        .post_payment(cash(&other_patient, 50_000, 50_000, "pay-reused"))
        .await
        .expect_err("refused");
    let other_method = reception
        .post_payment(card(&patient_id, 50_000, "pay-reused"))
        .await
        .expect_err("refused");

    // Assert
    for status in [other_amount, other_tendered, for_someone_else, other_method] {
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["request_id"]);
    }
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(payments_in(&ledger), 1);
    assert_eq!(
        balance(&mut reception, &other_patient).await.balance,
        Some(mxn(90_000))
    );
    let retry = reception
        .post_payment(cash(&patient_id, 50_000, 50_000, "pay-reused"))
        .await
        .expect("the real retry still works")
        .into_inner();
    assert_eq!(retry, first);
}

async fn an_overpayment_leaves_the_account_in_credit(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 40_000).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let payment = reception
        .post_payment(transfer(&patient_id, 50_000, "pay-over"))
        .await
        .expect("an overpayment is accepted")
        .into_inner();

    // Assert
    assert_eq!(payment.balance_after, Some(mxn(-10_000)));
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(-10_000)));
    assert_eq!(account.total_charged, Some(mxn(40_000)));
    assert_eq!(account.total_paid, Some(mxn(50_000)));
}

async fn invalid_payments_name_every_bad_field_and_write_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let nothing_right = reception
        .post_payment(pb::PostPaymentRequest {
            patient_id: "maria".into(),
            amount: Some(mxn(0)),
            method: None,
            request_id: "has spaces".into(),
            terminal_id: "counter 1".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let bad_card = reception
        .post_payment(pb::PostPaymentRequest {
            method: Some(pb::post_payment_request::Method::Card(pb::CardPayment {
                authorization_code: "12-34".into(),
                last_four: "42".into(),
                card_type: pb::CardType::Unspecified.into(),
            })),
            ..card(&patient_id, 10_000, "pay-bad-card")
        })
        .await
        .expect_err("refused");
    let too_little_cash = reception
        .post_payment(cash(&patient_id, 10_000, 9_999, "pay-short"))
        .await
        .expect_err("refused");
    let dollars_without_reference = reception
        .post_payment(pb::PostPaymentRequest {
            amount: Some(Money {
                minor_units: 10_000,
                currency_code: "USD".into(),
            }),
            method: Some(pb::post_payment_request::Method::BankTransfer(
                pb::BankTransferPayment {
                    reference: " ".into(),
                },
            )),
            ..transfer(&patient_id, 10_000, "pay-usd")
        })
        .await
        .expect_err("refused");
    let negative = reception
        .post_payment(cash(&patient_id, -5_000, 0, "pay-negative"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(nothing_right.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&nothing_right),
        [
            "patient_id",
            "amount",
            "method",
            "request_id",
            "terminal_id"
        ]
    );
    assert_eq!(
        violated_fields(&bad_card),
        [
            "card.authorization_code",
            "card.last_four",
            "card.card_type"
        ]
    );
    assert_eq!(violated_fields(&too_little_cash), ["cash.tendered"]);
    assert_eq!(
        violated_fields(&dollars_without_reference),
        ["amount", "bank_transfer.reference"]
    );
    assert_eq!(violated_fields(&negative), ["amount"]);
    assert!(
        whole_ledger(&mut clinic.client(Role::Service).await)
            .await
            .is_empty()
    );
    let first_real = reception
        .post_payment(cash(&patient_id, 10_000, 10_000, "pay-short"))
        .await
        .expect("paid")
        .into_inner();
    assert_eq!(first_real.receipt_number, "R-000001");
}

async fn a_payment_for_an_unregistered_patient_is_refused_and_writes_nothing(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    let stranger = PatientId::new().to_string();

    // Act
    let status = reception
        .post_payment(cash(&stranger, 10_000, 10_000, "pay-stranger"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["patient_id"]);
    assert!(
        whole_ledger(&mut clinic.client(Role::Service).await)
            .await
            .is_empty()
    );
    assert_eq!(
        balance(&mut reception, &stranger).await.balance,
        Some(mxn(0))
    );
}

async fn the_registry_being_down_makes_post_payment_unavailable_but_retries_still_answer(
    database: TestDatabase,
) {
    let mut clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 90_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let first = reception
        .post_payment(cash(&patient_id, 30_000, 30_000, "pay-up"))
        .await
        .expect("paid")
        .into_inner();

    // Act
    clinic.stop_registry().await;
    let refused = reception
        .post_payment(cash(&patient_id, 30_000, 30_000, "pay-down"))
        .await
        .expect_err("the registry cannot be asked");
    let retry = reception
        .post_payment(cash(&patient_id, 30_000, 30_000, "pay-up"))
        .await
        .expect("a retry is answered from billing's own records")
        .into_inner();

    // Assert
    assert_eq!(refused.code(), Code::Unavailable);
    assert_eq!(retry, first);
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(payments_in(&ledger), 1);
}

async fn a_huge_bad_currency_code_is_quoted_only_in_part(database: TestDatabase) {
    // Arrange: a 300 KB currency code; repeated in full, the error would outgrow what clients
    // accept and they would see RESOURCE_EXHAUSTED instead.
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let huge = Money {
        minor_units: 10_000,
        currency_code: "X".repeat(300_000),
    };

    // Act
    let payment = clinic
        .client(Role::Reception)
        .await
        .post_payment(pb::PostPaymentRequest {
            amount: Some(huge.clone()),
            ..cash(&patient_id, 10_000, 10_000, "pay-huge")
        })
        .await
        .expect_err("refused");
    let write_off = clinic
        .client(Role::Manager)
        .await
        .write_off_charge(pb::WriteOffChargeRequest {
            charge_id: clinic_common::ids::ChargeId::new().to_string(),
            amount: Some(huge),
            reason: "Incobrable".into(),
            request_id: "write-off-huge".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    for status in [payment, write_off] {
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.code());
        assert_eq!(violated_fields(&status), ["amount"]);
        assert!(status.message().len() < 200, "{}", status.message());
        assert!(
            status.message().contains(&format!("{:?}…", "X".repeat(32))),
            "{}",
            status.message()
        );
    }
}
