//! Payments split across methods and payments from the patient's advance: one receipt, one
//! ledger entry for the new money only, the cash part alone in the drawer, and refunds by part.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::payment_part_request::Method as PartMethod;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, balance, card, charge, mxn, whole_ledger};

backend_tests!(
    a_payment_split_across_card_and_cash_puts_only_the_cash_in_the_drawer,
    an_overpayment_becomes_an_advance_that_pays_a_later_charge,
    a_payment_entirely_from_the_advance_has_a_receipt_but_no_ledger_entry,
    the_advance_cannot_be_overdrawn_nor_drawn_for_nothing,
    bad_parts_are_named_and_write_nothing,
    a_split_payment_is_refunded_part_by_part,
);

fn cash_part(minor: i64, tendered_minor: i64) -> pb::PaymentPartRequest {
    pb::PaymentPartRequest {
        amount: Some(mxn(minor)),
        method: Some(PartMethod::Cash(pb::CashPayment {
            tendered: Some(mxn(tendered_minor)),
        })),
    }
}

fn card_part(minor: i64, last_four: &str) -> pb::PaymentPartRequest {
    pb::PaymentPartRequest {
        amount: Some(mxn(minor)),
        method: Some(PartMethod::Card(pb::CardPayment {
            authorization_code: "AUTH77".into(),
            last_four: last_four.into(),
            card_type: pb::CardType::Credit.into(),
        })),
    }
}

fn advance_part(minor: i64) -> pb::PaymentPartRequest {
    pb::PaymentPartRequest {
        amount: Some(mxn(minor)),
        method: Some(PartMethod::Advance(pb::AdvancePayment {})),
    }
}

fn in_parts(
    patient_id: &str,
    parts: Vec<pb::PaymentPartRequest>,
    request_id: &str,
) -> pb::PostPaymentRequest {
    pb::PostPaymentRequest {
        patient_id: patient_id.into(),
        parts,
        request_id: request_id.into(),
        ..Default::default()
    }
}

/// A registered patient charged `minor` for an item of their own.
async fn patient_owing(clinic: &TestClinic, minor: i64) -> String {
    let patient_id = clinic.register_patient().await;
    charge_again(clinic, &patient_id, minor, "first").await;
    patient_id
}

async fn charge_again(clinic: &TestClinic, patient_id: &str, minor: i64, tag: &str) -> pb::Charge {
    let code = format!(
        "S-{}",
        &patient_id[patient_id.len() - 8..].to_ascii_uppercase()
    );
    let code = format!("{code}-{minor}");
    clinic.add_item(&code, minor).await;
    clinic
        .client(Role::Reception)
        .await
        .post_charge(charge(
            patient_id,
            &code,
            &format!("charge-{patient_id}-{tag}"),
        ))
        .await
        .expect("charged")
        .into_inner()
}

async fn payments_in(client: &mut Client) -> usize {
    whole_ledger(client)
        .await
        .iter()
        .filter(|entry| entry.kind() == pb::LedgerEntryKind::Payment)
        .count()
}

async fn a_payment_split_across_card_and_cash_puts_only_the_cash_in_the_drawer(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 150_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
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

    // Act
    let payment = reception
        .post_payment(pb::PostPaymentRequest {
            terminal_id: "counter-1".into(),
            ..in_parts(
                &patient_id,
                vec![card_part(100_000, "4242"), cash_part(50_000, 100_000)],
                "pay-split",
            )
        })
        .await
        .expect("paid")
        .into_inner();
    // A manager's view: reception's is blind.
    let drawer = clinic
        .client(Role::Manager)
        .await
        .get_cash_drawer(pb::GetCashDrawerRequest {
            terminal_id: "counter-1".into(),
            ..Default::default()
        })
        .await
        .expect("the drawer")
        .into_inner();
    let receipt = reception
        .render_receipt(pb::RenderReceiptRequest {
            payment_id: payment.payment_id.clone(),
            format: pb::ReceiptFormat::Pdf.into(),
        })
        .await
        .expect("a receipt")
        .into_inner();

    // Assert
    assert_eq!(payment.method(), pb::PaymentMethod::Split);
    assert_eq!(payment.amount, Some(mxn(150_000)));
    assert_eq!(payment.received, Some(mxn(150_000)));
    assert_eq!(payment.change, Some(mxn(50_000)), "the cash part's change");
    assert_eq!(payment.balance_after, Some(mxn(0)));
    let parts: Vec<(i32, pb::PaymentMethod, i64)> = payment
        .parts
        .iter()
        .map(|part| {
            (
                part.position,
                part.method(),
                part.amount.as_ref().map_or(0, |money| money.minor_units),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            (1, pb::PaymentMethod::Card, 100_000),
            (2, pb::PaymentMethod::Cash, 50_000)
        ]
    );
    assert_eq!(payment.parts[0].card_last_four, "4242");
    assert_eq!(payment.parts[0].cash_drawer_session_id, "");
    assert_eq!(payment.parts[1].cash_drawer_session_id, drawer.session_id);
    let report = drawer.report.expect("an X report");
    assert_eq!(report.cash_taken, Some(mxn(100_000)));
    assert_eq!(report.change_given, Some(mxn(50_000)));
    assert_eq!(report.cash_payment_count, 1);
    assert_eq!(report.expected, Some(mxn(150_000)));
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(
        ledger.len(),
        2,
        "one charge, one payment entry for both parts"
    );
    assert_eq!(ledger[1].amount, Some(mxn(-150_000)));
    assert!(receipt.content.starts_with(b"%PDF"));
}

async fn an_overpayment_becomes_an_advance_that_pays_a_later_charge(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 80_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let overpaid = reception
        .post_payment(card(&patient_id, 100_000, "pay-1000"))
        .await
        .expect("paid")
        .into_inner();
    let later = charge_again(&clinic, &patient_id, 50_000, "later").await;

    // Act
    let payment = reception
        .post_payment(in_parts(
            &patient_id,
            vec![advance_part(20_000), card_part(30_000, "1111")],
            "pay-advance-and-card",
        ))
        .await
        .expect("paid")
        .into_inner();

    // Assert
    assert_eq!(overpaid.advance_after, Some(mxn(20_000)));
    assert_eq!(overpaid.balance_after, Some(mxn(-20_000)));
    assert_eq!(payment.amount, Some(mxn(50_000)));
    assert_eq!(payment.received, Some(mxn(30_000)));
    assert_eq!(payment.advance_after, Some(mxn(0)));
    assert_eq!(payment.balance_after, Some(mxn(0)));
    assert_eq!(payment.allocations.len(), 1);
    assert_eq!(payment.allocations[0].charge_id, later.charge_id);
    assert_eq!(payment.allocations[0].amount, Some(mxn(50_000)));
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    let last = ledger.last().expect("entries");
    assert_eq!(last.kind(), pb::LedgerEntryKind::Payment);
    assert_eq!(last.amount, Some(mxn(-30_000)), "only the new money");
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(0)));
    assert_eq!(account.advance, Some(mxn(0)));
    assert_eq!(account.outstanding, Some(mxn(0)));
    assert_eq!(account.total_paid, Some(mxn(130_000)));
}

async fn a_payment_entirely_from_the_advance_has_a_receipt_but_no_ledger_entry(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .post_payment(card(&patient_id, 30_000, "deposit"))
        .await
        .expect("an advance paid before any charge");
    let charge = charge_again(&clinic, &patient_id, 25_000, "treatment").await;
    let entries_before = whole_ledger(&mut clinic.client(Role::Service).await)
        .await
        .len();

    // Act
    let payment = reception
        .post_payment(pb::PostPaymentRequest {
            patient_id: patient_id.clone(),
            amount: Some(mxn(25_000)),
            method: Some(pb::post_payment_request::Method::Advance(
                pb::AdvancePayment {},
            )),
            request_id: "pay-from-advance".into(),
            ..Default::default()
        })
        .await
        .expect("paid from the advance")
        .into_inner();
    let receipt = reception
        .render_receipt(pb::RenderReceiptRequest {
            payment_id: payment.payment_id.clone(),
            format: pb::ReceiptFormat::Escpos.into(),
        })
        .await
        .expect("a receipt")
        .into_inner();

    // Assert
    assert_eq!(payment.method(), pb::PaymentMethod::Advance);
    assert_eq!(payment.received, Some(mxn(0)));
    assert_eq!(payment.receipt_number, "R-000002");
    assert_eq!(payment.allocations[0].charge_id, charge.charge_id);
    assert_eq!(payment.advance_after, Some(mxn(5_000)));
    assert_eq!(payment.balance_after, Some(mxn(-5_000)));
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), entries_before, "no money moved, no entry");
    let text = String::from_utf8_lossy(&receipt.content);
    assert!(text.contains("Saldo a favor aplicado"), "{text}");
}

async fn the_advance_cannot_be_overdrawn_nor_drawn_for_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 80_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .post_payment(card(&patient_id, 100_000, "pay-1000"))
        .await
        .expect("paid, 200.00 left as advance");
    charge_again(&clinic, &patient_id, 10_000, "small").await;

    // Act
    let overdrawn = reception
        .post_payment(in_parts(
            &patient_id,
            vec![advance_part(30_000)],
            "pay-too-much-advance",
        ))
        .await
        .expect_err("refused");
    let for_nothing = reception
        .post_payment(in_parts(
            &patient_id,
            vec![advance_part(20_000)],
            "pay-advance-beyond-charges",
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(overdrawn.code(), Code::FailedPrecondition);
    assert_eq!(
        overdrawn.message(),
        "the patient's advance holds only $200.00"
    );
    assert_eq!(for_nothing.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&for_nothing), ["parts"]);
    assert_eq!(
        payments_in(&mut clinic.client(Role::Service).await).await,
        1
    );
}

async fn bad_parts_are_named_and_write_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 80_000).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let both = reception
        .post_payment(pb::PostPaymentRequest {
            amount: Some(mxn(1_000)),
            ..in_parts(&patient_id, vec![card_part(1_000, "4242")], "pay-both")
        })
        .await
        .expect_err("refused");
    let two_cash = reception
        .post_payment(in_parts(
            &patient_id,
            vec![cash_part(1_000, 1_000), cash_part(2_000, 2_000)],
            "pay-two-cash",
        ))
        .await
        .expect_err("refused");
    let bad_details = reception
        .post_payment(in_parts(
            &patient_id,
            vec![
                card_part(1_000, "42"),
                cash_part(2_000, 1_000),
                pb::PaymentPartRequest {
                    amount: Some(mxn(0)),
                    method: None,
                },
            ],
            "pay-bad-details",
        ))
        .await
        .expect_err("refused");
    let kiosk_cash = clinic
        .client(Role::Kiosk)
        .await
        .post_payment(pb::PostPaymentRequest {
            identity: Some(pb::IdentityEvidence {
                date_of_birth: Some(clinic_proto::common::v1::Date {
                    year: 1990,
                    month: 7,
                    day: 2,
                }),
                phone_last_four: "2222".into(),
            }),
            ..in_parts(
                &patient_id,
                vec![card_part(1_000, "4242"), cash_part(1_000, 1_000)],
                "pay-kiosk-cash",
            )
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(violated_fields(&both), ["parts"]);
    assert_eq!(violated_fields(&two_cash), ["parts"]);
    assert_eq!(
        violated_fields(&bad_details),
        [
            "parts[0].card.last_four",
            "parts[1].cash.tendered",
            "parts[2].amount",
            "parts[2].method"
        ]
    );
    assert_eq!(violated_fields(&kiosk_cash), ["parts[1].method"]);
    assert_eq!(
        payments_in(&mut clinic.client(Role::Service).await).await,
        0
    );
}

async fn a_split_payment_is_refunded_part_by_part(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_owing(&clinic, 150_000).await;
    let payment = clinic
        .client(Role::Reception)
        .await
        .post_payment(in_parts(
            &patient_id,
            vec![card_part(100_000, "4242"), cash_part(50_000, 50_000)],
            "pay-split",
        ))
        .await
        .expect("paid")
        .into_inner();
    let mut manager = clinic.client(Role::Manager).await;
    let refund = |part: i32, minor: i64, request_id: &str| pb::RefundPaymentRequest {
        payment_id: payment.payment_id.clone(),
        amount: Some(mxn(minor)),
        reason: "Servicio no realizado".into(),
        request_id: request_id.into(),
        part,
        ..Default::default()
    };

    // Act
    let unnamed = manager
        .refund_payment(refund(0, 10_000, "refund-unnamed"))
        .await
        .expect_err("refused");
    let beyond_the_part = manager
        .refund_payment(refund(2, 50_001, "refund-beyond"))
        .await
        .expect_err("refused");
    let no_such_part = manager
        .refund_payment(refund(3, 1_000, "refund-no-part"))
        .await
        .expect_err("refused");
    let cash_back = manager
        .refund_payment(refund(2, 20_000, "refund-cash"))
        .await
        .expect("refunded")
        .into_inner();

    // Assert
    assert_eq!(violated_fields(&unnamed), ["part"]);
    assert_eq!(beyond_the_part.code(), Code::FailedPrecondition);
    assert!(
        beyond_the_part.message().contains("$500.00"),
        "{beyond_the_part:?}"
    );
    assert_eq!(violated_fields(&no_such_part), ["part"]);
    assert_eq!(cash_back.method(), pb::PaymentMethod::Cash);
    assert_eq!(cash_back.part, 2);
    assert_eq!(cash_back.balance_after, Some(mxn(20_000)));
}
