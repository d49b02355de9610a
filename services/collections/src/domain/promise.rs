//! Promises to pay: a patient's word that they will pay an amount by a day, and what the payments
//! billing's ledger brings afterwards say about it.
//!
//! A promise's status is never stored: it is derived from the payments billing recorded from the
//! moment the promise was made to the end of the promised day (clinic-local), so a payment that
//! arrives late, or a ledger page the follower applies late, is judged the same way every time.
//!
//! - **KEPT**: payments since the promise reach its amount by the end of the promised day (as soon
//!   as they do, even before the day: nothing can undo a kept promise);
//! - **OPEN**: not kept yet, and the promised day has not ended;
//! - **PARTLY_KEPT**: the day has ended with some, but not all, of the amount paid;
//! - **BROKEN**: the day has ended with nothing paid;
//! - **SUPERSEDED**: a later promise replaced it before its day had ended.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::Money;
use clinic_common::ids::{PatientId, RequestId};
use clinic_common::time::start_of_day;

use super::{ContactKind, Notes, Outcome};

/// How far ahead a promised day may be.
pub const PROMISE_HORIZON_DAYS: u64 = 90;

/// Where a promise stands (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromiseStatus {
    Open,
    Kept,
    PartlyKept,
    Broken,
    Superseded,
}

impl PromiseStatus {
    /// Whether the promise has failed, wholly or in part: the account needs working again.
    pub fn is_broken(self) -> bool {
        matches!(self, PromiseStatus::Broken | PromiseStatus::PartlyKept)
    }
}

/// A promise as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Promise {
    pub promise_id: String,
    pub patient_id: PatientId,
    pub amount: Money,
    pub promised_date: NaiveDate,
    /// What was agreed, in the collector's words; never logged.
    pub note: Notes,
    /// The contact-log entry of the conversation the promise was made in, when given.
    pub contact_id: Option<String>,
    pub made_at: DateTime<Utc>,
    pub recorded_by: String,
    /// When a later promise replaced this one, and which.
    pub superseded_at: Option<DateTime<Utc>>,
    pub superseded_by: Option<String>,
}

/// A promise with its status and what was paid towards it, at some moment.
#[derive(Debug, Clone, PartialEq)]
pub struct PromiseView {
    pub promise: Promise,
    pub status: PromiseStatus,
    /// Payments from the promise on to the end of the promised day (or to the moment judged,
    /// if earlier); may exceed the amount.
    pub paid: Money,
}

/// A payment billing recorded, as the promise rules read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaymentMade {
    pub at: DateTime<Utc>,
    /// Positive: what the patient paid.
    pub amount: Money,
}

/// A `RecordPromise` request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPromise {
    pub patient_id: PatientId,
    pub amount: Money,
    pub promised_date: NaiveDate,
    pub note: Notes,
    /// The conversation the promise was made in: required for a promise made now.
    pub contact_id: Option<String>,
    /// Carried over by a manager from the clinic's earlier records: the conversation may predate
    /// the contact log, so `contact_id` is optional and only has to be the patient's.
    pub carried_over: bool,
    pub request_id: RequestId,
}

impl NewPromise {
    /// What a retry must repeat exactly to count as the same request.
    pub fn fingerprint(&self) -> String {
        clinic_common::ids::request_fingerprint(&[
            &self.patient_id.to_string(),
            &self.amount.minor_units().to_string(),
            self.amount.currency().code(),
            &self.promised_date.to_string(),
            self.note.as_str(),
            self.contact_id.as_deref().unwrap_or_default(),
        ])
    }
}

/// Why a promised day cannot be accepted on `today`, if it cannot.
pub fn check_promised_date(promised_date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if promised_date < today {
        return Err("must not be in the past".to_owned());
    }
    let latest = today
        .checked_add_days(Days::new(PROMISE_HORIZON_DAYS))
        .unwrap_or(today);
    if promised_date > latest {
        return Err(format!("must be at most {PROMISE_HORIZON_DAYS} days ahead"));
    }
    Ok(())
}

/// What the contact log holds about the contact a promise names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromiseContact {
    pub kind: ContactKind,
    pub outcome: Outcome,
    pub occurred_at: DateTime<Utc>,
}

/// Why `contact` cannot be the conversation a promise made at `made_at` was made in, if it
/// cannot. A promise to pay is the patient's word, given while talking with the clinic: the
/// contact must be a conversation that ended in a promise, logged that same clinic-local day
/// (from `day_started` on) and before the promise.
pub fn check_promise_conversation(
    contact: &PromiseContact,
    day_started: DateTime<Utc>,
    made_at: DateTime<Utc>,
) -> Result<(), &'static str> {
    if contact.kind != ContactKind::Conversation {
        return Err("the contact was not a conversation with the patient");
    }
    if contact.outcome != Outcome::Promise {
        return Err("the conversation did not end in a promise to pay");
    }
    if contact.occurred_at < day_started || contact.occurred_at > made_at {
        return Err("the conversation was not logged today");
    }
    Ok(())
}

/// The instant a promise's day ends: the start of the next clinic-local day.
pub fn promise_deadline(promised_date: NaiveDate, time_zone: Tz) -> DateTime<Utc> {
    start_of_day(promised_date.succ_opt().unwrap_or(promised_date), time_zone)
}

/// The status of `promise` at `now`, from the payments recorded on its account (in any order).
/// Only payments from the moment it was made, up to the end of its day and before `now`, count.
pub fn promise_status(
    promise: &Promise,
    payments: &[PaymentMade],
    now: DateTime<Utc>,
    time_zone: Tz,
) -> PromiseView {
    let deadline = promise_deadline(promise.promised_date, time_zone);
    let mut paid_minor: i64 = 0;
    for payment in payments {
        if payment.at >= promise.made_at && payment.at < deadline && payment.at <= now {
            paid_minor = paid_minor.saturating_add(payment.amount.minor_units());
        }
    }
    let paid = Money::from_minor(paid_minor, promise.amount.currency());
    let status = if promise.superseded_at.is_some() {
        PromiseStatus::Superseded
    } else if paid_minor >= promise.amount.minor_units() {
        PromiseStatus::Kept
    } else if now < deadline {
        PromiseStatus::Open
    } else if paid_minor > 0 {
        PromiseStatus::PartlyKept
    } else {
        PromiseStatus::Broken
    };
    PromiseView {
        promise: promise.clone(),
        status,
        paid,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use clinic_common::Currency;

    use super::*;

    const ZONE: Tz = chrono_tz::America::Mexico_City;

    fn pesos(whole: i64) -> Money {
        Money::from_minor(whole * 100, Currency::MXN)
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("valid instant")
    }

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, day).expect("valid day")
    }

    /// $500 promised on Nov 22 (noon in Mexico City) for Nov 25.
    fn promise() -> Promise {
        Promise {
            promise_id: "p-1".into(),
            patient_id: PatientId::new(),
            amount: pesos(500),
            promised_date: day(11, 25),
            note: Notes::parse("pagará el miércoles").expect("valid note"),
            contact_id: None,
            made_at: at("2026-11-22T18:00:00Z"),
            recorded_by: "collections:ana".into(),
            superseded_at: None,
            superseded_by: None,
        }
    }

    fn paid(text: &str, whole: i64) -> PaymentMade {
        PaymentMade {
            at: at(text),
            amount: pesos(whole),
        }
    }

    // Mexico City is UTC-6: Nov 25 23:59 local is Nov 26 05:59Z; Nov 26 00:01 local is 06:01Z.
    const LAST_MINUTE: &str = "2026-11-26T05:59:00Z";
    const NEXT_DAY: &str = "2026-11-26T06:01:00Z";
    const LATER: &str = "2026-11-28T18:00:00Z";

    #[test]
    fn paying_in_full_at_23_59_local_on_the_promised_day_keeps_the_promise() {
        let view = promise_status(&promise(), &[paid(LAST_MINUTE, 500)], at(LATER), ZONE);

        assert_eq!(view.status, PromiseStatus::Kept);
        assert_eq!(view.paid, pesos(500));
    }

    #[test]
    fn paying_in_full_at_00_01_the_next_day_is_too_late_and_the_promise_is_broken() {
        let view = promise_status(&promise(), &[paid(NEXT_DAY, 500)], at(LATER), ZONE);

        assert_eq!(view.status, PromiseStatus::Broken);
        assert_eq!(view.paid, pesos(0));
    }

    #[test]
    fn part_of_the_amount_by_the_day_partly_keeps_it_and_payments_add_up() {
        let payments = [
            paid("2026-11-23T17:00:00Z", 100),
            paid(LAST_MINUTE, 150),
            paid(NEXT_DAY, 250),
        ];

        let view = promise_status(&promise(), &payments, at(LATER), ZONE);

        assert_eq!(view.status, PromiseStatus::PartlyKept);
        assert_eq!(view.paid, pesos(250));
        assert!(view.status.is_broken());
    }

    #[test]
    fn a_payment_made_before_the_promise_does_not_count_towards_it() {
        let view = promise_status(
            &promise(),
            &[paid("2026-11-22T17:59:59Z", 500)],
            at(LATER),
            ZONE,
        );

        assert_eq!(view.status, PromiseStatus::Broken);
    }

    #[test]
    fn until_the_promised_day_ends_an_unpaid_promise_is_open_and_a_paid_one_kept() {
        let still_the_day = at(LAST_MINUTE);
        let just_after = at(LAST_MINUTE) + TimeDelta::minutes(1);

        let open = promise_status(&promise(), &[], still_the_day, ZONE);
        let broken = promise_status(&promise(), &[], just_after, ZONE);
        let early = promise_status(
            &promise(),
            &[paid("2026-11-23T17:00:00Z", 600)],
            at("2026-11-23T18:00:00Z"),
            ZONE,
        );

        assert_eq!(open.status, PromiseStatus::Open);
        assert_eq!(broken.status, PromiseStatus::Broken);
        assert_eq!(early.status, PromiseStatus::Kept);
        assert_eq!(early.paid, pesos(600));
    }

    #[test]
    fn a_payment_after_the_moment_judged_is_not_counted_yet() {
        let view = promise_status(
            &promise(),
            &[paid("2026-11-24T18:00:00Z", 500)],
            at("2026-11-23T18:00:00Z"),
            ZONE,
        );

        assert_eq!(view.status, PromiseStatus::Open);
        assert_eq!(view.paid, pesos(0));
    }

    #[test]
    fn a_superseded_promise_stays_superseded_whatever_was_paid() {
        let mut replaced = promise();
        replaced.superseded_at = Some(at("2026-11-23T18:00:00Z"));

        let view = promise_status(&replaced, &[paid(LAST_MINUTE, 500)], at(LATER), ZONE);

        assert_eq!(view.status, PromiseStatus::Superseded);
    }

    #[test]
    fn a_promised_day_is_today_to_ninety_days_ahead() {
        let today = day(11, 22);

        assert!(check_promised_date(today, today).is_ok());
        assert!(
            check_promised_date(NaiveDate::from_ymd_opt(2027, 2, 20).expect("valid"), today)
                .is_ok()
        );
        assert!(check_promised_date(day(11, 21), today).is_err());
        assert!(
            check_promised_date(NaiveDate::from_ymd_opt(2027, 2, 21).expect("valid"), today)
                .is_err()
        );
    }

    #[test]
    fn a_promise_is_made_in_a_conversation_that_ended_in_a_promise_logged_that_day() {
        // The promise is made at noon on Nov 22 in Mexico City; that day began at 06:00 UTC.
        let made_at = at("2026-11-22T18:00:00Z");
        let day_started = start_of_day(day(11, 22), ZONE);
        let call = PromiseContact {
            kind: ContactKind::Conversation,
            outcome: Outcome::Promise,
            occurred_at: at("2026-11-22T17:50:00Z"),
        };
        let check = |contact: PromiseContact| {
            check_promise_conversation(&contact, day_started, made_at).is_ok()
        };

        assert!(check(call));
        assert!(!check(PromiseContact {
            kind: ContactKind::Attempt,
            ..call
        }));
        for other in [Outcome::Spoke, Outcome::LeftMessage, Outcome::Disputed] {
            assert!(!check(PromiseContact {
                outcome: other,
                ..call
            }));
        }
        assert!(!check(PromiseContact {
            occurred_at: at("2026-11-22T05:59:00Z"),
            ..call
        }));
        assert!(check(PromiseContact {
            occurred_at: at("2026-11-22T06:00:00Z"),
            ..call
        }));
        assert!(!check(PromiseContact {
            occurred_at: at("2026-11-22T18:00:01Z"),
            ..call
        }));
    }
}
