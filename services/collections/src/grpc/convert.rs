//! Domain ⇄ protobuf conversions for the collections service. Nothing past this module sees a
//! protobuf type.

use chrono::NaiveDate;
use clinic_common::ids::{PatientId, RequestId};
use clinic_common::validation::{FieldViolations, optional_text, required_text};
use clinic_common::{Currency, Money};
use clinic_proto::collections::v1 as pb;
use clinic_proto::{
    date_from_proto, date_to_proto, money_from_proto, money_to_proto, page_from_proto,
    timestamp_to_proto,
};

use crate::domain::{
    AccountAging, AgingBucket, AgingBuckets, BillingIssue, Channel, CollectionsError, Contact,
    ContactKind, ContactRule, ContactState, Direction, Dispute, DisputeAnswer, Escalation,
    EscalationTarget, Frequency, ISSUES, InstalmentStatus, InstalmentView, IssuePeriod, Kpis,
    LedgerSyncStatus, MAX_INSTALMENTS, NewAnswer, NewContact, NewEscalation, NewPlan, NewPromise,
    Notes, Outcome, PaymentPlan, Period, PromiseStatus, PromiseView, ProposedContact, Purpose,
    Receivable, TRENDS_MAX_DAYS, WorklistEntry, check_first_date, check_promised_date,
};

/// Page sizes for lists of accounts.
pub const ACCOUNTS_PAGE_DEFAULT: u32 = 50;
pub const ACCOUNTS_PAGE_MAX: u32 = 500;

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

/// Day counts on the wire are `int32`; ages beyond it (millennia) are clamped.
pub fn days_to_proto(days: i64) -> i32 {
    i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
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

/// `days_past_due`: as of `today`, with the clinic's payment terms.
pub fn receivable_to_proto(
    receivable: &Receivable,
    today: NaiveDate,
    payment_terms_days: u32,
) -> pb::ReceivableAccount {
    pb::ReceivableAccount {
        patient_id: receivable.patient_id.to_string(),
        patient_name: receivable.patient_name.clone().unwrap_or_default(),
        balance: Some(money_to_proto(receivable.balance)),
        oldest_open_charge_date: receivable.oldest_open_charge_date.map(date_to_proto),
        last_payment_time: receivable.last_payment_at.map(timestamp_to_proto),
        last_activity_time: receivable.last_activity_at.map(timestamp_to_proto),
        days_past_due: receivable
            .days_past_due(today, payment_terms_days)
            .map_or(0, days_to_proto),
    }
}

pub fn sync_status_to_proto(status: &LedgerSyncStatus) -> pb::LedgerSyncStatus {
    pb::LedgerSyncStatus {
        applied_sequence: status.applied_sequence,
        billing_head_sequence: status.billing_head_sequence,
        last_sync_time: status.last_sync_at.map(timestamp_to_proto),
    }
}

/// The longest `next_step` accepted.
const NEXT_STEP_MAX_CHARS: usize = 200;

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

/// A patient id that a request must carry in `field`.
pub fn required_patient_id(text: &str, field: &str) -> Result<PatientId, CollectionsError> {
    let mut violations = FieldViolations::new();
    match patient_id_from(&mut violations, field, text) {
        Some(patient_id) if violations.is_empty() => Ok(patient_id),
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

/// A `RecordPromise` request, read; every bad field is named. `today` is the clinic-local day
/// the promised day is checked against.
pub fn new_promise(
    request: &pb::RecordPromiseRequest,
    currency: Currency,
    today: NaiveDate,
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

fn frequency_from(value: i32) -> Result<Frequency, &'static str> {
    match pb::PaymentPlanFrequency::try_from(value) {
        Ok(pb::PaymentPlanFrequency::Weekly) => Ok(Frequency::Weekly),
        Ok(pb::PaymentPlanFrequency::Biweekly) => Ok(Frequency::Biweekly),
        Ok(pb::PaymentPlanFrequency::Monthly) => Ok(Frequency::Monthly),
        Ok(pb::PaymentPlanFrequency::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known frequency"),
    }
}

fn frequency_to(frequency: Frequency) -> pb::PaymentPlanFrequency {
    match frequency {
        Frequency::Weekly => pb::PaymentPlanFrequency::Weekly,
        Frequency::Biweekly => pb::PaymentPlanFrequency::Biweekly,
        Frequency::Monthly => pb::PaymentPlanFrequency::Monthly,
    }
}

/// A `CreatePaymentPlan` request, read; every bad field is named. `today` is the clinic-local
/// day the first date is checked against.
pub fn new_plan(
    request: &pb::CreatePaymentPlanRequest,
    currency: Currency,
    today: NaiveDate,
) -> Result<NewPlan, CollectionsError> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(plan) = &request.plan else {
        violations.add("plan", "is required");
        return Err(violations.into());
    };
    let patient_id = patient_id_from(&mut violations, "plan.patient_id", &plan.patient_id);
    plan_terms(
        &mut violations,
        plan,
        patient_id,
        request_id,
        currency,
        today,
    )
}

/// A `RestructurePaymentPlan` request, read: the plan replaced, the new terms (for the
/// replaced plan's account, filled in by the caller once the plan is found) and the reason.
pub fn restructuring(
    request: &pb::RestructurePaymentPlanRequest,
    currency: Currency,
    today: NaiveDate,
) -> Result<(String, NewPlan, String), CollectionsError> {
    let mut violations = FieldViolations::new();
    let plan_id = violations.check(
        "plan_id",
        uuid::Uuid::parse_str(&request.plan_id).map_err(|_| "is not a plan id"),
    );
    let reason = violations.check("reason", required_text(&request.reason, REASON_MAX_CHARS));
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    let Some(plan) = &request.plan else {
        violations.add("plan", "is required");
        return Err(violations.into());
    };
    // The account is the replaced plan's; a placeholder until the plan is read.
    let terms = plan_terms(
        &mut violations,
        plan,
        Some(PatientId::new()),
        request_id,
        currency,
        today,
    );
    match (plan_id, reason, terms) {
        (Some(plan_id), Some(reason), Ok(terms)) => Ok((plan_id.to_string(), terms, reason)),
        (_, _, Err(error)) => Err(error),
        _ => Err(violations.into()),
    }
}

/// The longest reason accepted (escalations, restructurings).
const REASON_MAX_CHARS: usize = 500;

/// The terms of a plan, read; every bad field is named (as `plan.<field>`).
fn plan_terms(
    violations: &mut FieldViolations,
    plan: &pb::PaymentPlan,
    patient_id: Option<PatientId>,
    request_id: Option<RequestId>,
    currency: Currency,
    today: NaiveDate,
) -> Result<NewPlan, CollectionsError> {
    let settlement_discount = match &plan.settlement_discount {
        None => Some(Money::zero(currency)),
        Some(discount) => violations
            .check(
                "plan.settlement_discount",
                money_from_proto(Some(discount), currency),
            )
            .and_then(|discount| {
                if discount.is_negative() {
                    violations.add("plan.settlement_discount", "must not be negative");
                    None
                } else {
                    Some(discount)
                }
            }),
    };
    let total = violations.check("plan.total", positive_money(plan.total.as_ref(), currency));
    let down_payment = match &plan.down_payment {
        None => Some(Money::zero(currency)),
        Some(down_payment) => violations
            .check(
                "plan.down_payment",
                money_from_proto(Some(down_payment), currency),
            )
            .and_then(|down_payment| {
                if down_payment.is_negative() {
                    violations.add("plan.down_payment", "must not be negative");
                    None
                } else if total
                    .is_some_and(|total| down_payment.minor_units() >= total.minor_units())
                {
                    violations.add("plan.down_payment", "must be less than the total");
                    None
                } else {
                    Some(down_payment)
                }
            }),
    };
    let instalment_count = match u32::try_from(plan.instalment_count) {
        Ok(count) if (1..=MAX_INSTALMENTS).contains(&count) => Some(count),
        _ => {
            violations.add(
                "plan.instalment_count",
                format!("must be from 1 to {MAX_INSTALMENTS}"),
            );
            None
        }
    };
    let frequency = violations.check("plan.frequency", frequency_from(plan.frequency));
    let first_date = violations
        .check("plan.first_date", date_from_proto(plan.first_date.as_ref()))
        .and_then(|first_date| {
            violations.check(
                "plan.first_date",
                check_first_date(first_date, today).map(|()| first_date),
            )
        });
    match (
        request_id,
        patient_id,
        total,
        down_payment,
        instalment_count,
        frequency,
        first_date,
        settlement_discount,
    ) {
        (
            Some(request_id),
            Some(patient_id),
            Some(total),
            Some(down_payment),
            Some(instalment_count),
            Some(frequency),
            Some(first_date),
            Some(settlement_discount),
        ) if violations.is_empty() => Ok(NewPlan {
            patient_id,
            total,
            down_payment,
            instalment_count,
            frequency,
            first_date,
            settlement_discount,
            request_id,
        }),
        _ => Err(std::mem::take(violations).into()),
    }
}

/// A `GetPaymentPlan` request, read: the plan id or the account, exactly one.
pub fn plan_lookup(
    request: &pb::GetPaymentPlanRequest,
) -> Result<(Option<String>, Option<PatientId>), CollectionsError> {
    let mut violations = FieldViolations::new();
    match (request.plan_id.is_empty(), request.patient_id.is_empty()) {
        (false, true) => {
            let plan_id = violations.check(
                "plan_id",
                uuid::Uuid::parse_str(&request.plan_id).map_err(|_| "is not a plan id"),
            );
            match plan_id {
                Some(plan_id) => Ok((Some(plan_id.to_string()), None)),
                None => Err(violations.into()),
            }
        }
        (true, false) => {
            match patient_id_from(&mut violations, "patient_id", &request.patient_id) {
                Some(patient_id) => Ok((None, Some(patient_id))),
                None => Err(violations.into()),
            }
        }
        _ => {
            violations.add(
                "plan_id",
                "exactly one of plan_id and patient_id is required",
            );
            violations.add(
                "patient_id",
                "exactly one of plan_id and patient_id is required",
            );
            Err(violations.into())
        }
    }
}

fn instalment_status_to(status: InstalmentStatus) -> pb::InstalmentStatus {
    match status {
        InstalmentStatus::Due => pb::InstalmentStatus::Due,
        InstalmentStatus::Paid => pb::InstalmentStatus::Paid,
        InstalmentStatus::PartlyPaid => pb::InstalmentStatus::PartlyPaid,
        InstalmentStatus::Missed => pb::InstalmentStatus::Missed,
    }
}

pub fn plan_to_proto(plan: &PaymentPlan, lines: &[InstalmentView]) -> pb::PaymentPlan {
    pb::PaymentPlan {
        plan_id: plan.plan_id.clone(),
        patient_id: plan.patient_id.to_string(),
        total: Some(money_to_proto(plan.total)),
        down_payment: Some(money_to_proto(plan.down_payment)),
        instalment_count: i32::try_from(plan.instalment_count).unwrap_or(i32::MAX),
        frequency: frequency_to(plan.frequency) as i32,
        first_date: Some(date_to_proto(plan.first_date)),
        create_time: Some(timestamp_to_proto(plan.created_at)),
        created_by: plan.created_by.clone(),
        settlement_discount: Some(money_to_proto(plan.settlement_discount)),
        discount_approved_by: plan.discount_approved_by.clone().unwrap_or_default(),
        replace_time: plan
            .replacement
            .as_ref()
            .map(|replacement| timestamp_to_proto(replacement.at)),
        replace_reason: plan
            .replacement
            .as_ref()
            .map(|replacement| replacement.reason.clone())
            .unwrap_or_default(),
        replaced_by: plan
            .replacement
            .as_ref()
            .map(|replacement| replacement.by_plan.clone())
            .unwrap_or_default(),
        replaces: plan.replaces.clone().unwrap_or_default(),
        settle_time: plan.settled_at.map(timestamp_to_proto),
        schedule: lines
            .iter()
            .map(|line| pb::Instalment {
                number: i32::try_from(line.scheduled.number).unwrap_or(i32::MAX),
                due_date: Some(date_to_proto(line.scheduled.due_date)),
                amount: Some(money_to_proto(line.scheduled.amount)),
                amount_paid: Some(money_to_proto(line.paid)),
                status: instalment_status_to(line.status) as i32,
            })
            .collect(),
    }
}

pub fn dispute_to_proto(dispute: &Dispute) -> pb::Dispute {
    let answer = dispute.answer.as_ref();
    pb::Dispute {
        dispute_id: dispute.dispute_id.clone(),
        patient_id: dispute.patient_id.to_string(),
        contact_id: dispute.contact_id.clone().unwrap_or_default(),
        billing_issue: billing_issue_to(dispute.billing_issue) as i32,
        open_time: Some(timestamp_to_proto(dispute.opened_at)),
        answer_time: answer.map(|given| timestamp_to_proto(given.answered_at)),
        answer: answer.map_or(pb::DisputeAnswer::Unspecified, |given| match given.answer {
            DisputeAnswer::CorrectedCharge => pb::DisputeAnswer::CorrectedCharge,
            DisputeAnswer::CreditNote => pb::DisputeAnswer::CreditNote,
            DisputeAnswer::Upheld => pb::DisputeAnswer::Upheld,
        }) as i32,
        answer_note: answer.map(|given| given.note.clone()).unwrap_or_default(),
        billing_reference: answer
            .and_then(|given| given.billing_reference.clone())
            .unwrap_or_default(),
        answered_by: answer
            .map(|given| given.answered_by.clone())
            .unwrap_or_default(),
    }
}

/// An `AnswerDispute` request, read; every bad field is named.
pub fn new_answer(
    request: &pb::AnswerDisputeRequest,
    currency: Currency,
) -> Result<NewAnswer, CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let answer = match pb::DisputeAnswer::try_from(request.answer) {
        Ok(pb::DisputeAnswer::CorrectedCharge) => Some(DisputeAnswer::CorrectedCharge),
        Ok(pb::DisputeAnswer::CreditNote) => Some(DisputeAnswer::CreditNote),
        Ok(pb::DisputeAnswer::Upheld) => Some(DisputeAnswer::Upheld),
        Ok(pb::DisputeAnswer::Unspecified) => {
            violations.add("answer", "is required");
            None
        }
        Err(_) => {
            violations.add("answer", "is not a known answer");
            None
        }
    };
    let note = violations.check("answer_note", Notes::parse(&request.answer_note));
    let correction = match answer {
        Some(answer) if answer.corrects_the_charge() => {
            let charge_id = if request.charge_id.trim().is_empty() {
                violations.add("charge_id", "is required to correct the charge");
                None
            } else {
                Some(request.charge_id.trim().to_owned())
            };
            let amount =
                violations.check("amount", positive_money(request.amount.as_ref(), currency));
            charge_id.zip(amount).map(Some)
        }
        _ => Some(None),
    };
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, answer, note, correction, request_id) {
        (Some(patient_id), Some(answer), Some(note), Some(correction), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewAnswer {
                patient_id,
                answer,
                note: note.as_str().to_owned(),
                correction,
                billing_reference: None,
                request_id,
            })
        }
        _ => Err(violations.into()),
    }
}

pub fn escalation_to_proto(escalation: &Escalation) -> pb::Escalation {
    pb::Escalation {
        escalation_id: escalation.escalation_id.clone(),
        patient_id: escalation.patient_id.to_string(),
        target: match escalation.target {
            EscalationTarget::Manager => pb::EscalationTarget::Manager,
            EscalationTarget::ExternalAgency => pb::EscalationTarget::ExternalAgency,
            EscalationTarget::WriteOffProposal => pb::EscalationTarget::WriteOffProposal,
        } as i32,
        reason: escalation.reason.clone(),
        balance: Some(money_to_proto(escalation.balance)),
        days_past_due: days_to_proto(escalation.days_past_due),
        create_time: Some(timestamp_to_proto(escalation.created_at)),
        escalated_by: escalation.escalated_by.clone(),
    }
}

/// An `EscalateAccount` request, read; every bad field is named.
pub fn new_escalation(
    request: &pb::EscalateAccountRequest,
) -> Result<NewEscalation, CollectionsError> {
    let mut violations = FieldViolations::new();
    let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
    let target = match pb::EscalationTarget::try_from(request.target) {
        Ok(pb::EscalationTarget::Manager) => Some(EscalationTarget::Manager),
        Ok(pb::EscalationTarget::ExternalAgency) => Some(EscalationTarget::ExternalAgency),
        Ok(pb::EscalationTarget::WriteOffProposal) => Some(EscalationTarget::WriteOffProposal),
        Ok(pb::EscalationTarget::Unspecified) => {
            violations.add("target", "is required");
            None
        }
        Err(_) => {
            violations.add("target", "is not a known target");
            None
        }
    };
    let reason = violations.check("reason", required_text(&request.reason, REASON_MAX_CHARS));
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, target, reason, request_id) {
        (Some(patient_id), Some(target), Some(reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(NewEscalation {
                patient_id,
                target,
                reason,
                request_id,
            })
        }
        _ => Err(violations.into()),
    }
}

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

pub fn period_from(value: i32) -> Result<Period, &'static str> {
    match pb::TrendPeriod::try_from(value) {
        Ok(pb::TrendPeriod::Day) => Ok(Period::Day),
        Ok(pb::TrendPeriod::Week) => Ok(Period::Week),
        Ok(pb::TrendPeriod::Month) => Ok(Period::Month),
        Ok(pb::TrendPeriod::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known period"),
    }
}

/// A `GetBillingIssueTrends` request, read: the span and the period.
pub fn trends_query(
    request: &pb::GetBillingIssueTrendsRequest,
) -> Result<(NaiveDate, NaiveDate, Period), CollectionsError> {
    let mut violations = FieldViolations::new();
    let from = violations.check("from_date", date_from_proto(request.from_date.as_ref()));
    let to = violations.check("to_date", date_from_proto(request.to_date.as_ref()));
    let period = violations.check("period", period_from(request.period));
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            violations.add("to_date", "must not be before from_date");
        } else if (to - from).num_days() >= TRENDS_MAX_DAYS {
            violations.add(
                "to_date",
                format!("must be less than {TRENDS_MAX_DAYS} days after from_date"),
            );
        }
    }
    match (from, to, period) {
        (Some(from), Some(to), Some(period)) if violations.is_empty() => Ok((from, to, period)),
        _ => Err(violations.into()),
    }
}

pub fn issue_counts_to_proto(counts: &[i64; 4]) -> Vec<pb::BillingIssueCount> {
    ISSUES
        .iter()
        .zip(counts)
        .map(|(issue, contacts)| pb::BillingIssueCount {
            issue: billing_issue_to(*issue) as i32,
            contacts: *contacts,
        })
        .collect()
}

pub fn trends_to_proto(periods: &[IssuePeriod]) -> pb::BillingIssueTrends {
    let mut totals = [0_i64; 4];
    for period in periods {
        for (total, count) in totals.iter_mut().zip(period.counts) {
            *total += count;
        }
    }
    pb::BillingIssueTrends {
        periods: periods
            .iter()
            .map(|period| pb::BillingIssuePeriod {
                period_start: Some(date_to_proto(period.start)),
                counts: issue_counts_to_proto(&period.counts),
                contacts: period.contacts,
            })
            .collect(),
        totals: issue_counts_to_proto(&totals),
    }
}

/// A KPI request, read: the period and a day in it (`None`: today).
pub fn kpis_query(
    period: i32,
    day: Option<&clinic_proto::common::v1::Date>,
    violations: &mut FieldViolations,
) -> Option<(Period, Option<NaiveDate>)> {
    let period = violations.check("period", period_from(period));
    let day = match day {
        None => Some(None),
        Some(day) => violations
            .check("day", date_from_proto(Some(day)))
            .map(Some),
    };
    match (period, day) {
        (Some(period), Some(day)) => Some((period, day)),
        _ => None,
    }
}

fn bp(value: Option<i64>) -> (i32, bool) {
    match value {
        Some(value) => (i32::try_from(value).unwrap_or(i32::MAX), true),
        None => (0, false),
    }
}

pub fn kpis_to_proto(kpis: &Kpis, start: NaiveDate, end: NaiveDate) -> pb::CollectionsKpis {
    let (recovery_rate_bp, recovery_rate_defined) = bp(kpis.recovery_rate_bp);
    let (current_receivables_bp, _) = bp(kpis.current_bp);
    let (overdue_receivables_bp, _) = bp(kpis.overdue_bp);
    let (promises_kept_bp, promises_kept_defined) = bp(kpis.promises_kept_bp);
    let (follow_ups_on_time_bp, follow_ups_defined) = bp(kpis.follow_ups_on_time_bp);
    pb::CollectionsKpis {
        period_start: Some(date_to_proto(start)),
        period_end: Some(date_to_proto(end)),
        collected: Some(money_to_proto(kpis.collected)),
        collectible: Some(money_to_proto(kpis.collectible)),
        recovery_rate_bp,
        recovery_rate_defined,
        receivables: Some(money_to_proto(kpis.receivables)),
        current_receivables_bp,
        overdue_receivables_bp,
        dso_centidays: kpis.dso_centidays.unwrap_or(0),
        dso_defined: kpis.dso_centidays.is_some(),
        promises_kept_bp,
        promises_judged: kpis.promises_judged,
        promises_kept_defined,
        follow_ups_on_time_bp,
        follow_ups_due: kpis.follow_ups_due,
        follow_ups_defined,
        by_collector: kpis
            .by_collector
            .iter()
            .map(|(collector, collected, payments)| pb::CollectorCollected {
                collector: collector.clone(),
                collected: Some(money_to_proto(*collected)),
                payments: *payments,
            })
            .collect(),
    }
}
