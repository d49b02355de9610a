//! The worklist: the accounts a collector should work now, ranked, and only those on which some
//! contact is allowed now.
//!
//! Accounts already being worked are left out: one whose current promise to pay is still open
//! (its day has not ended), and one whose active payment plan is on track (nothing missed). A
//! broken promise or a missed instalment brings the account back the day after its day, when it
//! is judged.
//!
//! The score is a sum of capped parts, so that no single factor swamps the others:
//! - **balance**: 1 point per 10 whole currency units owed, at most 1000 (a $10,000 balance);
//! - **age**: 5 points per day the oldest open charge is past due, at most 900 (180 days);
//! - **since last contact**: 10 points per whole day since the last contact in either direction,
//!   at most 300 (30 days); an account never contacted scores the full 300;
//! - **broken promise**: 400 points when the account's current promise to pay is broken (nothing
//!   paid by the end of the promised day), 200 when it is partly kept; from the day after the
//!   promised day, because that is when the account needs working again;
//! - **promise history**: 100 points per promise ever broken or partly kept, at most 300;
//! - **missed instalments**: 150 points per missed or partly paid instalment of the active plan,
//!   at most 450;
//! - **risk**: the account's risk score, 0 to 100 (see [`risk_score`]).
//!
//! Higher scores come first; ties go to the larger balance, then the patient id (stable pages).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::PatientId;

use super::{
    Channel, ContactProfile, ContactRules, ContactState, LoggedCall, PlanStanding, PromiseStatus,
    PromiseView, ProposedContact, Purpose, Receivable,
};

/// The channels the worklist tries, in the order a collector would usually use them.
const CHANNELS: [Channel; 5] = [
    Channel::PhoneCall,
    Channel::WhatsApp,
    Channel::Sms,
    Channel::Email,
    Channel::Letter,
];

const BALANCE_POINTS_MAX: i64 = 1000;
const AGE_POINTS_PER_DAY: i64 = 5;
const AGE_POINTS_MAX: i64 = 900;
const CONTACT_POINTS_PER_DAY: i64 = 10;
const CONTACT_POINTS_MAX: i64 = 300;
const BROKEN_PROMISE_POINTS: i64 = 400;
const PARTLY_KEPT_PROMISE_POINTS: i64 = 200;
const PROMISE_HISTORY_POINTS_EACH: i64 = 100;
const PROMISE_HISTORY_POINTS_MAX: i64 = 300;
const MISSED_INSTALMENT_POINTS_EACH: i64 = 150;
const MISSED_INSTALMENT_POINTS_MAX: i64 = 450;

/// Everything the contact log and the registry know about one account, for the worklist.
#[derive(Debug, Clone, Default)]
pub struct AccountContacts {
    /// `None` until the registry has answered: then only a letter can be judged.
    pub profile: Option<ContactProfile>,
    pub state: ContactState,
    /// Outbound calls within the rules' lookback.
    pub recent_calls: Vec<LoggedCall>,
    pub last_contact_at: Option<DateTime<Utc>>,
    /// The collector the account is assigned to.
    pub assigned_to: Option<String>,
    /// The account's current promise to pay (the newest not superseded), judged now.
    pub promise: Option<PromiseView>,
    /// Promises on the account ever broken or partly kept, judged now.
    pub broken_promises: u32,
    /// How the account's active payment plan stands; `None` without one.
    pub plan: Option<PlanStanding>,
}

impl AccountContacts {
    /// Whether someone is already working the account: a promise whose day has not ended, or a
    /// plan being paid as agreed.
    pub fn being_worked(&self) -> bool {
        let promise_running = self
            .promise
            .as_ref()
            .is_some_and(|view| view.status == PromiseStatus::Open);
        let plan_on_track = self.plan.is_some_and(|plan| plan.on_track());
        promise_running || plan_on_track
    }

    fn missed_instalments(&self) -> u32 {
        self.plan.map_or(0, |plan| plan.missed_instalments)
    }
}

/// How likely an account's debt is to go unpaid, 0 to 100: 25 per promise broken or partly
/// kept, 20 per missed instalment, 10 once 60 days past due and 10 more once 120, 15 when no
/// payment was ever received, 20 after a refusal to pay.
pub fn risk_score(contacts: &AccountContacts, days_past_due: i64, ever_paid: bool) -> i64 {
    let mut risk =
        i64::from(contacts.broken_promises) * 25 + i64::from(contacts.missed_instalments()) * 20;
    if days_past_due >= 60 {
        risk += 10;
    }
    if days_past_due >= 120 {
        risk += 10;
    }
    if !ever_paid {
        risk += 15;
    }
    if contacts.state.refused_to_pay {
        risk += 20;
    }
    risk.clamp(0, 100)
}

/// The points an account's history of failed arrangements adds to its score.
fn arrangement_points(contacts: &AccountContacts) -> i64 {
    let promises = (i64::from(contacts.broken_promises) * PROMISE_HISTORY_POINTS_EACH)
        .min(PROMISE_HISTORY_POINTS_MAX);
    let instalments = (i64::from(contacts.missed_instalments()) * MISSED_INSTALMENT_POINTS_EACH)
        .min(MISSED_INSTALMENT_POINTS_MAX);
    promises + instalments
}

/// One account on the worklist.
#[derive(Debug, Clone, PartialEq)]
pub struct WorklistEntry {
    pub patient_id: PatientId,
    pub patient_name: Option<String>,
    pub balance: Money,
    pub days_past_due: i64,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub assigned_to: Option<String>,
    /// The channels an outreach contact may use now; never empty.
    pub allowed_channels: Vec<Channel>,
    pub score: i64,
    /// The account's current promise to pay, judged now.
    pub promise: Option<PromiseView>,
    pub broken_promises: u32,
    pub missed_instalments: u32,
    /// 0 to 100 (see [`risk_score`]).
    pub risk_score: i64,
}

/// The score of an account (see the module documentation).
pub fn score(
    balance: Money,
    days_past_due: i64,
    last_contact_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> i64 {
    let whole_units = balance.minor_units() / 10_i64.pow(balance.currency().minor_unit_digits());
    let balance_points = (whole_units / 10).clamp(0, BALANCE_POINTS_MAX);
    let age_points = days_past_due
        .saturating_mul(AGE_POINTS_PER_DAY)
        .clamp(0, AGE_POINTS_MAX);
    let contact_points = match last_contact_at {
        None => CONTACT_POINTS_MAX,
        Some(at) => (now - at)
            .num_days()
            .saturating_mul(CONTACT_POINTS_PER_DAY)
            .clamp(0, CONTACT_POINTS_MAX),
    };
    balance_points + age_points + contact_points
}

/// The points a promise adds to its account's score (see the module documentation).
pub fn promise_points(promise: Option<&PromiseView>) -> i64 {
    match promise.map(|view| view.status) {
        Some(PromiseStatus::Broken) => BROKEN_PROMISE_POINTS,
        Some(PromiseStatus::PartlyKept) => PARTLY_KEPT_PROMISE_POINTS,
        _ => 0,
    }
}

/// Which outreach channels the rules allow on an account now. Without a profile from the
/// registry only a letter can be judged (it needs no consent).
pub fn allowed_channels(
    rules: &ContactRules,
    contacts: &AccountContacts,
    fallback: &ContactProfile,
    now: DateTime<Utc>,
) -> Vec<Channel> {
    let profile = contacts.profile.as_ref().unwrap_or(fallback);
    let mut allowed = Vec::new();
    for channel in CHANNELS {
        if contacts.profile.is_none() && channel != Channel::Letter {
            continue;
        }
        let proposed = ProposedContact {
            channel,
            purpose: Purpose::Outreach,
        };
        if rules
            .check(
                &proposed,
                contacts.state,
                profile,
                &contacts.recent_calls,
                now,
            )
            .is_ok()
        {
            allowed.push(channel);
        }
    }
    allowed
}

/// The worklist over `accounts` (open balances): accounts being worked already and accounts with
/// no channel allowed now are left out, the rest ranked by their full score (see the module
/// documentation). `collector`: only accounts assigned to them.
#[allow(clippy::too_many_arguments)]
pub fn build_worklist(
    accounts: Vec<Receivable>,
    contacts: &HashMap<PatientId, AccountContacts>,
    rules: &ContactRules,
    fallback: &ContactProfile,
    collector: Option<&str>,
    as_of: NaiveDate,
    payment_terms_days: u32,
    now: DateTime<Utc>,
) -> Vec<WorklistEntry> {
    let none = AccountContacts::default();
    let mut entries = Vec::new();
    for account in accounts {
        let known = contacts.get(&account.patient_id).unwrap_or(&none);
        if collector.is_some() && known.assigned_to.as_deref() != collector {
            continue;
        }
        if known.being_worked() {
            continue;
        }
        let allowed = allowed_channels(rules, known, fallback, now);
        if allowed.is_empty() {
            continue;
        }
        let days_past_due = account
            .days_past_due(as_of, payment_terms_days)
            .unwrap_or(0);
        let risk = risk_score(known, days_past_due, account.last_payment_at.is_some());
        entries.push(WorklistEntry {
            score: score(account.balance, days_past_due, known.last_contact_at, now)
                + promise_points(known.promise.as_ref())
                + arrangement_points(known)
                + risk,
            broken_promises: known.broken_promises,
            missed_instalments: known.missed_instalments(),
            risk_score: risk,
            patient_id: account.patient_id,
            patient_name: account.patient_name,
            balance: account.balance,
            days_past_due,
            last_contact_at: known.last_contact_at,
            assigned_to: known.assigned_to.clone(),
            allowed_channels: allowed,
            promise: known.promise.clone(),
        });
    }
    entries.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| b.balance.minor_units().cmp(&a.balance.minor_units()))
            .then_with(|| a.patient_id.to_string().cmp(&b.patient_id.to_string()))
    });
    entries
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use clinic_common::Currency;

    use super::*;

    fn pesos(whole: i64) -> Money {
        Money::from_minor(whole * 100, Currency::MXN)
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T18:00:00Z".parse().expect("valid")
    }

    #[test]
    fn each_part_of_the_score_is_capped() {
        assert_eq!(score(pesos(1_500), 0, Some(now()), now()), 150);
        assert_eq!(score(pesos(50_000), 0, Some(now()), now()), 1000);
        assert_eq!(score(pesos(0), 10, Some(now()), now()), 50);
        assert_eq!(score(pesos(0), 400, Some(now()), now()), 900);
        assert_eq!(score(pesos(0), -5, Some(now()), now()), 0);
        assert_eq!(
            score(pesos(0), 0, Some(now() - TimeDelta::days(3)), now()),
            30
        );
        assert_eq!(score(pesos(0), 0, None, now()), 300);
    }

    fn receivable(whole: i64, service_date: NaiveDate) -> Receivable {
        Receivable {
            patient_id: PatientId::new(),
            patient_name: None,
            balance: pesos(whole),
            oldest_open_charge_date: Some(service_date),
            last_payment_at: None,
            last_activity_at: None,
        }
    }

    fn reachable() -> ContactProfile {
        ContactProfile {
            time_zone: chrono_tz::America::Mexico_City,
            consent_sms: true,
            consent_whatsapp: false,
            consent_email: false,
            consent_phone_call: true,
            has_phone: true,
            has_email: false,
        }
    }

    #[test]
    fn accounts_with_nothing_allowed_now_are_left_out_and_the_rest_ranked() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("valid");
        let (old, big, ceased) = (
            receivable(1_000, day(1)),
            receivable(3_000, day(20)),
            receivable(9_000, day(1)),
        );
        let mut contacts = HashMap::new();
        for account in [&old, &big] {
            contacts.insert(
                account.patient_id,
                AccountContacts {
                    profile: Some(reachable()),
                    last_contact_at: Some(now()),
                    ..Default::default()
                },
            );
        }
        contacts.insert(
            ceased.patient_id,
            AccountContacts {
                profile: Some(reachable()),
                state: ContactState {
                    cease_requested: true,
                    ..Default::default()
                },
                ..Default::default()
            },
        );

        let worklist = build_worklist(
            vec![old.clone(), big.clone(), ceased],
            &contacts,
            &ContactRules::default(),
            &reachable(),
            None,
            day(22),
            0,
            now(),
        );

        let ranked: Vec<(PatientId, i64)> = worklist
            .iter()
            .map(|entry| (entry.patient_id, entry.score))
            .collect();
        // old: 100 + 21 days * 5 + 15 (never paid) = 220; big: 300 + 2 days * 5 + 15 = 325.
        assert_eq!(ranked, [(big.patient_id, 325), (old.patient_id, 220)]);
        assert_eq!(
            worklist[0].allowed_channels,
            [Channel::PhoneCall, Channel::Sms, Channel::Letter]
        );
    }

    fn judged(status: super::PromiseStatus) -> PromiseView {
        let promise = super::super::Promise {
            promise_id: "p-1".into(),
            patient_id: PatientId::new(),
            amount: pesos(100),
            promised_date: NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid"),
            note: super::super::Notes::parse("").expect("valid"),
            contact_id: None,
            made_at: now(),
            recorded_by: "collections:ana".into(),
            superseded_at: None,
            superseded_by: None,
        };
        PromiseView {
            promise,
            status,
            paid: pesos(0),
        }
    }

    #[test]
    fn an_open_promise_or_a_plan_on_track_keeps_an_account_off_the_list_until_it_fails() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("valid");
        let (promised, planned, failed) = (
            receivable(1_000, day(1)),
            receivable(1_000, day(1)),
            receivable(1_000, day(1)),
        );
        let reachable_with = |promise, plan| AccountContacts {
            profile: Some(reachable()),
            promise,
            plan,
            ..Default::default()
        };
        let mut contacts = HashMap::new();
        contacts.insert(
            promised.patient_id,
            reachable_with(Some(judged(PromiseStatus::Open)), None),
        );
        let on_track = PlanStanding {
            missed_instalments: 0,
            unpaid_lines: 3,
        };
        contacts.insert(planned.patient_id, reachable_with(None, Some(on_track)));
        let mut failing = reachable_with(
            Some(judged(PromiseStatus::Broken)),
            Some(PlanStanding {
                missed_instalments: 1,
                unpaid_lines: 3,
            }),
        );
        failing.broken_promises = 2;
        contacts.insert(failed.patient_id, failing);

        let worklist = build_worklist(
            vec![promised, planned, failed.clone()],
            &contacts,
            &ContactRules::default(),
            &reachable(),
            None,
            day(22),
            0,
            now(),
        );

        assert_eq!(worklist.len(), 1);
        let entry = &worklist[0];
        assert_eq!(entry.patient_id, failed.patient_id);
        // risk: 2 x 25 + 1 x 20 + 15 (never paid) = 85.
        assert_eq!(entry.risk_score, 85);
        assert_eq!((entry.broken_promises, entry.missed_instalments), (2, 1));
        // 100 (balance) + 105 (21 days) + 300 (never contacted) + 400 (broken) + 200 (two
        // broken) + 150 (one missed) + 85 (risk).
        assert_eq!(entry.score, 1_340);
    }

    #[test]
    fn risk_grows_with_failed_arrangements_age_and_refusal_and_is_capped() {
        let mut contacts = AccountContacts::default();
        assert_eq!(risk_score(&contacts, 10, true), 0);
        assert_eq!(risk_score(&contacts, 60, true), 10);
        assert_eq!(risk_score(&contacts, 120, false), 35);
        contacts.state.refused_to_pay = true;
        contacts.broken_promises = 3;
        assert_eq!(risk_score(&contacts, 200, false), 100);
    }

    #[test]
    fn only_a_broken_or_partly_kept_promise_adds_points() {
        assert_eq!(promise_points(None), 0);
        assert_eq!(promise_points(Some(&judged(PromiseStatus::Open))), 0);
        assert_eq!(promise_points(Some(&judged(PromiseStatus::Kept))), 0);
        assert_eq!(promise_points(Some(&judged(PromiseStatus::Superseded))), 0);
        assert_eq!(
            promise_points(Some(&judged(PromiseStatus::PartlyKept))),
            200
        );
        assert_eq!(promise_points(Some(&judged(PromiseStatus::Broken))), 400);
    }
}
