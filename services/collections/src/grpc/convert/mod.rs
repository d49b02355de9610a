//! Domain ⇄ protobuf conversions for the collections service, one module per area of the
//! domain, with what every area shares here. Nothing past these modules sees a protobuf type.

pub mod account;
pub mod aging;
pub mod contact;
pub mod dispute;
pub mod notice;
pub mod payment;
pub mod plan;
pub mod promise;
pub mod receivable;
pub mod report;
pub mod worklist;

use clinic_common::ids::PatientId;
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_proto::{money_from_proto, page_from_proto};

use crate::domain::CollectionsError;

/// Page sizes for lists of accounts.
pub const ACCOUNTS_PAGE_DEFAULT: u32 = 50;
pub const ACCOUNTS_PAGE_MAX: u32 = 500;

/// Day counts on the wire are `int32`; ages beyond it (millennia) are clamped.
pub fn days_to_proto(days: i64) -> i32 {
    i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
}

/// The patient id in `field`, which is required; a violation is recorded otherwise.
pub fn patient_id_from(
    violations: &mut FieldViolations,
    field: &str,
    text: &str,
) -> Option<PatientId> {
    if text.is_empty() {
        violations.add(field, "is required");
        return None;
    }
    violations.check(
        field,
        PatientId::parse(text).map_err(|_| "is not a patient id"),
    )
}

/// A patient id that a request must carry in `field`.
pub fn required_patient_id(text: &str, field: &str) -> Result<PatientId, CollectionsError> {
    let mut violations = FieldViolations::new();
    match patient_id_from(&mut violations, field, text) {
        Some(patient_id) if violations.is_empty() => Ok(patient_id),
        _ => Err(violations.into()),
    }
}

/// A positive amount in the clinic's currency.
fn positive_money(
    money: Option<&clinic_proto::common::v1::Money>,
    currency: Currency,
) -> Result<Money, String> {
    let money = money_from_proto(money, currency)?;
    if money.is_positive() {
        Ok(money)
    } else {
        Err("must be positive".into())
    }
}

/// The longest reason accepted (escalations, restructurings).
const REASON_MAX_CHARS: usize = 500;

/// A list request that names an account or none, read: the account and the page.
pub fn optional_account_page(
    patient_id: &str,
    page: Option<&clinic_proto::common::v1::PageRequest>,
) -> Result<(Option<PatientId>, u32, u64), CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = if patient_id.is_empty() {
        Some(None)
    } else {
        patient_id_from(&mut violations, "patient_id", patient_id).map(Some)
    };
    let page = violations.check(
        "page",
        page_from_proto(page, ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX),
    );
    match (patient_id, page) {
        (Some(patient_id), Some((limit, offset))) if violations.is_empty() => {
            Ok((patient_id, limit, offset))
        }
        _ => Err(violations.into()),
    }
}
