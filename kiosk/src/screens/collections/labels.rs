//! What the collections service's enums read as, in the desk's language.

use clinic_proto::collections::v1 as collections;
use collections::{BillingIssue, ContactChannel, ContactOutcome};

use crate::i18n::{Lang, T};

pub(super) fn channel_text(channel: ContactChannel) -> T {
    match channel {
        ContactChannel::PhoneCall | ContactChannel::Unspecified => T::ChannelCall,
        ContactChannel::Sms => T::ChannelSms,
        ContactChannel::Whatsapp => T::ChannelWhatsApp,
        ContactChannel::Email => T::ChannelEmail,
        ContactChannel::Letter => T::ChannelLetter,
    }
}

/// "Phone call, SMS, Letter" from the wire's channel numbers.
pub(super) fn channels_text(channels: &[i32], lang: Lang) -> String {
    channels
        .iter()
        .filter_map(|&channel| ContactChannel::try_from(channel).ok())
        .map(|channel| channel_text(channel).get(lang))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn outcome_text(outcome: ContactOutcome) -> T {
    match outcome {
        ContactOutcome::NoAnswer | ContactOutcome::Unspecified => T::OutcomeNoAnswer,
        ContactOutcome::LeftMessage => T::OutcomeLeftMessage,
        ContactOutcome::Spoke => T::OutcomeSpoke,
        ContactOutcome::Promise => T::OutcomePromise,
        ContactOutcome::RefusedToPay => T::OutcomeRefused,
        ContactOutcome::CeaseRequested => T::OutcomeCease,
        ContactOutcome::Disputed => T::OutcomeDisputed,
        ContactOutcome::WrongNumber => T::OutcomeWrongNumber,
    }
}

pub(super) fn issue_text(issue: BillingIssue) -> T {
    match issue {
        BillingIssue::Unspecified => T::IssueNone,
        BillingIssue::WrongCharge => T::IssueWrongCharge,
        BillingIssue::Insurance => T::IssueInsurance,
        BillingIssue::Price => T::IssuePrice,
        BillingIssue::ServiceComplaint => T::IssueComplaint,
    }
}

pub(super) fn rule_text(rule: i32) -> T {
    use collections::ContactRule;
    match ContactRule::try_from(rule).unwrap_or_default() {
        ContactRule::ContactHours => T::RuleContactHours,
        ContactRule::CallFrequency => T::RuleCallFrequency,
        ContactRule::AfterConversation => T::RuleAfterConversation,
        ContactRule::CeaseRequested => T::RuleCease,
        ContactRule::RefusedToPay => T::RuleRefused,
        ContactRule::DisputeHold => T::RuleDispute,
        ContactRule::NoConsent | ContactRule::Unspecified => T::RuleNoConsent,
    }
}

pub(super) fn promise_status_text(status: i32) -> T {
    use collections::PromiseStatus;
    match PromiseStatus::try_from(status).unwrap_or_default() {
        PromiseStatus::Open | PromiseStatus::Unspecified => T::PromiseOpen,
        PromiseStatus::Kept => T::PromiseKept,
        PromiseStatus::PartlyKept => T::PromisePartlyKept,
        PromiseStatus::Broken => T::PromiseBroken,
        PromiseStatus::Superseded => T::PromiseSuperseded,
    }
}

pub(super) fn instalment_status_text(status: i32) -> T {
    use collections::InstalmentStatus;
    match InstalmentStatus::try_from(status).unwrap_or_default() {
        InstalmentStatus::Due | InstalmentStatus::Unspecified => T::InstalmentDue,
        InstalmentStatus::Paid => T::InstalmentPaid,
        InstalmentStatus::PartlyPaid => T::InstalmentPartlyPaid,
        InstalmentStatus::Missed => T::InstalmentMissed,
    }
}
