//! Corrections of charges: adjustments, credit notes and write-offs, and corrections on the wire.

use clinic_common::Money;
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_to_proto, money_from_proto, money_to_proto};

use super::{Reading, charge_id, positive_money};
use crate::domain::{Correction, CorrectionKind, NewCorrection, optional_reason};

pub(super) fn correction_kind_to_proto(kind: CorrectionKind) -> pb::CorrectionKind {
    match kind {
        CorrectionKind::Adjustment => pb::CorrectionKind::Adjustment,
        CorrectionKind::CreditNote => pb::CorrectionKind::CreditNote,
        CorrectionKind::WriteOff => pb::CorrectionKind::WriteOff,
    }
}

/// A correction request of `kind`: the charge, the amount as the client states it (signed for
/// adjustments; for credit notes and write-offs, the positive amount taken off), the reason and
/// the key.
fn correction(
    kind: CorrectionKind,
    charge_id_text: &str,
    amount: Option<&clinic_proto::common::v1::Money>,
    reason: &str,
    request_id: &str,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    let mut violations = FieldViolations::new();
    let charge_id = violations.check("charge_id", charge_id(charge_id_text));
    let amount = match kind {
        CorrectionKind::Adjustment => violations.check(
            "amount",
            money_from_proto(amount, reading.currency).and_then(|amount| {
                if amount.is_zero() {
                    Err("must not be zero".to_owned())
                } else {
                    Ok(amount)
                }
            }),
        ),
        CorrectionKind::CreditNote | CorrectionKind::WriteOff => violations
            .check("amount", positive_money(amount, reading))
            .map(Money::negated),
    };
    let reason = violations.check(
        "reason",
        optional_reason(reason).and_then(|reason| reason.ok_or_else(|| "is required".to_owned())),
    );
    let request_id = violations.check("request_id", RequestId::parse(request_id));
    match (charge_id, amount, reason, request_id) {
        (Some(charge_id), Some(amount), Some(reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewCorrection {
                kind,
                charge_id,
                amount,
                reason,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn new_adjustment(
    request: &pb::PostAdjustmentRequest,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    correction(
        CorrectionKind::Adjustment,
        &request.charge_id,
        request.amount.as_ref(),
        &request.reason,
        &request.request_id,
        reading,
    )
}

pub fn new_credit_note(
    request: &pb::IssueCreditNoteRequest,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    correction(
        CorrectionKind::CreditNote,
        &request.charge_id,
        request.amount.as_ref(),
        &request.reason,
        &request.request_id,
        reading,
    )
}

pub fn new_write_off(
    request: &pb::WriteOffChargeRequest,
    reading: &Reading,
) -> Result<NewCorrection, FieldViolations> {
    correction(
        CorrectionKind::WriteOff,
        &request.charge_id,
        request.amount.as_ref(),
        &request.reason,
        &request.request_id,
        reading,
    )
}

pub fn correction_to_proto(correction: &Correction) -> pb::ChargeCorrection {
    let kind = correction_kind_to_proto(correction.kind);
    pb::ChargeCorrection {
        correction_id: correction.correction_id.to_string(),
        kind: kind.into(),
        patient_id: correction.patient_id.to_string(),
        charge_id: correction.charge_id.to_string(),
        amount: Some(money_to_proto(correction.amount)),
        reason: correction.reason.clone(),
        credit_note_number: correction
            .credit_note_number
            .map(|number| number.to_string())
            .unwrap_or_default(),
        released_to_advance: Some(money_to_proto(correction.released)),
        balance_after: Some(money_to_proto(correction.balance_after)),
        service_date: Some(date_to_proto(correction.service_date)),
        created_by: correction.created_by.clone(),
        request_id: correction.request_id.as_str().to_owned(),
        create_time: Some(timestamp_to_proto(correction.created_at)),
        ledger_sequence: correction.ledger_sequence,
    }
}
