//! Statements: a statement's patient and span, and statements and today's unpaid accounts on the
//! wire.

use chrono::NaiveDate;
use clinic_common::Money;
use clinic_common::ids::PatientId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::{date_from_proto, date_to_proto, money_to_proto};

use super::charges::charge_to_proto;
use super::ledger::ledger_kind_to_proto;
use super::patient_id;
use super::refunds::method_name_to_proto;
use crate::domain::{Statement, StatementDetail, UnpaidPatient, statement_span};

/// The patient and span of a statement request; every bad field is named.
pub fn statement_request(
    request: &pb::GetStatementRequest,
) -> Result<(PatientId, Option<NaiveDate>, Option<NaiveDate>), FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let from = match request.from_date.as_ref() {
        None => Some(None),
        Some(date) => violations
            .check("from_date", date_from_proto(Some(date)))
            .map(Some),
    };
    let to = match request.to_date.as_ref() {
        None => Some(None),
        Some(date) => violations
            .check("to_date", date_from_proto(Some(date)))
            .map(Some),
    };
    let span = match (from, to) {
        (Some(from), Some(to)) => violations.check("to_date", statement_span(from, to)),
        _ => None,
    };
    match (patient_id, span) {
        (Some(patient_id), Some((from, to))) if violations.is_empty() => Ok((patient_id, from, to)),
        _ => Err(violations),
    }
}

pub fn statement_to_proto(statement: &Statement) -> pb::Statement {
    let mut lines = Vec::with_capacity(statement.lines.len());
    for line in &statement.lines {
        let entry = &line.entry;
        let kind = ledger_kind_to_proto(entry.detail.kind());
        let mut proto = pb::StatementLine {
            sequence: entry.sequence,
            service_date: Some(date_to_proto(entry.service_date)),
            kind: kind.into(),
            description: entry.detail.description(),
            source_id: entry.source_id.clone(),
            amount: Some(money_to_proto(entry.amount)),
            running_balance: Some(money_to_proto(line.running_balance)),
            ..Default::default()
        };
        match &entry.detail {
            StatementDetail::Charge {
                price_code,
                quantity,
                ..
            } => {
                proto.price_code = price_code.clone();
                proto.quantity = *quantity;
            }
            StatementDetail::Payment {
                method,
                receipt_number,
            }
            | StatementDetail::Refund {
                method,
                receipt_number,
            } => {
                proto.payment_method = method_name_to_proto(method).into();
                proto.receipt_number = receipt_number.to_string();
            }
            StatementDetail::Correction {
                price_code,
                reason,
                credit_note_number,
                ..
            } => {
                proto.price_code = price_code.clone();
                proto.reason = reason.clone();
                proto.credit_note_number = credit_note_number
                    .map(|number| number.to_string())
                    .unwrap_or_default();
            }
        }
        lines.push(proto);
    }
    pb::Statement {
        patient_id: statement.patient_id.to_string(),
        from_date: statement.from.map(date_to_proto),
        to_date: statement.to.map(date_to_proto),
        opening_balance: Some(money_to_proto(statement.opening_balance)),
        lines,
        closing_balance: Some(money_to_proto(statement.closing_balance)),
    }
}

pub fn unpaid_patient_to_proto(unpaid: &UnpaidPatient) -> anyhow::Result<pb::UnpaidPatient> {
    let mut charged_today = Money::zero(unpaid.balance.currency());
    for charge in &unpaid.charges_today {
        charged_today = charged_today
            .checked_add(charge.net)
            .map_err(|error| anyhow::anyhow!("today's charges are out of range: {error}"))?;
    }
    Ok(pb::UnpaidPatient {
        patient_id: unpaid.patient_id.to_string(),
        balance: Some(money_to_proto(unpaid.balance)),
        charges_today: unpaid.charges_today.iter().map(charge_to_proto).collect(),
        charged_today: Some(money_to_proto(charged_today)),
    })
}
