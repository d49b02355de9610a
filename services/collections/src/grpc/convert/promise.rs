//! Promises to pay.

use chrono::NaiveDate;
use clinic_common::Currency;
use clinic_common::ids::{PatientId, RequestId};
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;
use clinic_proto::{
    date_from_proto, date_to_proto, money_to_proto, page_from_proto, timestamp_to_proto,
};

use super::{ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX, patient_id_from, positive_money};
use crate::domain::{
    CollectionsError, NewPromise, Notes, PromiseStatus, PromiseView, check_promised_date,
};

/// A `RecordPromise` request, read; every bad field is named. `today` is the clinic-local day
/// the promised day is checked against; a promise not `carried_over` from earlier records must
/// name the conversation it was made in.
pub fn new_promise(
    request: &pb::RecordPromiseRequest,
    currency: Currency,
    today: NaiveDate,
    carried_over: bool,
) -> Result<NewPromise, CollectionsError> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(promise) = &request.promise else {
        violations.add("promise", "is required");
        return Err(violations.into());
    };
    let patient_id = patient_id_from(&mut violations, "promise.patient_id", &promise.patient_id);
    let amount = violations.check(
        "promise.amount",
        positive_money(promise.amount.as_ref(), currency),
    );
    let promised_date = violations
        .check(
            "promise.promised_date",
            date_from_proto(promise.promised_date.as_ref()),
        )
        .and_then(|promised_date| {
            violations.check(
                "promise.promised_date",
                check_promised_date(promised_date, today).map(|()| promised_date),
            )
        });
    let note = violations.check("promise.note", Notes::parse(&promise.note));
    let contact_id = if promise.contact_id.is_empty() {
        if !carried_over {
            violations.add(
                "promise.contact_id",
                "is required: a promise is made in a conversation; log it first",
            );
        }
        Some(None)
    } else {
        violations
            .check(
                "promise.contact_id",
                uuid::Uuid::parse_str(&promise.contact_id).map_err(|_| "is not a contact id"),
            )
            .map(|contact_id| Some(contact_id.to_string()))
    };
    match (
        request_id,
        patient_id,
        amount,
        promised_date,
        note,
        contact_id,
    ) {
        (
            Some(request_id),
            Some(patient_id),
            Some(amount),
            Some(promised_date),
            Some(note),
            Some(contact_id),
        ) if violations.is_empty() => Ok(NewPromise {
            patient_id,
            amount,
            promised_date,
            note,
            contact_id,
            carried_over,
            request_id,
        }),
        _ => Err(violations.into()),
    }
}

/// A `ListPromises` request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct PromisesQuery {
    pub patient_id: Option<PatientId>,
    /// `None`: now.
    pub as_of: Option<NaiveDate>,
    pub limit: u32,
    pub offset: u64,
}

pub fn promises_query(
    request: &pb::ListPromisesRequest,
) -> Result<PromisesQuery, CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = if request.patient_id.is_empty() {
        Some(None)
    } else {
        patient_id_from(&mut violations, "patient_id", &request.patient_id).map(Some)
    };
    let as_of = match &request.as_of {
        None => Some(None),
        Some(date) => violations
            .check("as_of", date_from_proto(Some(date)))
            .map(Some),
    };
    let page = violations.check(
        "page",
        page_from_proto(
            request.page.as_ref(),
            ACCOUNTS_PAGE_DEFAULT,
            ACCOUNTS_PAGE_MAX,
        ),
    );
    match (patient_id, as_of, page) {
        (Some(patient_id), Some(as_of), Some((limit, offset))) if violations.is_empty() => {
            Ok(PromisesQuery {
                patient_id,
                as_of,
                limit,
                offset,
            })
        }
        _ => Err(violations.into()),
    }
}

fn promise_status_to(status: PromiseStatus) -> pb::PromiseStatus {
    match status {
        PromiseStatus::Open => pb::PromiseStatus::Open,
        PromiseStatus::Kept => pb::PromiseStatus::Kept,
        PromiseStatus::PartlyKept => pb::PromiseStatus::PartlyKept,
        PromiseStatus::Broken => pb::PromiseStatus::Broken,
        PromiseStatus::Superseded => pb::PromiseStatus::Superseded,
    }
}

pub fn promise_to_proto(view: &PromiseView) -> pb::Promise {
    let promise = &view.promise;
    pb::Promise {
        promise_id: promise.promise_id.clone(),
        patient_id: promise.patient_id.to_string(),
        amount: Some(money_to_proto(promise.amount)),
        promised_date: Some(date_to_proto(promise.promised_date)),
        note: promise.note.as_str().to_owned(),
        contact_id: promise.contact_id.clone().unwrap_or_default(),
        status: promise_status_to(view.status) as i32,
        amount_paid: Some(money_to_proto(view.paid)),
        create_time: Some(timestamp_to_proto(promise.made_at)),
        recorded_by: promise.recorded_by.clone(),
        supersede_time: promise.superseded_at.map(timestamp_to_proto),
        superseded_by: promise.superseded_by.clone().unwrap_or_default(),
    }
}
