//! The contact log, the contact rules and accounts' contact states.

use clinic_common::ids::{PatientId, RequestId};
use clinic_common::validation::{FieldViolations, optional_text};
use clinic_proto::collections::v1 as pb;
use clinic_proto::{date_from_proto, date_to_proto, timestamp_to_proto};

use super::patient_id_from;
use crate::domain::{
    BillingIssue, Channel, CollectionsError, Contact, ContactKind, ContactRule, ContactState,
    Direction, NewContact, Notes, Outcome, ProposedContact, Purpose, outcome_fits,
};

/// The longest `next_step` accepted.
const NEXT_STEP_MAX_CHARS: usize = 200;

fn channel_from(value: i32) -> Result<Channel, &'static str> {
    match pb::ContactChannel::try_from(value) {
        Ok(pb::ContactChannel::PhoneCall) => Ok(Channel::PhoneCall),
        Ok(pb::ContactChannel::Sms) => Ok(Channel::Sms),
        Ok(pb::ContactChannel::Whatsapp) => Ok(Channel::WhatsApp),
        Ok(pb::ContactChannel::Email) => Ok(Channel::Email),
        Ok(pb::ContactChannel::Letter) => Ok(Channel::Letter),
        Ok(pb::ContactChannel::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known channel"),
    }
}

pub fn channel_to(channel: Channel) -> pb::ContactChannel {
    match channel {
        Channel::PhoneCall => pb::ContactChannel::PhoneCall,
        Channel::Sms => pb::ContactChannel::Sms,
        Channel::WhatsApp => pb::ContactChannel::Whatsapp,
        Channel::Email => pb::ContactChannel::Email,
        Channel::Letter => pb::ContactChannel::Letter,
    }
}

fn direction_from(value: i32) -> Result<Direction, &'static str> {
    match pb::ContactDirection::try_from(value) {
        Ok(pb::ContactDirection::Outbound) => Ok(Direction::Outbound),
        Ok(pb::ContactDirection::Inbound) => Ok(Direction::Inbound),
        Ok(pb::ContactDirection::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known direction"),
    }
}

fn kind_from(value: i32) -> Result<ContactKind, &'static str> {
    match pb::ContactKind::try_from(value) {
        Ok(pb::ContactKind::Attempt) => Ok(ContactKind::Attempt),
        Ok(pb::ContactKind::Conversation) => Ok(ContactKind::Conversation),
        Ok(pb::ContactKind::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known kind"),
    }
}

/// Unset means outreach: every rule applies unless the caller says it is a permitted notice.
fn purpose_from(value: i32) -> Result<Purpose, &'static str> {
    match pb::ContactPurpose::try_from(value) {
        Ok(pb::ContactPurpose::Unspecified | pb::ContactPurpose::Outreach) => Ok(Purpose::Outreach),
        Ok(pb::ContactPurpose::PermittedNotice) => Ok(Purpose::PermittedNotice),
        Err(_) => Err("is not a known purpose"),
    }
}

fn purpose_to(purpose: Purpose) -> pb::ContactPurpose {
    match purpose {
        Purpose::Outreach => pb::ContactPurpose::Outreach,
        Purpose::PermittedNotice => pb::ContactPurpose::PermittedNotice,
    }
}

fn outcome_from(value: i32) -> Result<Outcome, &'static str> {
    match pb::ContactOutcome::try_from(value) {
        Ok(pb::ContactOutcome::NoAnswer) => Ok(Outcome::NoAnswer),
        Ok(pb::ContactOutcome::LeftMessage) => Ok(Outcome::LeftMessage),
        Ok(pb::ContactOutcome::Spoke) => Ok(Outcome::Spoke),
        Ok(pb::ContactOutcome::Promise) => Ok(Outcome::Promise),
        Ok(pb::ContactOutcome::RefusedToPay) => Ok(Outcome::RefusedToPay),
        Ok(pb::ContactOutcome::CeaseRequested) => Ok(Outcome::CeaseRequested),
        Ok(pb::ContactOutcome::Disputed) => Ok(Outcome::Disputed),
        Ok(pb::ContactOutcome::WrongNumber) => Ok(Outcome::WrongNumber),
        Ok(pb::ContactOutcome::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known outcome"),
    }
}

fn outcome_to(outcome: Outcome) -> pb::ContactOutcome {
    match outcome {
        Outcome::NoAnswer => pb::ContactOutcome::NoAnswer,
        Outcome::LeftMessage => pb::ContactOutcome::LeftMessage,
        Outcome::Spoke => pb::ContactOutcome::Spoke,
        Outcome::Promise => pb::ContactOutcome::Promise,
        Outcome::RefusedToPay => pb::ContactOutcome::RefusedToPay,
        Outcome::CeaseRequested => pb::ContactOutcome::CeaseRequested,
        Outcome::Disputed => pb::ContactOutcome::Disputed,
        Outcome::WrongNumber => pb::ContactOutcome::WrongNumber,
    }
}

fn billing_issue_from(value: i32) -> Result<BillingIssue, &'static str> {
    match pb::BillingIssue::try_from(value) {
        Ok(pb::BillingIssue::Unspecified) => Ok(BillingIssue::NoIssue),
        Ok(pb::BillingIssue::WrongCharge) => Ok(BillingIssue::WrongCharge),
        Ok(pb::BillingIssue::Insurance) => Ok(BillingIssue::Insurance),
        Ok(pb::BillingIssue::Price) => Ok(BillingIssue::Price),
        Ok(pb::BillingIssue::ServiceComplaint) => Ok(BillingIssue::ServiceComplaint),
        Err(_) => Err("is not a known billing issue"),
    }
}

pub fn billing_issue_to(issue: BillingIssue) -> pb::BillingIssue {
    match issue {
        BillingIssue::NoIssue => pb::BillingIssue::Unspecified,
        BillingIssue::WrongCharge => pb::BillingIssue::WrongCharge,
        BillingIssue::Insurance => pb::BillingIssue::Insurance,
        BillingIssue::Price => pb::BillingIssue::Price,
        BillingIssue::ServiceComplaint => pb::BillingIssue::ServiceComplaint,
    }
}

pub fn rule_to_proto(rule: ContactRule) -> pb::ContactRule {
    match rule {
        ContactRule::ContactHours => pb::ContactRule::ContactHours,
        ContactRule::CallFrequency => pb::ContactRule::CallFrequency,
        ContactRule::AfterConversation => pb::ContactRule::AfterConversation,
        ContactRule::CeaseRequested => pb::ContactRule::CeaseRequested,
        ContactRule::RefusedToPay => pb::ContactRule::RefusedToPay,
        ContactRule::DisputeHold => pb::ContactRule::DisputeHold,
        ContactRule::NoConsent => pb::ContactRule::NoConsent,
    }
}

/// A `RecordContact` request, read; every bad field is named.
pub fn new_contact(request: &pb::RecordContactRequest) -> Result<NewContact, CollectionsError> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(contact) = &request.contact else {
        violations.add("contact", "is required");
        return Err(violations.into());
    };
    let patient_id = patient_id_from(&mut violations, "contact.patient_id", &contact.patient_id);
    let channel = violations.check("contact.channel", channel_from(contact.channel));
    let direction = violations.check("contact.direction", direction_from(contact.direction));
    let kind = violations.check("contact.kind", kind_from(contact.kind));
    let purpose = violations.check("contact.purpose", purpose_from(contact.purpose));
    let outcome = violations.check("contact.outcome", outcome_from(contact.outcome));
    let notes = violations.check("contact.notes", Notes::parse(&contact.notes));
    let next_step = violations.check(
        "contact.next_step",
        optional_text(&contact.next_step, NEXT_STEP_MAX_CHARS),
    );
    let next_step_date = match &contact.next_step_date {
        None => Some(None),
        Some(date) => violations
            .check("contact.next_step_date", date_from_proto(Some(date)))
            .map(Some),
    };
    let billing_issue = violations.check(
        "contact.billing_issue",
        billing_issue_from(contact.billing_issue),
    );
    if let (Some(channel), Some(direction), Some(outcome)) = (channel, direction, outcome)
        && !outcome_fits(channel, direction, outcome)
    {
        violations.add(
            "contact.outcome",
            "does not fit the channel and direction: a written message the clinic sends can only \
             be a message left, and only a call the clinic makes can go unanswered or reach a \
             wrong number",
        );
    }
    match (
        request_id,
        patient_id,
        channel,
        direction,
        kind,
        purpose,
        outcome,
        notes,
        next_step,
        next_step_date,
        billing_issue,
    ) {
        (
            Some(request_id),
            Some(patient_id),
            Some(channel),
            Some(direction),
            Some(kind),
            Some(purpose),
            Some(outcome),
            Some(notes),
            Some(next_step),
            Some(next_step_date),
            Some(billing_issue),
        ) if violations.is_empty() => Ok(NewContact {
            patient_id,
            channel,
            direction,
            kind,
            purpose,
            outcome,
            notes,
            next_step,
            next_step_date,
            billing_issue,
            request_id,
        }),
        _ => Err(violations.into()),
    }
}

pub fn contact_to_proto(contact: &Contact) -> pb::Contact {
    pb::Contact {
        contact_id: contact.contact_id.clone(),
        patient_id: contact.patient_id.to_string(),
        channel: channel_to(contact.channel) as i32,
        direction: match contact.direction {
            Direction::Outbound => pb::ContactDirection::Outbound,
            Direction::Inbound => pb::ContactDirection::Inbound,
        } as i32,
        kind: match contact.kind {
            ContactKind::Attempt => pb::ContactKind::Attempt,
            ContactKind::Conversation => pb::ContactKind::Conversation,
        } as i32,
        purpose: purpose_to(contact.purpose) as i32,
        outcome: outcome_to(contact.outcome) as i32,
        notes: contact.notes.as_str().to_owned(),
        next_step: contact.next_step.clone().unwrap_or_default(),
        next_step_date: contact.next_step_date.map(date_to_proto),
        billing_issue: billing_issue_to(contact.billing_issue) as i32,
        create_time: Some(timestamp_to_proto(contact.occurred_at)),
        recorded_by: contact.recorded_by.clone(),
    }
}

/// A `CheckContact` request, read.
pub fn proposed_contact(
    request: &pb::CheckContactRequest,
) -> Result<(PatientId, ProposedContact), CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let channel = violations.check("channel", channel_from(request.channel));
    let purpose = violations.check("purpose", purpose_from(request.purpose));
    match (patient_id, channel, purpose) {
        (Some(patient_id), Some(channel), Some(purpose)) if violations.is_empty() => {
            Ok((patient_id, ProposedContact { channel, purpose }))
        }
        _ => Err(violations.into()),
    }
}

pub fn contact_state_to_proto(patient_id: PatientId, state: ContactState) -> pb::ContactState {
    pb::ContactState {
        patient_id: patient_id.to_string(),
        cease_requested: state.cease_requested,
        refused_to_pay: state.refused_to_pay,
        dispute_open: state.dispute_open,
    }
}
