//! The worklist and collectors' assignments.

use chrono::NaiveDate;
use clinic_common::ids::PatientId;
use clinic_common::validation::{FieldViolations, optional_text};
use clinic_proto::collections::v1 as pb;
use clinic_proto::{date_from_proto, money_to_proto, page_from_proto, timestamp_to_proto};

use super::contact::channel_to;
use super::promise::promise_to_proto;
use super::{ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX, days_to_proto, patient_id_from};
use crate::domain::{CollectionsError, WorklistEntry};

/// The longest collector name accepted (a token subject).
const COLLECTOR_MAX_CHARS: usize = 100;

/// A `ListWorklist` request, read.
pub struct WorklistQuery {
    pub as_of: Option<NaiveDate>,
    pub collector: Option<String>,
    pub limit: u32,
    pub offset: u64,
}

pub fn worklist_query(
    request: &pb::ListWorklistRequest,
) -> Result<WorklistQuery, CollectionsError> {
    let mut violations = FieldViolations::new();
    let as_of = match &request.as_of {
        None => Some(None),
        Some(date) => violations
            .check("as_of", date_from_proto(Some(date)))
            .map(Some),
    };
    let collector = violations.check(
        "collector",
        optional_text(&request.collector, COLLECTOR_MAX_CHARS),
    );
    let page = violations.check(
        "page",
        page_from_proto(
            request.page.as_ref(),
            ACCOUNTS_PAGE_DEFAULT,
            ACCOUNTS_PAGE_MAX,
        ),
    );
    match (as_of, collector, page) {
        (Some(as_of), Some(collector), Some((limit, offset))) if violations.is_empty() => {
            Ok(WorklistQuery {
                as_of,
                collector,
                limit,
                offset,
            })
        }
        _ => Err(violations.into()),
    }
}

/// An `AssignAccount` request, read: the account and the collector (`None` unassigns).
pub fn assignment(
    request: &pb::AssignAccountRequest,
) -> Result<(PatientId, Option<String>), CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let collector = violations.check(
        "collector",
        optional_text(&request.collector, COLLECTOR_MAX_CHARS),
    );
    match (patient_id, collector) {
        (Some(patient_id), Some(collector)) if violations.is_empty() => Ok((patient_id, collector)),
        _ => Err(violations.into()),
    }
}

pub fn worklist_entry_to_proto(entry: &WorklistEntry) -> pb::WorklistItem {
    pb::WorklistItem {
        patient_id: entry.patient_id.to_string(),
        patient_name: entry.patient_name.clone().unwrap_or_default(),
        balance: Some(money_to_proto(entry.balance)),
        days_past_due: days_to_proto(entry.days_past_due),
        last_contact_time: entry.last_contact_at.map(timestamp_to_proto),
        collector: entry.assigned_to.clone().unwrap_or_default(),
        allowed_channels: entry
            .allowed_channels
            .iter()
            .map(|channel| channel_to(*channel) as i32)
            .collect(),
        score: entry.score,
        promise: entry.promise.as_ref().map(promise_to_proto),
        broken_promises: i32::try_from(entry.broken_promises).unwrap_or(i32::MAX),
        missed_instalments: i32::try_from(entry.missed_instalments).unwrap_or(i32::MAX),
        risk_score: i32::try_from(entry.risk_score).unwrap_or(i32::MAX),
    }
}
