//! Contacting patients about what they owe: the contact log's records, the account's contact
//! state (cease, refusal, dispute), and the rules engine that says whether a contact may be made
//! now and, if not, which rule forbids it.
//!
//! The rules are clinic policy modelled on US Regulation F (see requirements/README.md, "Contact
//! rules"), configurable per clinic through [`ContactRules`]:
//! - no contact before 08:00 or from 21:00 on in the patient's local time, on any channel but a
//!   letter (a letter is read when the patient opens it, not when it is sent);
//! - at most 7 outbound calls in any 7 days per account, and no call for 7 days after a
//!   telephone conversation we started; calls the patient makes neither count as attempts nor
//!   start that quiet period;
//! - "stop contacting me" and "refused to pay" end outreach, and an open dispute pauses it, but
//!   permitted notices (confirming the request, answering the dispute) may still be sent;
//! - only channels the patient consented to, and that the registry has an address for.
//!
//! Inbound contacts are always recorded: the rules govern what the clinic does, not the patient.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use clinic_common::ids::PatientId;

/// Declares a closed list of values stored and sent as stable lowercase codes.
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The code stored on disk.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// Reads back what [`Self::as_str`] wrote.
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

coded_enum!(
    /// How the clinic and the patient reach each other.
    Channel {
        PhoneCall => "phone_call",
        Sms => "sms",
        WhatsApp => "whatsapp",
        Email => "email",
        Letter => "letter",
    }
);

coded_enum!(
    /// Who started the contact.
    Direction {
        /// The clinic contacted the patient: subject to the rules.
        Outbound => "outbound",
        /// The patient contacted the clinic: always recorded, never an attempt.
        Inbound => "inbound",
    }
);

coded_enum!(
    /// Whether the patient was actually reached.
    ContactKind {
        /// A try that did not reach the patient in a conversation (no answer, a message left, a
        /// letter sent).
        Attempt => "attempt",
        /// The clinic and the patient talked.
        Conversation => "conversation",
    }
);

coded_enum!(
    /// Why the clinic contacts the patient.
    Purpose {
        /// Asking for payment: every rule applies.
        Outreach => "outreach",
        /// A notice that stays allowed after a cease request, a refusal or during a dispute
        /// (confirming the request, answering the dispute).
        PermittedNotice => "permitted_notice",
    }
);

coded_enum!(
    /// How a contact ended.
    Outcome {
        NoAnswer => "no_answer",
        LeftMessage => "left_message",
        Spoke => "spoke",
        Promise => "promise",
        /// Ends outreach on the account.
        RefusedToPay => "refused_to_pay",
        /// "Stop contacting me": ends outreach on the account.
        CeaseRequested => "cease_requested",
        /// Puts the account on hold until the dispute is answered.
        Disputed => "disputed",
        WrongNumber => "wrong_number",
    }
);

coded_enum!(
    /// The billing issue the patient raised, for the clinic's reports.
    BillingIssue {
        NoIssue => "none",
        WrongCharge => "wrong_charge",
        Insurance => "insurance",
        Price => "price",
        ServiceComplaint => "service_complaint",
    }
);

coded_enum!(
    /// A contact rule, by its stable code (sent to clients in `google.rpc.ErrorInfo.reason`).
    ContactRule {
        ContactHours => "CONTACT_HOURS",
        CallFrequency => "CALL_FREQUENCY",
        AfterConversation => "AFTER_CONVERSATION",
        CeaseRequested => "CEASE_REQUESTED",
        RefusedToPay => "REFUSED_TO_PAY",
        DisputeHold => "DISPUTE_HOLD",
        /// The patient has not agreed to this channel, or the registry has no phone number or
        /// email address to use it with.
        NoConsent => "NO_CONSENT",
    }
);

impl fmt::Display for ContactRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a collector may write in a contact's notes, at most [`Notes::MAX_CHARS`] characters.
/// Notes can hold anything a patient said, so they are never logged: `Debug` hides them.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Notes(String);

impl Notes {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(text: &str) -> Result<Notes, String> {
        clinic_common::validation::free_text(text, Self::MAX_CHARS)
            .map(|text| Notes(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Notes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Notes(<redacted>)")
    }
}

/// How the patient registry says a patient may be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactProfile {
    /// Where the patient lives; contact hours are in this zone.
    pub time_zone: Tz,
    pub consent_sms: bool,
    pub consent_whatsapp: bool,
    pub consent_email: bool,
    pub consent_phone_call: bool,
    pub has_phone: bool,
    pub has_email: bool,
}

impl ContactProfile {
    /// Whether the clinic may use `channel` at all: consent and an address to use it with.
    /// Letters need neither (the clinic keeps the patient's postal address on paper).
    pub fn allows(&self, channel: Channel) -> bool {
        match channel {
            Channel::PhoneCall => self.consent_phone_call && self.has_phone,
            Channel::Sms => self.consent_sms && self.has_phone,
            Channel::WhatsApp => self.consent_whatsapp && self.has_phone,
            Channel::Email => self.consent_email && self.has_email,
            Channel::Letter => true,
        }
    }
}

/// What the contact log has set on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactState {
    pub cease_requested: bool,
    pub refused_to_pay: bool,
    pub dispute_open: bool,
}

impl ContactState {
    /// The state after a contact that ended with `outcome`.
    pub fn after(self, outcome: Outcome) -> ContactState {
        let mut next = self;
        match outcome {
            Outcome::CeaseRequested => next.cease_requested = true,
            Outcome::RefusedToPay => next.refused_to_pay = true,
            Outcome::Disputed => next.dispute_open = true,
            _ => {}
        }
        next
    }
}

/// The clinic's contact rules. The defaults are Regulation F's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactRules {
    /// The first local time a contact may be made.
    pub earliest: NaiveTime,
    /// The first local time no contact may be made any more.
    pub latest: NaiveTime,
    /// At most this many outbound calls per account in any `call_window_days`.
    pub max_call_attempts: u32,
    pub call_window_days: u32,
    /// No outbound call until this many days after a call conversation the clinic started.
    pub quiet_days_after_conversation: u32,
}

impl Default for ContactRules {
    fn default() -> Self {
        ContactRules {
            earliest: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
            latest: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
            max_call_attempts: 7,
            call_window_days: 7,
            quiet_days_after_conversation: 7,
        }
    }
}

impl ContactRules {
    /// How far back the call rules look: the history a check needs.
    pub fn lookback(&self) -> TimeDelta {
        TimeDelta::days(i64::from(
            self.call_window_days
                .max(self.quiet_days_after_conversation),
        ))
    }

    /// Whether an outbound contact on `channel` for `purpose` may be made at `now`, given the
    /// account's state, how the patient may be reached and the calls of the last
    /// [`ContactRules::lookback`]. The first rule that forbids it is returned; the order puts
    /// what the patient asked for ahead of timing.
    pub fn check(
        &self,
        contact: &ProposedContact,
        state: ContactState,
        profile: &ContactProfile,
        history: &[LoggedCall],
        now: DateTime<Utc>,
    ) -> Result<(), ContactRule> {
        let outreach = contact.purpose == Purpose::Outreach;
        if !profile.allows(contact.channel) {
            return Err(ContactRule::NoConsent);
        }
        if outreach && state.cease_requested {
            return Err(ContactRule::CeaseRequested);
        }
        if outreach && state.refused_to_pay {
            return Err(ContactRule::RefusedToPay);
        }
        if outreach && state.dispute_open {
            return Err(ContactRule::DisputeHold);
        }
        if contact.channel != Channel::Letter {
            let local = now.with_timezone(&profile.time_zone).time();
            if local < self.earliest || local >= self.latest {
                return Err(ContactRule::ContactHours);
            }
        }
        if contact.channel == Channel::PhoneCall {
            let window_start = now - TimeDelta::days(i64::from(self.call_window_days));
            let mut recent_calls: u32 = 0;
            for call in history {
                if call.at > window_start && call.at <= now {
                    recent_calls = recent_calls.saturating_add(1);
                }
            }
            if recent_calls >= self.max_call_attempts {
                return Err(ContactRule::CallFrequency);
            }
            let quiet = TimeDelta::days(i64::from(self.quiet_days_after_conversation));
            for call in history {
                if call.conversation && call.at <= now && now < call.at + quiet {
                    return Err(ContactRule::AfterConversation);
                }
            }
        }
        Ok(())
    }
}

/// Whether a contact on `channel` in `direction` can end with `outcome`.
///
/// A call is two-way: the clinic's call may go unanswered, reach a wrong number, leave a message
/// or become a conversation with any ending; a call the patient makes has reached the clinic, so
/// it cannot go unanswered or reach a wrong number. A written message (SMS, WhatsApp, email,
/// letter) is one-way: what the clinic sends is a message left, and whatever the patient writes
/// back is logged as an inbound contact of its own, which can carry their message, a promise, a
/// refusal, a cease request or a dispute, but never a talk, an unanswered try or a wrong number.
pub fn outcome_fits(channel: Channel, direction: Direction, outcome: Outcome) -> bool {
    match (channel, direction) {
        (Channel::PhoneCall, Direction::Outbound) => true,
        (Channel::PhoneCall, Direction::Inbound) => {
            !matches!(outcome, Outcome::NoAnswer | Outcome::WrongNumber)
        }
        (
            Channel::Sms | Channel::WhatsApp | Channel::Email | Channel::Letter,
            Direction::Outbound,
        ) => outcome == Outcome::LeftMessage,
        (
            Channel::Sms | Channel::WhatsApp | Channel::Email | Channel::Letter,
            Direction::Inbound,
        ) => {
            matches!(
                outcome,
                Outcome::LeftMessage
                    | Outcome::Promise
                    | Outcome::RefusedToPay
                    | Outcome::CeaseRequested
                    | Outcome::Disputed
            )
        }
    }
}

/// A contact the clinic wants to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposedContact {
    pub channel: Channel,
    pub purpose: Purpose,
}

/// An outbound phone call from the contact log, as the call rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedCall {
    pub at: DateTime<Utc>,
    /// The patient was reached and talked.
    pub conversation: bool,
}

/// A contact to record, as the collector described it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub patient_id: PatientId,
    pub channel: Channel,
    pub direction: Direction,
    pub kind: ContactKind,
    pub purpose: Purpose,
    pub outcome: Outcome,
    pub notes: Notes,
    pub next_step: Option<String>,
    pub next_step_date: Option<NaiveDate>,
    pub billing_issue: BillingIssue,
    pub request_id: clinic_common::ids::RequestId,
}

impl NewContact {
    /// What a retry must repeat exactly to count as the same request.
    pub fn fingerprint(&self) -> String {
        clinic_common::ids::request_fingerprint(&[
            &self.patient_id.to_string(),
            self.channel.as_str(),
            self.direction.as_str(),
            self.kind.as_str(),
            self.purpose.as_str(),
            self.outcome.as_str(),
            self.notes.as_str(),
            self.next_step.as_deref().unwrap_or_default(),
            &self
                .next_step_date
                .map(|date| date.to_string())
                .unwrap_or_default(),
            self.billing_issue.as_str(),
        ])
    }
}

/// One entry of the contact log. The log is append-only.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub contact_id: String,
    pub patient_id: PatientId,
    pub channel: Channel,
    pub direction: Direction,
    pub kind: ContactKind,
    pub purpose: Purpose,
    pub outcome: Outcome,
    pub notes: Notes,
    pub next_step: Option<String>,
    pub next_step_date: Option<NaiveDate>,
    pub billing_issue: BillingIssue,
    pub occurred_at: DateTime<Utc>,
    /// The staff member who recorded it (`collections:ana`).
    pub recorded_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(time_zone: Tz) -> ContactProfile {
        ContactProfile {
            time_zone,
            consent_sms: true,
            consent_whatsapp: true,
            consent_email: true,
            consent_phone_call: true,
            has_phone: true,
            has_email: true,
        }
    }

    fn call() -> ProposedContact {
        ProposedContact {
            channel: Channel::PhoneCall,
            purpose: Purpose::Outreach,
        }
    }

    fn at(instant: &str) -> DateTime<Utc> {
        instant.parse().expect("valid instant")
    }

    fn check_at(instant: &str, time_zone: Tz) -> Result<(), ContactRule> {
        ContactRules::default().check(
            &call(),
            ContactState::default(),
            &profile(time_zone),
            &[],
            at(instant),
        )
    }

    #[test]
    fn contact_hours_run_from_eight_to_just_before_nine_in_the_patient_s_zone() {
        let mexico = chrono_tz::America::Mexico_City; // UTC-6 in November
        let los_angeles = chrono_tz::America::Los_Angeles; // UTC-8 in November
        assert_eq!(
            check_at("2026-11-23T13:59:00Z", mexico),
            Err(ContactRule::ContactHours)
        );
        assert_eq!(check_at("2026-11-23T14:00:00Z", mexico), Ok(()));
        assert_eq!(check_at("2026-11-24T02:59:00Z", mexico), Ok(()));
        assert_eq!(
            check_at("2026-11-24T03:00:00Z", mexico),
            Err(ContactRule::ContactHours)
        );
        assert_eq!(
            check_at("2026-11-23T15:59:00Z", los_angeles),
            Err(ContactRule::ContactHours)
        );
        assert_eq!(check_at("2026-11-23T16:00:00Z", los_angeles), Ok(()));
        assert_eq!(check_at("2026-11-24T04:59:00Z", los_angeles), Ok(()));
        assert_eq!(
            check_at("2026-11-24T05:00:00Z", los_angeles),
            Err(ContactRule::ContactHours)
        );
    }

    #[test]
    fn the_eighth_call_in_seven_days_is_refused_until_the_first_leaves_the_window() {
        let rules = ContactRules::default();
        let first = at("2026-11-16T16:00:00Z");
        let calls: Vec<LoggedCall> = (0..7)
            .map(|day| LoggedCall {
                at: first + TimeDelta::days(day) / 2,
                conversation: false,
            })
            .collect();
        let mexico = profile(chrono_tz::America::Mexico_City);
        let state = ContactState::default();

        let eighth = rules.check(&call(), state, &mexico, &calls, at("2026-11-22T18:00:00Z"));
        let window_slid = rules.check(&call(), state, &mexico, &calls, at("2026-11-23T16:00:00Z"));

        assert_eq!(eighth, Err(ContactRule::CallFrequency));
        assert_eq!(window_slid, Ok(()));
    }

    #[test]
    fn a_call_is_refused_for_seven_days_after_a_conversation() {
        let rules = ContactRules::default();
        let talked = [LoggedCall {
            at: at("2026-11-16T16:00:00Z"),
            conversation: true,
        }];
        let mexico = profile(chrono_tz::America::Mexico_City);
        let state = ContactState::default();

        let six_days = rules.check(&call(), state, &mexico, &talked, at("2026-11-22T16:00:00Z"));
        let seven_days = rules.check(&call(), state, &mexico, &talked, at("2026-11-23T16:00:00Z"));
        let sms = ProposedContact {
            channel: Channel::Sms,
            purpose: Purpose::Outreach,
        };
        let sms_meanwhile = rules.check(&sms, state, &mexico, &talked, at("2026-11-22T16:00:00Z"));

        assert_eq!(six_days, Err(ContactRule::AfterConversation));
        assert_eq!(seven_days, Ok(()));
        assert_eq!(sms_meanwhile, Ok(()));
    }

    #[test]
    fn cease_refusal_and_dispute_stop_outreach_but_not_permitted_notices() {
        let rules = ContactRules::default();
        let mexico = profile(chrono_tz::America::Mexico_City);
        let now = at("2026-11-22T18:00:00Z");
        let notice = ProposedContact {
            channel: Channel::Letter,
            purpose: Purpose::PermittedNotice,
        };
        for (outcome, rule) in [
            (Outcome::CeaseRequested, ContactRule::CeaseRequested),
            (Outcome::RefusedToPay, ContactRule::RefusedToPay),
            (Outcome::Disputed, ContactRule::DisputeHold),
        ] {
            let state = ContactState::default().after(outcome);
            assert_eq!(rules.check(&call(), state, &mexico, &[], now), Err(rule));
            assert_eq!(rules.check(&notice, state, &mexico, &[], now), Ok(()));
        }
    }

    #[test]
    fn a_channel_needs_consent_and_an_address_but_a_letter_needs_neither() {
        let rules = ContactRules::default();
        let now = at("2026-11-22T18:00:00Z");
        let mut reachable = profile(chrono_tz::America::Mexico_City);
        reachable.consent_sms = false;
        reachable.has_email = false;
        let contact = |channel| ProposedContact {
            channel,
            purpose: Purpose::Outreach,
        };
        let state = ContactState::default();

        assert_eq!(
            rules.check(&contact(Channel::Sms), state, &reachable, &[], now),
            Err(ContactRule::NoConsent)
        );
        assert_eq!(
            rules.check(&contact(Channel::Email), state, &reachable, &[], now),
            Err(ContactRule::NoConsent)
        );
        assert_eq!(
            rules.check(&contact(Channel::WhatsApp), state, &reachable, &[], now),
            Ok(())
        );
        assert_eq!(
            rules.check(&contact(Channel::Letter), state, &reachable, &[], now),
            Ok(())
        );
    }

    #[test]
    fn call_outcomes_fit_calls_and_written_messages_only_leave_or_bring_a_message() {
        use Outcome::*;
        let all = [
            NoAnswer,
            LeftMessage,
            Spoke,
            Promise,
            RefusedToPay,
            CeaseRequested,
            Disputed,
            WrongNumber,
        ];
        let fitting = |channel, direction| -> Vec<Outcome> {
            all.into_iter()
                .filter(|&outcome| outcome_fits(channel, direction, outcome))
                .collect()
        };

        assert_eq!(fitting(Channel::PhoneCall, Direction::Outbound), all);
        assert_eq!(
            fitting(Channel::PhoneCall, Direction::Inbound),
            [
                LeftMessage,
                Spoke,
                Promise,
                RefusedToPay,
                CeaseRequested,
                Disputed
            ]
        );
        for written in [
            Channel::Sms,
            Channel::WhatsApp,
            Channel::Email,
            Channel::Letter,
        ] {
            assert_eq!(fitting(written, Direction::Outbound), [LeftMessage]);
            assert_eq!(
                fitting(written, Direction::Inbound),
                [LeftMessage, Promise, RefusedToPay, CeaseRequested, Disputed]
            );
        }
    }

    #[test]
    fn notes_are_limited_and_never_shown_in_debug_output() {
        let notes = Notes::parse("dijo que paga el viernes").expect("short enough");
        assert_eq!(format!("{notes:?}"), "Notes(<redacted>)");
        assert!(Notes::parse(&"a".repeat(2001)).is_err());
        assert!(Notes::parse(&"é".repeat(2000)).is_ok());
    }
}
