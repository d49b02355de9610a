//! Corrections of posted charges: adjustments either way, credit notes and write-offs, each a new
//! ledger entry naming the charge; money a correction frees from a paid charge becomes advance.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Money;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, balance, card, charge, mxn, whole_ledger};

backend_tests!(
    an_adjustment_corrects_a_charge_either_way_and_the_feed_names_the_charge,
    a_credit_note_on_a_paid_charge_frees_money_that_a_refund_can_give_back,
    credit_notes_are_numbered_in_order,
    a_write_off_takes_at_most_what_is_outstanding,
    no_correction_takes_a_charge_below_zero,
    retries_return_the_first_correction_and_write_once,
    invalid_corrections_name_every_bad_field_and_write_nothing,
    collections_corrects_a_disputed_charge_with_a_service_token,
);

/// A registered patient charged `minor` centavos for one item; returns the patient and charge.
async fn patient_charged(clinic: &TestClinic, minor: i64) -> (String, pb::Charge) {
    let patient_id = clinic.register_patient().await;
    let code = format!(
        "C-{}",
        &patient_id[patient_id.len() - 8..].to_ascii_uppercase()
    );
    clinic.add_item(&code, minor).await;
    let charge = clinic
        .client(Role::Reception)
        .await
        .post_charge(charge(&patient_id, &code, &format!("charge-{patient_id}")))
        .await
        .expect("charged")
        .into_inner();
    (patient_id, charge)
}

fn adjustment(charge_id: &str, minor: i64, request_id: &str) -> pb::PostAdjustmentRequest {
    pb::PostAdjustmentRequest {
        charge_id: charge_id.into(),
        amount: Some(mxn(minor)),
        reason: "Precio capturado mal".into(),
        request_id: request_id.into(),
    }
}

fn credit_note(charge_id: &str, minor: i64, request_id: &str) -> pb::IssueCreditNoteRequest {
    pb::IssueCreditNoteRequest {
        charge_id: charge_id.into(),
        amount: Some(mxn(minor)),
        reason: "Cobro duplicado".into(),
        request_id: request_id.into(),
    }
}

fn write_off(charge_id: &str, minor: i64, request_id: &str) -> pb::WriteOffChargeRequest {
    pb::WriteOffChargeRequest {
        charge_id: charge_id.into(),
        amount: Some(mxn(minor)),
        reason: "Incobrable tras 120 días".into(),
        request_id: request_id.into(),
    }
}

async fn open_charges(client: &mut Client, patient_id: &str) -> pb::ListOpenChargesResponse {
    client
        .list_open_charges(pb::ListOpenChargesRequest {
            patient_id: patient_id.into(),
        })
        .await
        .expect("open charges are read")
        .into_inner()
}

async fn an_adjustment_corrects_a_charge_either_way_and_the_feed_names_the_charge(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charge) = patient_charged(&clinic, 80_000).await;
    let mut manager = clinic.client_as(Role::Manager, "manager:luis").await;

    // Act
    let up = manager
        .post_adjustment(adjustment(&charge.charge_id, 10_000, "adjust-up"))
        .await
        .expect("adjusted")
        .into_inner();
    let down = manager
        .post_adjustment(adjustment(&charge.charge_id, -30_000, "adjust-down"))
        .await
        .expect("adjusted")
        .into_inner();

    // Assert
    assert_eq!(up.kind(), pb::CorrectionKind::Adjustment);
    assert_eq!(up.amount, Some(mxn(10_000)));
    assert_eq!(up.balance_after, Some(mxn(90_000)));
    assert_eq!(down.amount, Some(mxn(-30_000)));
    assert_eq!(down.balance_after, Some(mxn(60_000)));
    assert_eq!(down.released_to_advance, Some(mxn(0)));
    assert_eq!(down.created_by, "manager:luis");
    assert_eq!(down.credit_note_number, "");
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    let adjustments: Vec<(pb::LedgerEntryKind, i64, &str, &str)> = ledger
        .iter()
        .skip(1)
        .map(|entry| {
            (
                entry.kind(),
                entry.amount.as_ref().map_or(0, |money| money.minor_units),
                entry.source_id.as_str(),
                entry.related_source_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        adjustments,
        [
            (
                pb::LedgerEntryKind::Adjustment,
                10_000,
                up.correction_id.as_str(),
                charge.charge_id.as_str()
            ),
            (
                pb::LedgerEntryKind::Adjustment,
                -30_000,
                down.correction_id.as_str(),
                charge.charge_id.as_str()
            ),
        ]
    );
    assert_eq!(
        ledger[0].related_source_id, "",
        "a charge relates to nothing"
    );
    let account = balance(&mut manager, &patient_id).await;
    assert_eq!(account.balance, Some(mxn(60_000)));
    assert_eq!(account.total_charged, Some(mxn(80_000)));
    assert_eq!(account.total_corrections, Some(mxn(-20_000)));
    let open = open_charges(&mut manager, &patient_id).await;
    assert_eq!(open.charges.len(), 1);
    assert_eq!(open.charges[0].due, Some(mxn(60_000)));
    assert_eq!(open.charges[0].outstanding, Some(mxn(60_000)));
    let statement = manager
        .get_statement(pb::GetStatementRequest {
            patient_id: patient_id.clone(),
            ..Default::default()
        })
        .await
        .expect("statement")
        .into_inner();
    let last = statement.lines.last().expect("three lines");
    assert_eq!(last.kind(), pb::LedgerEntryKind::Adjustment);
    assert_eq!(last.reason, "Precio capturado mal");
    assert_eq!(last.price_code, charge.price_code);
    assert_eq!(
        last.description,
        format!("Adjustment on {}: Precio capturado mal", charge.price_code)
    );
    assert_eq!(statement.closing_balance, Some(mxn(60_000)));
}

async fn a_credit_note_on_a_paid_charge_frees_money_that_a_refund_can_give_back(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charge) = patient_charged(&clinic, 80_000).await;
    let payment = clinic
        .client(Role::Reception)
        .await
        .post_payment(card(&patient_id, 80_000, "pay-all"))
        .await
        .expect("paid")
        .into_inner();
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let credited = manager
        .issue_credit_note(credit_note(&charge.charge_id, 30_000, "credit-1"))
        .await
        .expect("credited")
        .into_inner();
    let in_credit = balance(&mut manager, &patient_id).await;
    let refunded = manager
        .refund_payment(pb::RefundPaymentRequest {
            payment_id: payment.payment_id.clone(),
            amount: Some(mxn(30_000)),
            reason: "Devolución de la nota de crédito".into(),
            terminal_id: String::new(),
            request_id: "refund-credit".into(),
            ..Default::default()
        })
        .await
        .expect("refunded")
        .into_inner();

    // Assert
    assert_eq!(credited.kind(), pb::CorrectionKind::CreditNote);
    assert_eq!(credited.amount, Some(mxn(-30_000)));
    assert_eq!(credited.credit_note_number, "NC-000001");
    assert_eq!(credited.released_to_advance, Some(mxn(30_000)));
    assert_eq!(credited.balance_after, Some(mxn(-30_000)));
    assert_eq!(in_credit.advance, Some(mxn(30_000)));
    assert_eq!(in_credit.outstanding, Some(mxn(0)));
    assert_eq!(refunded.balance_after, Some(mxn(0)));
    let settled = balance(&mut manager, &patient_id).await;
    assert_eq!(settled.balance, Some(mxn(0)));
    assert_eq!(settled.advance, Some(mxn(0)));
    assert_eq!(settled.outstanding, Some(mxn(0)));
    assert!(
        open_charges(&mut manager, &patient_id)
            .await
            .charges
            .is_empty(),
        "the refund came out of the advance, not the charge"
    );
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    let credit_entry = ledger
        .iter()
        .find(|entry| entry.kind() == pb::LedgerEntryKind::CreditNote)
        .expect("the credit note is in the feed");
    assert_eq!(credit_entry.related_source_id, charge.charge_id);
    assert_eq!(credit_entry.amount, Some(mxn(-30_000)));
}

async fn credit_notes_are_numbered_in_order(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (_, first) = patient_charged(&clinic, 80_000).await;
    let (_, second) = patient_charged(&clinic, 50_000).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let mut numbers = Vec::new();
    for (index, charge) in [&first, &second, &first].into_iter().enumerate() {
        numbers.push(
            manager
                .issue_credit_note(credit_note(
                    &charge.charge_id,
                    1_000,
                    &format!("nc-{index}"),
                ))
                .await
                .expect("credited")
                .into_inner()
                .credit_note_number,
        );
    }

    // Assert
    assert_eq!(numbers, ["NC-000001", "NC-000002", "NC-000003"]);
}

async fn a_write_off_takes_at_most_what_is_outstanding(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charge) = patient_charged(&clinic, 80_000).await;
    clinic
        .client(Role::Reception)
        .await
        .post_payment(card(&patient_id, 50_000, "pay-part"))
        .await
        .expect("paid");
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let too_much = manager
        .write_off_charge(write_off(&charge.charge_id, 30_001, "write-off-too-much"))
        .await
        .expect_err("refused");
    let written_off = manager
        .write_off_charge(write_off(&charge.charge_id, 30_000, "write-off"))
        .await
        .expect("written off")
        .into_inner();

    // Assert
    assert_eq!(too_much.code(), Code::FailedPrecondition);
    assert_eq!(
        too_much.message(),
        "a write-off may take at most $300.00 off this charge, what is outstanding on it"
    );
    assert_eq!(written_off.kind(), pb::CorrectionKind::WriteOff);
    assert_eq!(written_off.amount, Some(mxn(-30_000)));
    assert_eq!(written_off.balance_after, Some(mxn(0)));
    assert!(
        open_charges(&mut manager, &patient_id)
            .await
            .charges
            .is_empty()
    );
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(
        ledger.last().map(|entry| entry.kind()),
        Some(pb::LedgerEntryKind::WriteOff)
    );
    assert_eq!(ledger.len(), 3, "the refused write-off wrote nothing");
}

async fn no_correction_takes_a_charge_below_zero(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (_, charge) = patient_charged(&clinic, 80_000).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let adjusted = manager
        .post_adjustment(adjustment(&charge.charge_id, -80_001, "adjust-too-much"))
        .await
        .expect_err("refused");
    let credited = manager
        .issue_credit_note(credit_note(&charge.charge_id, 80_001, "credit-too-much"))
        .await
        .expect_err("refused");
    let to_zero = manager
        .issue_credit_note(credit_note(&charge.charge_id, 80_000, "credit-all"))
        .await
        .expect("a charge may be credited in full")
        .into_inner();

    // Assert
    assert_eq!(adjusted.code(), Code::FailedPrecondition);
    assert_eq!(credited.code(), Code::FailedPrecondition);
    assert!(credited.message().contains("$800.00"), "{credited:?}");
    assert_eq!(to_zero.balance_after, Some(mxn(0)));
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 2);
}

async fn retries_return_the_first_correction_and_write_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (_, charge) = patient_charged(&clinic, 80_000).await;
    let mut manager = clinic.client(Role::Manager).await;
    let request = credit_note(&charge.charge_id, 10_000, "credit-retried");

    // Act
    let mut answers = Vec::new();
    for _ in 0..10 {
        answers.push(
            manager
                .issue_credit_note(request.clone())
                .await
                .expect("answered")
                .into_inner(),
        );
    }
    let reused = manager
        .issue_credit_note(credit_note(&charge.charge_id, 20_000, "credit-retried"))
        .await
        .expect_err("refused");
    let same_key_other_kind = manager
        .post_adjustment(adjustment(&charge.charge_id, -10_000, "credit-retried"))
        .await
        .expect("keys are scoped per operation")
        .into_inner();

    // Assert
    assert!(answers.iter().all(|answer| *answer == answers[0]));
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_ne!(same_key_other_kind.correction_id, answers[0].correction_id);
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(
        ledger.len(),
        3,
        "the charge, one credit note, one adjustment"
    );
}

async fn invalid_corrections_name_every_bad_field_and_write_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (_, charge) = patient_charged(&clinic, 80_000).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let bad_adjustment = manager
        .post_adjustment(pb::PostAdjustmentRequest {
            charge_id: "not-a-charge".into(),
            amount: Some(mxn(0)),
            reason: "  ".into(),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let negative_credit = manager
        .issue_credit_note(credit_note(&charge.charge_id, -1_000, "credit-negative"))
        .await
        .expect_err("refused");
    let in_dollars = manager
        .write_off_charge(pb::WriteOffChargeRequest {
            amount: Some(Money {
                minor_units: 1_000,
                currency_code: "USD".into(),
            }),
            ..write_off(&charge.charge_id, 1_000, "write-off-usd")
        })
        .await
        .expect_err("refused");
    let unknown = manager
        .issue_credit_note(credit_note(
            &clinic_common::ids::ChargeId::new().to_string(),
            1_000,
            "credit-unknown",
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(bad_adjustment.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad_adjustment),
        ["charge_id", "amount", "reason", "request_id"]
    );
    assert_eq!(violated_fields(&negative_credit), ["amount"]);
    assert_eq!(violated_fields(&in_dollars), ["amount"]);
    assert_eq!(unknown.code(), Code::NotFound);
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(ledger.len(), 1, "only the charge");
}

async fn collections_corrects_a_disputed_charge_with_a_service_token(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let (patient_id, charge) = patient_charged(&clinic, 80_000).await;
    let mut collections_service = clinic.client_as(Role::Service, "collections").await;
    let mut collector = clinic.client(Role::Collections).await;

    // Act
    let by_collector = collector
        .issue_credit_note(credit_note(&charge.charge_id, 20_000, "dispute-1"))
        .await
        .expect_err("a collector asks through the collections service");
    let by_service = collections_service
        .issue_credit_note(credit_note(&charge.charge_id, 20_000, "dispute-1"))
        .await
        .expect("the service answers the dispute")
        .into_inner();

    // Assert
    assert_eq!(by_collector.code(), Code::PermissionDenied);
    assert_eq!(by_service.created_by, "collections");
    assert_eq!(by_service.balance_after, Some(mxn(60_000)));
    assert_eq!(
        balance(&mut collector, &patient_id).await.balance,
        Some(mxn(60_000))
    );
}
