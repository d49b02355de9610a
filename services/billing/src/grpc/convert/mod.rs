//! Protobuf ⇄ domain conversions for billing, one module per area as in `domain/`. Requests
//! become domain commands here, with every invalid field reported at once under its proto field
//! path; nothing past this module sees a protobuf type.
//!
//! This module holds what every area reads the same way: the context a request is read in
//! ([`Reading`], [`Channel`]), ids, positive amounts, identity evidence and report days.

mod charges;
mod corrections;
mod daily_close;
mod drawer;
mod invoices;
mod ledger;
mod payments;
mod price_list;
mod promotions;
mod receipt;
mod refunds;
mod statements;

use chrono::NaiveDate;
use clinic_common::ids::{ChargeId, PatientId};
use clinic_common::validation::FieldViolations;
use clinic_common::{Currency, Money};
use clinic_proto::billing::v1 as pb;
use clinic_proto::{date_from_proto, money_from_proto};

use crate::domain::{IdentityEvidence, PhoneLastFour};

pub use charges::{
    appointment_charge, charge_to_proto, new_charge, open_charges_to_proto,
    patient_package_to_proto,
};
pub use corrections::{correction_to_proto, new_adjustment, new_credit_note, new_write_off};
pub use daily_close::{
    close_day_request, closed_day_to_proto, daily_close_day, daily_close_to_proto, export_request,
};
pub use drawer::{
    DrawerQuery, cash_movement_to_proto, close_drawer, drawer_query, drawer_session_to_proto,
    new_cash_movement, open_drawer, session_id,
};
pub use invoices::{
    charges_invoice_request, credit_note_invoice_request, global_invoice_request, invoice_request,
    invoice_to_proto, payment_complement_request, pending_complement_to_proto,
};
pub use ledger::{account_balance_to_proto, balance_request, ledger_page_to_proto, ledger_query};
pub use payments::{new_payment, payment_to_proto};
pub use price_list::{new_price_list_item, price_list_item_to_proto};
pub use promotions::{new_promotion, promotion_to_proto};
pub use receipt::receipt_request;
pub use refunds::{new_refund, refund_to_proto};
pub use statements::{statement_request, statement_to_proto, unpaid_patient_to_proto};

/// The context a request is read in: what "today" is in the clinic, and its currency.
pub struct Reading {
    pub today: NaiveDate,
    pub currency: Currency,
}

pub fn patient_id(text: &str) -> Result<PatientId, &'static str> {
    PatientId::parse(text).map_err(|_| "must be a patient id (UUID)")
}

/// Who a request comes from, as far as reading it goes: a kiosk must identify the patient and
/// may only pay by card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Staff,
    Kiosk,
}

/// The identity evidence under `identity`: required from a kiosk, optional (and then checked)
/// from staff. `Some(None)` when absent and not required; `None` when invalid.
pub(super) fn identity(
    evidence: Option<&pb::IdentityEvidence>,
    channel: Channel,
    violations: &mut FieldViolations,
) -> Option<Option<IdentityEvidence>> {
    let Some(evidence) = evidence else {
        if channel == Channel::Kiosk {
            violations.add("identity", "is required at a kiosk");
            return None;
        }
        return Some(None);
    };
    let date_of_birth = violations.check(
        "identity.date_of_birth",
        date_from_proto(evidence.date_of_birth.as_ref()),
    );
    let phone_last_four = violations.check(
        "identity.phone_last_four",
        PhoneLastFour::parse(&evidence.phone_last_four),
    );
    Some(Some(IdentityEvidence {
        date_of_birth: date_of_birth?,
        phone_last_four: phone_last_four?,
    }))
}

pub fn charge_id(text: &str) -> Result<ChargeId, &'static str> {
    ChargeId::parse(text).map_err(|_| "must be a charge id (UUID)")
}

/// A required amount in the clinic's currency, above zero.
pub(super) fn positive_money(
    money: Option<&clinic_proto::common::v1::Money>,
    reading: &Reading,
) -> Result<Money, String> {
    money_from_proto(money, reading.currency).and_then(|amount| {
        if amount.is_positive() {
            Ok(amount)
        } else {
            Err("must be positive".to_owned())
        }
    })
}

/// The day of a daily close request: unset means today; after today is refused.
pub(super) fn report_day(
    day: Option<&clinic_proto::common::v1::Date>,
    reading: &Reading,
    violations: &mut FieldViolations,
) -> Option<NaiveDate> {
    match day {
        None => Some(reading.today),
        Some(day) => violations.check(
            "day",
            date_from_proto(Some(day)).and_then(|day| {
                if day > reading.today {
                    Err("must not be after today".to_owned())
                } else {
                    Ok(day)
                }
            }),
        ),
    }
}
