//! Disputes and their answers, and escalations.

use clinic_common::Currency;
use clinic_common::ids::RequestId;
use clinic_common::validation::{FieldViolations, required_text};
use clinic_proto::collections::v1 as pb;
use clinic_proto::{money_to_proto, timestamp_to_proto};

use super::contact::billing_issue_to;
use super::{REASON_MAX_CHARS, days_to_proto, patient_id_from, positive_money};
use crate::domain::{
    CollectionsError, Dispute, DisputeAnswer, Escalation, EscalationTarget, NewAnswer,
    NewEscalation, Notes,
};

pub fn dispute_to_proto(dispute: &Dispute) -> pb::Dispute {
    let answer = dispute.answer.as_ref();
    pb::Dispute {
        dispute_id: dispute.dispute_id.clone(),
        patient_id: dispute.patient_id.to_string(),
        contact_id: dispute.contact_id.clone().unwrap_or_default(),
        billing_issue: billing_issue_to(dispute.billing_issue) as i32,
        open_time: Some(timestamp_to_proto(dispute.opened_at)),
        answer_time: answer.map(|given| timestamp_to_proto(given.answered_at)),
        answer: answer.map_or(pb::DisputeAnswer::Unspecified, |given| match given.answer {
            DisputeAnswer::CorrectedCharge => pb::DisputeAnswer::CorrectedCharge,
            DisputeAnswer::CreditNote => pb::DisputeAnswer::CreditNote,
            DisputeAnswer::Upheld => pb::DisputeAnswer::Upheld,
        }) as i32,
        answer_note: answer.map(|given| given.note.clone()).unwrap_or_default(),
        billing_reference: answer
            .and_then(|given| given.billing_reference.clone())
            .unwrap_or_default(),
        answered_by: answer
            .map(|given| given.answered_by.clone())
            .unwrap_or_default(),
    }
}

/// An `AnswerDispute` request, read; every bad field is named.
pub fn new_answer(
    request: &pb::AnswerDisputeRequest,
    currency: Currency,
) -> Result<NewAnswer, CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let answer = match pb::DisputeAnswer::try_from(request.answer) {
        Ok(pb::DisputeAnswer::CorrectedCharge) => Some(DisputeAnswer::CorrectedCharge),
        Ok(pb::DisputeAnswer::CreditNote) => Some(DisputeAnswer::CreditNote),
        Ok(pb::DisputeAnswer::Upheld) => Some(DisputeAnswer::Upheld),
        Ok(pb::DisputeAnswer::Unspecified) => {
            violations.add("answer", "is required");
            None
        }
        Err(_) => {
            violations.add("answer", "is not a known answer");
            None
        }
    };
    let note = violations.check("answer_note", Notes::parse(&request.answer_note));
    let correction = match answer {
        Some(answer) if answer.corrects_the_charge() => {
            let charge_id = if request.charge_id.trim().is_empty() {
                violations.add("charge_id", "is required to correct the charge");
                None
            } else {
                Some(request.charge_id.trim().to_owned())
            };
            let amount =
                violations.check("amount", positive_money(request.amount.as_ref(), currency));
            charge_id.zip(amount).map(Some)
        }
        _ => Some(None),
    };
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, answer, note, correction, request_id) {
        (Some(patient_id), Some(answer), Some(note), Some(correction), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewAnswer {
                patient_id,
                answer,
                note: note.as_str().to_owned(),
                correction,
                billing_reference: None,
                request_id,
            })
        }
        _ => Err(violations.into()),
    }
}

pub fn escalation_to_proto(escalation: &Escalation) -> pb::Escalation {
    pb::Escalation {
        escalation_id: escalation.escalation_id.clone(),
        patient_id: escalation.patient_id.to_string(),
        target: match escalation.target {
            EscalationTarget::Manager => pb::EscalationTarget::Manager,
            EscalationTarget::ExternalAgency => pb::EscalationTarget::ExternalAgency,
            EscalationTarget::WriteOffProposal => pb::EscalationTarget::WriteOffProposal,
        } as i32,
        reason: escalation.reason.clone(),
        balance: Some(money_to_proto(escalation.balance)),
        days_past_due: days_to_proto(escalation.days_past_due),
        create_time: Some(timestamp_to_proto(escalation.created_at)),
        escalated_by: escalation.escalated_by.clone(),
    }
}

/// An `EscalateAccount` request, read; every bad field is named.
pub fn new_escalation(
    request: &pb::EscalateAccountRequest,
) -> Result<NewEscalation, CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let target = match pb::EscalationTarget::try_from(request.target) {
        Ok(pb::EscalationTarget::Manager) => Some(EscalationTarget::Manager),
        Ok(pb::EscalationTarget::ExternalAgency) => Some(EscalationTarget::ExternalAgency),
        Ok(pb::EscalationTarget::WriteOffProposal) => Some(EscalationTarget::WriteOffProposal),
        Ok(pb::EscalationTarget::Unspecified) => {
            violations.add("target", "is required");
            None
        }
        Err(_) => {
            violations.add("target", "is not a known target");
            None
        }
    };
    let reason = violations.check("reason", required_text(&request.reason, REASON_MAX_CHARS));
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, target, reason, request_id) {
        (Some(patient_id), Some(target), Some(reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewEscalation {
                patient_id,
                target,
                reason,
                request_id,
            })
        }
        _ => Err(violations.into()),
    }
}
