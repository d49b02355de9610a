//! Aging reports.

use chrono::NaiveDate;
use clinic_common::ids::PatientId;
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;
use clinic_proto::{date_from_proto, money_to_proto, page_from_proto};

use super::{ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX, days_to_proto};
use crate::domain::{AccountAging, AgingBucket, AgingBuckets, CollectionsError};

/// A `GetAging` request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct AgingQuery {
    /// `None`: today in the clinic.
    pub as_of: Option<NaiveDate>,
    pub patient_id: Option<PatientId>,
    pub limit: u32,
    pub offset: u64,
}

pub fn aging_query(request: &pb::GetAgingRequest) -> Result<AgingQuery, CollectionsError> {
    let mut violations = FieldViolations::new();
    let as_of = match &request.as_of {
        None => Some(None),
        Some(date) => violations
            .check("as_of", date_from_proto(Some(date)))
            .map(Some),
    };
    let patient_id = if request.patient_id.is_empty() {
        Some(None)
    } else {
        violations
            .check(
                "patient_id",
                PatientId::parse(&request.patient_id).map_err(|_| "is not a patient id"),
            )
            .map(Some)
    };
    let page = violations.check(
        "page",
        page_from_proto(
            request.page.as_ref(),
            ACCOUNTS_PAGE_DEFAULT,
            ACCOUNTS_PAGE_MAX,
        ),
    );
    match (as_of, patient_id, page) {
        (Some(as_of), Some(patient_id), Some((limit, offset))) if violations.is_empty() => {
            Ok(AgingQuery {
                as_of,
                patient_id,
                limit,
                offset,
            })
        }
        _ => Err(violations.into()),
    }
}

pub fn buckets_to_proto(buckets: &AgingBuckets) -> Result<pb::AgingBuckets, CollectionsError> {
    let total = buckets
        .total()
        .map_err(|error| CollectionsError::Unexpected(error.into()))?;
    let bucket = |bucket| Some(money_to_proto(buckets.get(bucket)));
    Ok(pb::AgingBuckets {
        not_yet_due: bucket(AgingBucket::NotYetDue),
        days_0_to_30: bucket(AgingBucket::Days0To30),
        days_31_to_60: bucket(AgingBucket::Days31To60),
        days_61_to_90: bucket(AgingBucket::Days61To90),
        days_91_to_120: bucket(AgingBucket::Days91To120),
        over_120_days: bucket(AgingBucket::Over120),
        total: Some(money_to_proto(total)),
    })
}

pub fn account_aging_to_proto(aging: &AccountAging) -> Result<pb::AccountAging, CollectionsError> {
    Ok(pb::AccountAging {
        patient_id: aging.patient_id.to_string(),
        patient_name: aging.patient_name.clone().unwrap_or_default(),
        buckets: Some(buckets_to_proto(&aging.buckets)?),
        days_past_due: days_to_proto(aging.oldest_days_past_due),
    })
}
