//! The collections desk's RPCs beyond the contact log and the worklist: plan history and
//! restructuring, payments by phone, the account view and its audit, billing-issue trends and
//! the contact log's purge, escalations and disputes, notices and KPIs.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::auth::{Caller, Role, authorize};
use clinic_common::client::is_unreachable;
use clinic_common::ids::RequestId;
use clinic_common::time::{local_date, start_of_day};
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as billing;
use clinic_proto::collections::v1 as pb;
use clinic_proto::patients::v1::GetPatientRequest;
use clinic_proto::{
    date_from_proto, money_from_proto, money_to_proto, next_page_token, page_from_proto,
    timestamp_to_proto,
};
use tonic::{Code, Request, Response, Status};

use super::CollectionsGrpc;
use super::convert::aging::buckets_to_proto;
use super::convert::contact::{channel_to, contact_state_to_proto, contact_to_proto};
use super::convert::dispute::{dispute_to_proto, escalation_to_proto, new_answer, new_escalation};
use super::convert::plan::restructuring;
use super::convert::promise::promise_to_proto;
use super::convert::receivable::receivable_to_proto;
use super::convert::report::{kpis_query, kpis_to_proto, trends_query, trends_to_proto};
use super::convert::{
    ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX, days_to_proto, optional_account_page,
    required_patient_id,
};
use crate::domain::{
    AgingBuckets, Channel, CollectionsError, DisputeAnswer, Language, NewAnswer, NoticeContent,
    NoticeKind, OpenDebt, Period, PromiseStatus, StatementLine, age_ledger, display_name,
    issue_trends, kpis, notice_lines, notice_text,
};
use crate::export::{self, ExportFormat};
use crate::follower::catch_up;
use crate::printing::render_notice_pdf;
use crate::registry;
use crate::store::{EscalationFacts, PlanReplacement, PlanToCreate};

/// How many of an account's contacts its view shows.
const RECENT_CONTACTS: u32 = 20;

/// `message` as a request to billing on the caller's behalf: their token goes with it, so
/// billing applies its own role rules and records who acted.
fn on_behalf_of<T, U>(incoming: &Request<T>, message: U) -> Request<U> {
    let mut outgoing = Request::new(message);
    if let Some(token) = incoming.metadata().get("authorization") {
        outgoing
            .metadata_mut()
            .insert("authorization", token.clone());
    }
    outgoing
}

/// A billing refusal passed on to the caller: billing's answer about the caller's own request
/// (an invalid card, a refused role) is theirs to see; unreachability is UNAVAILABLE.
fn billing_status(status: Status) -> Status {
    if is_unreachable(&status) {
        tracing::warn!(code = ?status.code(), "billing is unreachable");
        Status::from(CollectionsError::BillingUnavailable)
    } else {
        status
    }
}

impl CollectionsGrpc {
    fn period_bounds(&self, period: Period, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        (period.start(day), period.end(day))
    }

    /// The end of a clinic-local day, as an instant.
    fn end_of(&self, day: NaiveDate) -> DateTime<Utc> {
        start_of_day(day.succ_opt().unwrap_or(day), self.terms.time_zone)
    }

    pub(super) async fn do_list_payment_plans(
        &self,
        request: Request<pb::ListPaymentPlansRequest>,
    ) -> Result<Response<pb::ListPaymentPlansResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let patient_id = required_patient_id(&request.get_ref().patient_id, "patient_id")?;
        let plans = self
            .store
            .plans_of(patient_id)
            .await
            .map_err(CollectionsError::from)?;
        let mut listed = Vec::with_capacity(plans.len());
        for plan in &plans {
            listed.push(self.plan_with_status(plan).await?);
        }
        Ok(Response::new(pb::ListPaymentPlansResponse {
            plans: listed,
        }))
    }

    pub(super) async fn do_restructure_payment_plan(
        &self,
        request: Request<pb::RestructurePaymentPlanRequest>,
    ) -> Result<Response<pb::PaymentPlan>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let today = self.today();
        let (plan_id, mut terms, reason) =
            restructuring(request.get_ref(), self.terms.currency, today)?;
        let replaced = self
            .store
            .plan(Some(&plan_id), None)
            .await
            .map_err(CollectionsError::from)?
            .ok_or(CollectionsError::PlanNotFound)?;
        terms.patient_id = replaced.patient_id;
        let approved_by = discount_approver(&caller, terms.settlement_discount)?;
        let created = self
            .store
            .create_plan(&PlanToCreate {
                plan: &terms,
                created_by: &caller.subject,
                discount_approved_by: approved_by,
                replacing: Some(PlanReplacement {
                    plan_id: &plan_id,
                    reason: &reason,
                }),
                now: self.clock.now(),
                today,
            })
            .await?;
        Ok(Response::new(self.plan_with_status(&created).await?))
    }

    pub(super) async fn do_take_payment(
        &self,
        request: Request<pb::TakePaymentRequest>,
    ) -> Result<Response<pb::TakePaymentResponse>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let patient_id =
            super::convert::patient_id_from(&mut violations, "patient_id", &message.patient_id);
        let amount = violations.check(
            "amount",
            money_from_proto(message.amount.as_ref(), self.terms.currency).and_then(|amount| {
                if amount.is_positive() {
                    Ok(amount)
                } else {
                    Err("must be positive".to_owned())
                }
            }),
        );
        let method = match &message.method {
            Some(pb::take_payment_request::Method::Card(card)) => {
                Some(billing::post_payment_request::Method::Card(card.clone()))
            }
            Some(pb::take_payment_request::Method::BankTransfer(transfer)) => Some(
                billing::post_payment_request::Method::BankTransfer(transfer.clone()),
            ),
            None => {
                violations.add("method", "is required: card or bank_transfer");
                None
            }
        };
        let request_id = violations.check("request_id", RequestId::parse(&message.request_id));
        let (Some(patient_id), Some(amount), Some(method), Some(request_id)) =
            (patient_id, amount, method, request_id)
        else {
            return Err(CollectionsError::from(violations).into());
        };
        if !violations.is_empty() {
            return Err(CollectionsError::from(violations).into());
        }
        let post = billing::PostPaymentRequest {
            patient_id: patient_id.to_string(),
            amount: Some(money_to_proto(amount)),
            method: Some(method),
            request_id: request_id.as_str().to_owned(),
            ..Default::default()
        };
        let mut billing = self.billing_on_behalf.clone();
        let payment = billing
            .post_payment(on_behalf_of(&request, post))
            .await
            .map_err(billing_status)?
            .into_inner();
        let taken_at = payment
            .create_time
            .as_ref()
            .and_then(|time| clinic_proto::timestamp_from_proto(Some(time)).ok())
            .unwrap_or_else(|| self.clock.now());
        self.store
            .record_phone_payment(
                &payment.payment_id,
                patient_id,
                &caller.subject,
                amount,
                taken_at,
            )
            .await
            .map_err(CollectionsError::from)?;
        // Billing has recorded the payment; the receivables catch up to it before answering.
        let mut billing = self.billing.clone();
        let balance = billing
            .get_account_balance(billing::GetAccountBalanceRequest {
                patient_id: patient_id.to_string(),
                identity: None,
            })
            .await
            .map_err(billing_status)?
            .into_inner();
        let applied_sequence = catch_up(
            &self.store,
            &mut billing,
            self.terms.currency,
            &self.clock,
            balance.as_of_sequence,
        )
        .await
        .map_err(|error| {
            tracing::warn!(error = ?error, "the receivables could not catch up with billing");
            CollectionsError::BillingUnavailable
        })?;
        let account = self
            .store
            .receivable(patient_id)
            .await
            .map_err(CollectionsError::from)?
            .filter(|account| account.balance.is_positive())
            .map(|account| {
                receivable_to_proto(&account, self.today(), self.terms.payment_terms_days)
            });
        Ok(Response::new(pb::TakePaymentResponse {
            payment: Some(payment),
            account,
            applied_sequence,
        }))
    }

    pub(super) async fn do_get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::AccountOverview>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let patient_id = required_patient_id(&request.get_ref().patient_id, "patient_id")?;
        let now = self.clock.now();
        // Audited before anything is read: an opening that fails half-way was still an opening.
        self.store
            .record_account_access(patient_id, &caller.subject, caller.role.as_str(), now)
            .await
            .map_err(CollectionsError::from)?;
        let receivable = self
            .store
            .receivable(patient_id)
            .await
            .map_err(CollectionsError::from)?;
        let mut patients = self.patients.clone();
        let patient = match patients
            .get_patient(GetPatientRequest {
                patient_id: patient_id.to_string(),
            })
            .await
        {
            Ok(patient) => Some(patient.into_inner()),
            Err(status) if status.code() == Code::NotFound => {
                if receivable.is_none() {
                    return Err(CollectionsError::PatientNotFound(patient_id).into());
                }
                None
            }
            Err(status) => {
                // The account is still worth seeing; the contact details wait for the registry.
                tracing::warn!(code = ?status.code(), %patient_id, "the patient registry is unreachable");
                None
            }
        };

        let today = self.today();
        let history = self
            .store
            .ledger_history(self.end_of(today), Some(patient_id))
            .await
            .map_err(CollectionsError::from)?;
        let aged = age_ledger(
            &history.entries,
            self.terms.currency,
            today,
            self.terms.payment_terms_days,
        )
        .map_err(CollectionsError::from)?;
        let aging = match aged.first() {
            Some(account) => buckets_to_proto(&account.buckets)?,
            None => buckets_to_proto(&AgingBuckets::zero(self.terms.currency))?,
        };
        let days_past_due = aged
            .first()
            .map_or(0, |account| account.oldest_days_past_due);

        let records = self
            .store
            .promises(Some(patient_id))
            .await
            .map_err(CollectionsError::from)?;
        let promise = self
            .judge_promises(&records, now)
            .into_iter()
            .find(|view| view.status != PromiseStatus::Superseded)
            .map(|view| promise_to_proto(&view));
        let plan = match self
            .store
            .plan(None, Some(patient_id))
            .await
            .map_err(CollectionsError::from)?
        {
            Some(plan) => Some(self.plan_with_status(&plan).await?),
            None => None,
        };
        let state = self
            .store
            .contact_state(patient_id)
            .await
            .map_err(CollectionsError::from)?;
        let escalations = self
            .store
            .escalations(Some(patient_id), ACCOUNTS_PAGE_MAX, 0)
            .await
            .map_err(CollectionsError::from)?;
        let open_dispute = self
            .store
            .disputes(Some(patient_id), ACCOUNTS_PAGE_MAX, 0)
            .await
            .map_err(CollectionsError::from)?
            .into_iter()
            .find(|dispute| dispute.answer.is_none());
        let contacts = self
            .store
            .recent_contacts(patient_id, RECENT_CONTACTS)
            .await
            .map_err(CollectionsError::from)?;
        let collector = self
            .store
            .assignment(patient_id)
            .await
            .map_err(CollectionsError::from)?;

        let (name, phone, email, language, zone, consented) = match &patient {
            Some(patient) => {
                let profile = registry::contact_profile(patient, self.terms.time_zone);
                let mut consented = Vec::new();
                for channel in [
                    Channel::PhoneCall,
                    Channel::WhatsApp,
                    Channel::Sms,
                    Channel::Email,
                    Channel::Letter,
                ] {
                    if profile.allows(channel) {
                        consented.push(channel_to(channel) as i32);
                    }
                }
                (
                    display_name(&patient.given_name, &patient.family_name),
                    patient.phone.clone(),
                    patient.email.clone(),
                    patient.preferred_language.clone(),
                    profile.time_zone.name().to_owned(),
                    consented,
                )
            }
            None => (
                receivable
                    .as_ref()
                    .and_then(|account| account.patient_name.clone())
                    .unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                Vec::new(),
            ),
        };
        Ok(Response::new(pb::AccountOverview {
            patient_id: patient_id.to_string(),
            patient_name: name,
            balance: Some(money_to_proto(
                receivable
                    .as_ref()
                    .map_or(Money::zero(self.terms.currency), |account| account.balance),
            )),
            aging: Some(aging),
            days_past_due: days_to_proto(days_past_due),
            phone,
            email,
            preferred_language: language,
            time_zone: zone,
            consented_channels: consented,
            contact_state: Some(contact_state_to_proto(patient_id, state)),
            promise,
            plan,
            collector: collector.unwrap_or_default(),
            escalations: escalations.iter().map(escalation_to_proto).collect(),
            open_dispute: open_dispute.as_ref().map(dispute_to_proto),
            recent_contacts: contacts.iter().map(contact_to_proto).collect(),
        }))
    }

    pub(super) async fn do_list_account_access_log(
        &self,
        request: Request<pb::ListAccountAccessLogRequest>,
    ) -> Result<Response<pb::ListAccountAccessLogResponse>, Status> {
        authorize(&request, &[Role::Manager])?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let patient_id =
            super::convert::patient_id_from(&mut violations, "patient_id", &message.patient_id);
        let page = violations.check(
            "page",
            page_from_proto(
                message.page.as_ref(),
                ACCOUNTS_PAGE_DEFAULT,
                ACCOUNTS_PAGE_MAX,
            ),
        );
        let (Some(patient_id), Some((limit, offset))) = (patient_id, page) else {
            return Err(CollectionsError::from(violations).into());
        };
        let entries = self
            .store
            .account_accesses(patient_id, limit, offset)
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::ListAccountAccessLogResponse {
            next_page_token: next_page_token(offset, limit, entries.len()),
            entries: entries
                .into_iter()
                .map(|access| pb::AccountAccess {
                    subject: access.subject,
                    role: access.role,
                    access_time: Some(timestamp_to_proto(access.at)),
                })
                .collect(),
        }))
    }

    pub(super) async fn do_get_billing_issue_trends(
        &self,
        request: Request<pb::GetBillingIssueTrendsRequest>,
    ) -> Result<Response<pb::BillingIssueTrends>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let (from, to, period) = trends_query(request.get_ref())?;
        let zone = self.terms.time_zone;
        let issues = self
            .store
            .contact_issues(start_of_day(from, zone), self.end_of(to))
            .await
            .map_err(CollectionsError::from)?;
        let by_day: Vec<_> = issues
            .into_iter()
            .map(|(at, issue)| (local_date(at, zone), issue))
            .collect();
        let periods = issue_trends(&by_day, from, to, period);
        Ok(Response::new(trends_to_proto(&periods)))
    }

    pub(super) async fn do_purge_contact_log(
        &self,
        request: Request<pb::PurgeContactLogRequest>,
    ) -> Result<Response<pb::PurgeContactLogResponse>, Status> {
        authorize(&request, &[Role::Manager])?;
        let purged = self
            .store
            .purge_contacts(self.clock.now())
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::PurgeContactLogResponse {
            purged: i64::try_from(purged).unwrap_or(i64::MAX),
        }))
    }

    pub(super) async fn do_escalate_account(
        &self,
        request: Request<pb::EscalateAccountRequest>,
    ) -> Result<Response<pb::Escalation>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let escalation = new_escalation(request.get_ref())?;
        let receivable = self
            .store
            .receivable(escalation.patient_id)
            .await
            .map_err(CollectionsError::from)?
            .ok_or(CollectionsError::PatientNotFound(escalation.patient_id))?;
        let facts = EscalationFacts {
            balance: receivable.balance,
            days_past_due: receivable
                .days_past_due(self.today(), self.terms.payment_terms_days)
                .unwrap_or(0),
        };
        let recorded = self
            .store
            .escalate(
                &escalation,
                &facts,
                &self.policy,
                &caller.subject,
                self.clock.now(),
            )
            .await?;
        Ok(Response::new(escalation_to_proto(&recorded)))
    }

    pub(super) async fn do_list_escalations(
        &self,
        request: Request<pb::ListEscalationsRequest>,
    ) -> Result<Response<pb::ListEscalationsResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let message = request.get_ref();
        let (patient_id, limit, offset) =
            optional_account_page(&message.patient_id, message.page.as_ref())?;
        let escalations = self
            .store
            .escalations(patient_id, limit, offset)
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::ListEscalationsResponse {
            next_page_token: next_page_token(offset, limit, escalations.len()),
            escalations: escalations.iter().map(escalation_to_proto).collect(),
        }))
    }

    pub(super) async fn do_list_disputes(
        &self,
        request: Request<pb::ListDisputesRequest>,
    ) -> Result<Response<pb::ListDisputesResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let message = request.get_ref();
        let (patient_id, limit, offset) =
            optional_account_page(&message.patient_id, message.page.as_ref())?;
        let disputes = self
            .store
            .disputes(patient_id, limit, offset)
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::ListDisputesResponse {
            next_page_token: next_page_token(offset, limit, disputes.len()),
            disputes: disputes.iter().map(dispute_to_proto).collect(),
        }))
    }

    pub(super) async fn do_answer_dispute(
        &self,
        request: Request<pb::AnswerDisputeRequest>,
    ) -> Result<Response<pb::Dispute>, Status> {
        let caller = authorize(&request, &[Role::Manager])?;
        let mut answer = new_answer(request.get_ref(), self.terms.currency)?;
        // A retry is answered from the first call, without asking billing to correct again.
        let retry = self.store.earlier_answer(&answer).await?.is_some();
        let mut corrected_at = None;
        if !retry {
            let open = self
                .store
                .disputes(Some(answer.patient_id), ACCOUNTS_PAGE_MAX, 0)
                .await
                .map_err(CollectionsError::from)?
                .into_iter()
                .any(|dispute| dispute.answer.is_none());
            if !open {
                return Err(CollectionsError::NoOpenDispute.into());
            }
            if let Some((charge_id, amount)) = answer.correction.clone() {
                let (reference, sequence) = self
                    .correct_charge(&request, &answer, &charge_id, amount)
                    .await?;
                answer.billing_reference = Some(reference);
                corrected_at = Some(sequence);
            }
        }
        let dispute = self
            .store
            .answer_dispute(&answer, &caller.subject, self.clock.now())
            .await?;
        if let Some(sequence) = corrected_at {
            // The account shows the correction at once; if billing's feed cannot be read just
            // now, the follower brings it in shortly.
            let mut billing = self.billing.clone();
            if let Err(error) = catch_up(
                &self.store,
                &mut billing,
                self.terms.currency,
                &self.clock,
                sequence,
            )
            .await
            {
                tracing::warn!(error = ?error, "the receivables could not catch up with a correction");
            }
        }
        Ok(Response::new(dispute_to_proto(&dispute)))
    }

    /// Has billing take `amount` off the disputed charge, on the manager's behalf: a credit note
    /// or a correction of the charge. Returns billing's reference (the credit note number, or
    /// the correction id) and the correction's ledger sequence.
    async fn correct_charge<T>(
        &self,
        incoming: &Request<T>,
        answer: &NewAnswer,
        charge_id: &str,
        amount: Money,
    ) -> Result<(String, i64), Status> {
        if !self
            .store
            .charge_of(answer.patient_id, charge_id)
            .await
            .map_err(CollectionsError::from)?
        {
            return Err(CollectionsError::ChargeNotFound(charge_id.to_owned()).into());
        }
        // Billing keeps reasons to 500 characters; the full answer stays in the dispute.
        let mut reason: String = answer.note.chars().take(500).collect();
        if reason.trim().is_empty() {
            reason = "Answer to the patient's dispute".to_owned();
        }
        // Billing's own idempotency key, derived from the answer's: a retry corrects once.
        let request_id = format!("dispute-answer-{}", answer.request_id.as_str());
        let mut billing = self.billing_on_behalf.clone();
        let correction = match answer.answer {
            DisputeAnswer::CreditNote => billing
                .issue_credit_note(on_behalf_of(
                    incoming,
                    billing::IssueCreditNoteRequest {
                        charge_id: charge_id.to_owned(),
                        amount: Some(money_to_proto(amount)),
                        reason,
                        request_id,
                    },
                ))
                .await
                .map_err(billing_status)?
                .into_inner(),
            DisputeAnswer::CorrectedCharge | DisputeAnswer::Upheld => billing
                .post_adjustment(on_behalf_of(
                    incoming,
                    billing::PostAdjustmentRequest {
                        charge_id: charge_id.to_owned(),
                        amount: Some(money_to_proto(amount.negated())),
                        reason,
                        request_id,
                    },
                ))
                .await
                .map_err(billing_status)?
                .into_inner(),
        };
        let reference = if correction.credit_note_number.is_empty() {
            correction.correction_id
        } else {
            correction.credit_note_number
        };
        Ok((reference, correction.ledger_sequence))
    }

    pub(super) async fn do_render_notice(
        &self,
        request: Request<pb::RenderNoticeRequest>,
    ) -> Result<Response<pb::RenderedNotice>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let patient_id =
            super::convert::patient_id_from(&mut violations, "patient_id", &message.patient_id);
        let kind = match pb::NoticeKind::try_from(message.kind) {
            Ok(pb::NoticeKind::Statement) => Some(NoticeKind::Statement),
            Ok(pb::NoticeKind::FirstNotice) => Some(NoticeKind::FirstNotice),
            Ok(pb::NoticeKind::Reminder) => Some(NoticeKind::Reminder),
            Ok(pb::NoticeKind::Unspecified) => {
                violations.add("kind", "is required");
                None
            }
            Err(_) => {
                violations.add("kind", "is not a known notice");
                None
            }
        };
        let pdf = match pb::NoticeFormat::try_from(message.format) {
            Ok(pb::NoticeFormat::Text) => Some(false),
            Ok(pb::NoticeFormat::Pdf) => Some(true),
            Ok(pb::NoticeFormat::Unspecified) => {
                violations.add("format", "is required");
                None
            }
            Err(_) => {
                violations.add("format", "is not a known format");
                None
            }
        };
        let asked_language = if message.language.is_empty() {
            Some(None)
        } else {
            violations
                .check(
                    "language",
                    Language::parse(&message.language).ok_or("must be es, en, zh or ru"),
                )
                .map(Some)
        };
        let (Some(patient_id), Some(kind), Some(pdf), Some(asked_language)) =
            (patient_id, kind, pdf, asked_language)
        else {
            return Err(CollectionsError::from(violations).into());
        };

        let mut patients = self.patients.clone();
        let patient = match patients
            .get_patient(GetPatientRequest {
                patient_id: patient_id.to_string(),
            })
            .await
        {
            Ok(patient) => patient.into_inner(),
            Err(status) if status.code() == Code::NotFound => {
                return Err(CollectionsError::PatientNotFound(patient_id).into());
            }
            Err(_) => return Err(CollectionsError::RegistryUnavailable.into()),
        };
        let language = asked_language
            .or_else(|| Language::parse(&patient.preferred_language))
            .unwrap_or(Language::Es);

        // Billing describes each line (price code, service, receipt) as the patient knows it.
        let mut billing = self.billing_on_behalf.clone();
        let statement = billing
            .get_statement(on_behalf_of(
                &request,
                billing::GetStatementRequest {
                    patient_id: patient_id.to_string(),
                    from_date: None,
                    to_date: None,
                },
            ))
            .await
            .map_err(billing_status)?
            .into_inner();
        let currency = self.terms.currency;
        let mut lines = Vec::with_capacity(statement.lines.len());
        let mut descriptions = std::collections::HashMap::new();
        for line in &statement.lines {
            let amount = money_from_proto(line.amount.as_ref(), currency).map_err(|reason| {
                CollectionsError::Unexpected(anyhow::anyhow!(
                    "billing sent a statement line whose amount {reason}"
                ))
            })?;
            let running_balance = money_from_proto(line.running_balance.as_ref(), currency)
                .map_err(|reason| {
                    CollectionsError::Unexpected(anyhow::anyhow!(
                        "billing sent a running balance that {reason}"
                    ))
                })?;
            let service_date = date_from_proto(line.service_date.as_ref()).map_err(|reason| {
                CollectionsError::Unexpected(anyhow::anyhow!(
                    "billing sent a service date that {reason}"
                ))
            })?;
            descriptions.insert(line.source_id.clone(), line.description.clone());
            lines.push(StatementLine {
                service_date,
                description: line.description.clone(),
                amount,
                running_balance,
            });
        }
        let balance =
            money_from_proto(statement.closing_balance.as_ref(), currency).map_err(|reason| {
                CollectionsError::Unexpected(anyhow::anyhow!(
                    "billing sent a closing balance that {reason}"
                ))
            })?;
        let open_debts = self
            .store
            .open_charges(patient_id)
            .await
            .map_err(CollectionsError::from)?
            .into_iter()
            .map(|(service_date, source_id, remaining)| OpenDebt {
                service_date,
                description: descriptions.get(&source_id).cloned().unwrap_or(source_id),
                remaining,
            })
            .collect();
        let today = self.today();
        let days_past_due = self
            .store
            .receivable(patient_id)
            .await
            .map_err(CollectionsError::from)?
            .and_then(|account| account.days_past_due(today, self.terms.payment_terms_days))
            .unwrap_or(0);
        let content = NoticeContent {
            kind,
            language,
            clinic_name: self.clinic_name.clone(),
            patient_name: display_name(&patient.given_name, &patient.family_name),
            date: today,
            balance,
            days_past_due,
            statement: lines,
            open_debts,
        };
        let file_stem = format!("{}-{}", kind.slug(), today.format("%Y-%m-%d"));
        let notice_lines = notice_lines(&content);
        let (content, content_type, file_name) = if pdf {
            let title = notice_lines
                .get(1)
                .map(|line| line.text.clone())
                .unwrap_or_default();
            let bytes =
                tokio::task::spawn_blocking(move || render_notice_pdf(&notice_lines, &title))
                    .await
                    .map_err(|error| CollectionsError::Unexpected(error.into()))?
                    .map_err(CollectionsError::from)?;
            (bytes, "application/pdf", format!("{file_stem}.pdf"))
        } else {
            (
                notice_text(&notice_lines).into_bytes(),
                "text/plain; charset=utf-8",
                format!("{file_stem}.txt"),
            )
        };
        Ok(Response::new(pb::RenderedNotice {
            content,
            content_type: content_type.to_owned(),
            file_name,
            language: language.code().to_owned(),
        }))
    }

    /// The KPIs of the period containing `day` (today when `None`).
    async fn kpis_for(
        &self,
        period: Period,
        day: Option<NaiveDate>,
    ) -> Result<(crate::domain::Kpis, NaiveDate, NaiveDate), CollectionsError> {
        let today = self.today();
        let now = self.clock.now();
        let day = day.unwrap_or(today);
        let (start, end) = self.period_bounds(period, day);
        let counted_until = end.min(today);
        let zone = self.terms.time_zone;
        let from_instant = start_of_day(start, zone);
        // Nothing is posted after now, so the end of the last day counted bounds the ledger;
        // promises are judged as they stand at that end, or now if it is still to come.
        let until_instant = self.end_of(counted_until);
        let history = self.store.ledger_history(until_instant, None).await?;
        let records = self.store.promises(None).await?;
        let promises = self.judge_promises(&records, until_instant.min(now));
        let contacts = self
            .store
            .follow_up_contacts(start, counted_until, until_instant)
            .await?;
        let phone_payments = self
            .store
            .phone_payments(from_instant, until_instant)
            .await?;
        let deadline =
            |step_day: NaiveDate| start_of_day(step_day.succ_opt().unwrap_or(step_day), zone);
        let computed = kpis(&crate::domain::KpiInputs {
            currency: self.terms.currency,
            payment_terms_days: self.terms.payment_terms_days,
            period_start: start,
            counted_until,
            from_instant,
            until_instant,
            entries: &history.entries,
            promises: &promises,
            contacts: &contacts,
            next_step_deadline: &deadline,
            phone_payments: &phone_payments,
        })?;
        Ok((computed, start, end))
    }

    pub(super) async fn do_get_collections_kpis(
        &self,
        request: Request<pb::GetCollectionsKpisRequest>,
    ) -> Result<Response<pb::CollectionsKpis>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let Some((period, day)) = kpis_query(message.period, message.day.as_ref(), &mut violations)
        else {
            return Err(CollectionsError::from(violations).into());
        };
        let (computed, start, end) = self.kpis_for(period, day).await?;
        Ok(Response::new(kpis_to_proto(&computed, start, end)))
    }

    pub(super) async fn do_export_collections_kpis(
        &self,
        request: Request<pb::ExportCollectionsKpisRequest>,
    ) -> Result<Response<pb::ExportedKpis>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let query = kpis_query(message.period, message.day.as_ref(), &mut violations);
        let format = match pb::ExportFormat::try_from(message.format) {
            Ok(pb::ExportFormat::Csv) => Some(ExportFormat::Csv),
            Ok(pb::ExportFormat::Xlsx) => Some(ExportFormat::Xlsx),
            Ok(pb::ExportFormat::Unspecified) => {
                violations.add("format", "is required");
                None
            }
            Err(_) => {
                violations.add("format", "is not a known format");
                None
            }
        };
        let (Some((period, day)), Some(format)) = (query, format) else {
            return Err(CollectionsError::from(violations).into());
        };
        let (computed, start, end) = self.kpis_for(period, day).await?;
        let content = tokio::task::spawn_blocking(move || {
            export::render(&computed, period, start, end, format)
        })
        .await
        .map_err(|error| CollectionsError::Unexpected(error.into()))?
        .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::ExportedKpis {
            content,
            content_type: format.content_type().to_owned(),
            file_name: format.file_name(period, start),
        }))
    }
}

/// Who authorises a plan's settlement discount: the calling manager; a collector may not grant
/// one. `None` when there is no discount.
pub(super) fn discount_approver(
    caller: &Caller,
    discount: Money,
) -> Result<Option<&str>, CollectionsError> {
    if !discount.is_positive() {
        return Ok(None);
    }
    if caller.role != Role::Manager {
        return Err(CollectionsError::SettlementNeedsManager);
    }
    Ok(Some(caller.subject.as_str()))
}

/// How far back a manager may carry a promise or a plan over from earlier records.
const CARRIED_OVER_MAX_DAYS: i64 = 365;

/// When a promise was made or a plan agreed: `given` (a manager carrying it over from earlier
/// records) or `now`. Checked: not in the future, at most a year ago.
pub(super) fn record_time(
    caller: &Caller,
    given: Option<&prost_types::Timestamp>,
    field: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Status> {
    let Some(given) = given else {
        return Ok(now);
    };
    if caller.role != Role::Manager {
        return Err(Status::permission_denied(format!(
            "only a manager may set {field}"
        )));
    }
    let at = clinic_proto::timestamp_from_proto(Some(given))
        .map_err(|reason| CollectionsError::from(FieldViolations::single(field, reason)))?;
    if at > now {
        return Err(CollectionsError::from(FieldViolations::single(
            field,
            "must not be in the future",
        ))
        .into());
    }
    if now - at > chrono::TimeDelta::days(CARRIED_OVER_MAX_DAYS) {
        return Err(CollectionsError::from(FieldViolations::single(
            field,
            format!("must be at most {CARRIED_OVER_MAX_DAYS} days ago"),
        ))
        .into());
    }
    Ok(at)
}
