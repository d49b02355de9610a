//! The collections service over gRPC: each handler checks the caller's role, converts the
//! request, asks the store and converts the result back.

mod convert;
mod desk;
mod error;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::Currency;
use clinic_common::auth::{Role, authorize};
use clinic_common::clock::SharedClock;
use clinic_common::time::{local_date, start_of_day};
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_server::CollectionsService;
use clinic_proto::{date_to_proto, money_to_proto, next_page_token, page_from_proto};
use tonic::{Request, Response, Status};

use clinic_common::client::ServiceChannel;
use clinic_common::ids::PatientId;
use clinic_proto::patients::v1::GetPatientRequest;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use tonic::Code;

use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use tonic::transport::Channel;

use crate::domain::{
    AgingBuckets, AgingReport, CollectionsError, ContactProfile, ContactRules, EscalationPolicy,
    PaymentPlan, PlanStanding, PromiseStatus, PromiseView, age_ledger, age_open_debts,
    build_worklist, plan_status, promise_status,
};
use crate::registry;
use crate::store::{ContactToRecord, PlanToCreate, PromiseRecords, ReceivablesStore};

use convert::aging::{account_aging_to_proto, aging_query, buckets_to_proto};
use convert::contact::{
    contact_state_to_proto, contact_to_proto, new_contact, proposed_contact, rule_to_proto,
};
use convert::plan::{new_plan, plan_lookup, plan_to_proto};
use convert::promise::{new_promise, promise_to_proto, promises_query};
use convert::receivable::{receivable_to_proto, sync_status_to_proto};
use convert::worklist::{assignment, worklist_entry_to_proto, worklist_query};
use convert::{ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX, patient_id_from, required_patient_id};

/// What the handlers need to know about the clinic.
#[derive(Debug, Clone, Copy)]
pub struct ClinicTerms {
    pub time_zone: Tz,
    pub currency: Currency,
    /// Days after the service day that a charge falls due.
    pub payment_terms_days: u32,
}

/// Implements `clinic.collections.v1.CollectionsService`.
pub struct CollectionsGrpc {
    store: ReceivablesStore,
    clock: SharedClock,
    terms: ClinicTerms,
    rules: ContactRules,
    policy: EscalationPolicy,
    /// Shown on notices as the creditor.
    clinic_name: String,
    /// The registry, asked for a patient's contact profile at every contact check, so that a
    /// consent withdrawn a minute ago is already respected.
    patients: PatientServiceClient<ServiceChannel>,
    /// Billing, called as this service (balances, the ledger feed).
    billing: BillingServiceClient<ServiceChannel>,
    /// Billing, called with the caller's own token (payments taken by phone, statements), so
    /// billing's role rules apply to the person and its records name them.
    billing_on_behalf: BillingServiceClient<Channel>,
}

/// The other services the handlers call.
pub struct Upstream {
    pub patients: ServiceChannel,
    pub billing: ServiceChannel,
    pub billing_on_behalf: Channel,
}

impl CollectionsGrpc {
    pub fn new(
        store: ReceivablesStore,
        clock: SharedClock,
        terms: ClinicTerms,
        rules: ContactRules,
        policy: EscalationPolicy,
        clinic_name: String,
        upstream: Upstream,
    ) -> Self {
        CollectionsGrpc {
            store,
            clock,
            terms,
            rules,
            policy,
            clinic_name,
            patients: PatientServiceClient::new(upstream.patients),
            billing: BillingServiceClient::new(upstream.billing),
            billing_on_behalf: BillingServiceClient::new(upstream.billing_on_behalf),
        }
    }

    /// How the patient may be reached, fresh from the registry and kept; when the registry
    /// cannot be reached, the last profile it gave.
    async fn contact_profile(
        &self,
        patient_id: PatientId,
    ) -> Result<ContactProfile, CollectionsError> {
        let mut patients = self.patients.clone();
        let request = GetPatientRequest {
            patient_id: patient_id.to_string(),
        };
        match patients.get_patient(request).await {
            Ok(patient) => {
                let profile =
                    registry::contact_profile(&patient.into_inner(), self.terms.time_zone);
                self.store
                    .save_contact_profile(patient_id, &profile, self.clock.now())
                    .await?;
                Ok(profile)
            }
            Err(status) if status.code() == Code::NotFound => {
                Err(CollectionsError::PatientNotFound(patient_id))
            }
            Err(status) => {
                tracing::warn!(
                    code = ?status.code(),
                    %patient_id,
                    "the patient registry is unreachable; using the last contact profile"
                );
                self.store
                    .contact_profile(patient_id)
                    .await?
                    .ok_or(CollectionsError::RegistryUnavailable)
            }
        }
    }

    /// Today, in the clinic's time zone.
    fn today(&self) -> NaiveDate {
        local_date(self.clock.now(), self.terms.time_zone)
    }

    /// Each promise judged at `at`: promises made later are left out, payments recorded later
    /// are not counted.
    fn judge_promises(&self, records: &PromiseRecords, at: DateTime<Utc>) -> Vec<PromiseView> {
        let mut views = Vec::with_capacity(records.promises.len());
        for promise in &records.promises {
            if promise.made_at > at {
                continue;
            }
            let mut judged = promise.clone();
            // A promise superseded after `at` was still running then.
            if judged
                .superseded_at
                .is_some_and(|superseded| superseded > at)
            {
                judged.superseded_at = None;
                judged.superseded_by = None;
            }
            let payments = records
                .payments
                .get(&promise.patient_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            views.push(promise_status(&judged, payments, at, self.terms.time_zone));
        }
        views
    }

    /// A plan with each line's status now, from the payments on its account.
    async fn plan_with_status(
        &self,
        plan: &PaymentPlan,
    ) -> Result<pb::PaymentPlan, CollectionsError> {
        let payments = self
            .store
            .promises(Some(plan.patient_id))
            .await?
            .payments
            .remove(&plan.patient_id)
            .unwrap_or_default();
        let lines = plan_status(plan, &payments, self.clock.now(), self.today());
        Ok(plan_to_proto(plan, &lines))
    }

    /// The aging on `as_of`, from the ledger as it stood at the end of that clinic-local day.
    async fn aging(
        &self,
        as_of: NaiveDate,
        patient_id: Option<PatientId>,
        limit: u32,
        offset: u64,
    ) -> Result<AgingReport, CollectionsError> {
        let (mut aged, names, applied_sequence) = if as_of >= self.today() {
            // Nothing is posted after now, so the ledger at the end of `as_of` is the ledger as
            // the receivables hold it: age their open debts, without replaying the ledger.
            let open = self.store.open_debts(patient_id).await?;
            let aged = age_open_debts(
                &open.debts,
                self.terms.currency,
                as_of,
                self.terms.payment_terms_days,
            )
            .map_err(|error| CollectionsError::Unexpected(error.into()))?;
            (aged, open.names, open.applied_sequence)
        } else {
            let end_of_day = start_of_day(as_of.succ_opt().unwrap_or(as_of), self.terms.time_zone);
            let history = self.store.ledger_history(end_of_day, patient_id).await?;
            let aged = age_ledger(
                &history.entries,
                self.terms.currency,
                as_of,
                self.terms.payment_terms_days,
            )?;
            (aged, history.names, history.applied_sequence)
        };
        let mut total = AgingBuckets::zero(self.terms.currency);
        for account in &aged {
            total
                .add_all(&account.buckets)
                .map_err(|error| CollectionsError::Unexpected(error.into()))?;
        }
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(aged.len());
        let end = start.saturating_add(limit as usize).min(aged.len());
        let mut accounts: Vec<_> = aged.drain(start..end).collect();
        for account in &mut accounts {
            account.patient_name = names.get(&account.patient_id).cloned();
        }
        Ok(AgingReport {
            as_of,
            total,
            accounts,
            as_of_sequence: applied_sequence,
        })
    }
}

#[tonic::async_trait]
impl CollectionsService for CollectionsGrpc {
    #[tracing::instrument(skip_all)]
    async fn list_receivables(
        &self,
        request: Request<pb::ListReceivablesRequest>,
    ) -> Result<Response<pb::ListReceivablesResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let page = violations.check(
            "page",
            page_from_proto(
                request.page.as_ref(),
                ACCOUNTS_PAGE_DEFAULT,
                ACCOUNTS_PAGE_MAX,
            ),
        );
        let Some((size, offset)) = page else {
            return Err(CollectionsError::from(violations).into());
        };
        let today = self.today();
        let page = self
            .store
            .list_receivables(size, offset)
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::ListReceivablesResponse {
            next_page_token: next_page_token(offset, size, page.accounts.len()),
            accounts: page
                .accounts
                .iter()
                .map(|account| receivable_to_proto(account, today, self.terms.payment_terms_days))
                .collect(),
            total_open: Some(money_to_proto(page.total_open)),
            as_of_sequence: page.as_of_sequence,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_ledger_sync_status(
        &self,
        request: Request<pb::GetLedgerSyncStatusRequest>,
    ) -> Result<Response<pb::LedgerSyncStatus>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager, Role::Service])?;
        let status = self
            .store
            .sync_status()
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(sync_status_to_proto(&status)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_aging(
        &self,
        request: Request<pb::GetAgingRequest>,
    ) -> Result<Response<pb::GetAgingResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let query = aging_query(request.get_ref())?;
        let as_of = query.as_of.unwrap_or_else(|| self.today());
        let report = self
            .aging(as_of, query.patient_id, query.limit, query.offset)
            .await?;
        let mut accounts = Vec::with_capacity(report.accounts.len());
        for account in &report.accounts {
            accounts.push(account_aging_to_proto(account)?);
        }
        Ok(Response::new(pb::GetAgingResponse {
            as_of: Some(date_to_proto(report.as_of)),
            total: Some(buckets_to_proto(&report.total)?),
            next_page_token: next_page_token(query.offset, query.limit, accounts.len()),
            accounts,
            as_of_sequence: report.as_of_sequence,
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn record_contact(
        &self,
        request: Request<pb::RecordContactRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let contact = new_contact(request.get_ref())?;
        tracing::Span::current().record("patient_id", tracing::field::display(contact.patient_id));
        let profile = self.contact_profile(contact.patient_id).await?;
        let recorded = self
            .store
            .record_contact(&ContactToRecord {
                contact: &contact,
                profile: &profile,
                rules: &self.rules,
                recorded_by: &caller.subject,
                now: self.clock.now(),
            })
            .await?;
        Ok(Response::new(contact_to_proto(&recorded)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn list_contacts(
        &self,
        request: Request<pb::ListContactsRequest>,
    ) -> Result<Response<pb::ListContactsResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let patient_id = patient_id_from(&mut violations, "patient_id", &request.patient_id);
        let page = violations.check(
            "page",
            page_from_proto(
                request.page.as_ref(),
                ACCOUNTS_PAGE_DEFAULT,
                ACCOUNTS_PAGE_MAX,
            ),
        );
        let (Some(patient_id), Some((size, offset))) = (patient_id, page) else {
            return Err(CollectionsError::from(violations).into());
        };
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let contacts = self
            .store
            .list_contacts(patient_id, size, offset)
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::ListContactsResponse {
            next_page_token: next_page_token(offset, size, contacts.len()),
            contacts: contacts.iter().map(contact_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn check_contact(
        &self,
        request: Request<pb::CheckContactRequest>,
    ) -> Result<Response<pb::CheckContactResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let (patient_id, proposed) = proposed_contact(request.get_ref())?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let profile = self.contact_profile(patient_id).await?;
        let now = self.clock.now();
        let (state, calls) = self
            .store
            .contact_history(patient_id, now - self.rules.lookback())
            .await
            .map_err(CollectionsError::from)?;
        let checked = self.rules.check(&proposed, state, &profile, &calls, now);
        Ok(Response::new(pb::CheckContactResponse {
            allowed: checked.is_ok(),
            rule: checked
                .err()
                .map_or(pb::ContactRule::Unspecified, rule_to_proto) as i32,
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn resolve_dispute(
        &self,
        request: Request<pb::ResolveDisputeRequest>,
    ) -> Result<Response<pb::ContactState>, Status> {
        let caller = authorize(&request, &[Role::Manager])?;
        let patient_id = required_patient_id(&request.get_ref().patient_id, "patient_id")?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let state = self
            .store
            .resolve_dispute(patient_id, &caller.subject, self.clock.now())
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(contact_state_to_proto(patient_id, state)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_worklist(
        &self,
        request: Request<pb::ListWorklistRequest>,
    ) -> Result<Response<pb::ListWorklistResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let query = worklist_query(request.get_ref())?;
        let now = self.clock.now();
        let as_of = query.as_of.unwrap_or_else(|| self.today());
        let (accounts, mut contacts) = self
            .store
            .worklist_inputs(now - self.rules.lookback())
            .await
            .map_err(CollectionsError::from)?;
        let promises = self
            .store
            .promises(None)
            .await
            .map_err(CollectionsError::from)?;
        // Newest first, so the first promise seen for an account is its current one.
        for view in self.judge_promises(&promises, now) {
            if let Some(known) = contacts.get_mut(&view.promise.patient_id) {
                if view.status.is_broken() {
                    known.broken_promises += 1;
                }
                if known.promise.is_none() && view.status != PromiseStatus::Superseded {
                    known.promise = Some(view);
                }
            }
        }
        let plans = self
            .store
            .active_plans()
            .await
            .map_err(CollectionsError::from)?;
        if !plans.is_empty() {
            let payments = self
                .store
                .payments_on_arranged_accounts()
                .await
                .map_err(CollectionsError::from)?;
            let today = self.today();
            for plan in &plans {
                if let Some(known) = contacts.get_mut(&plan.patient_id) {
                    let paid = payments
                        .get(&plan.patient_id)
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    known.plan = Some(PlanStanding::of(&plan_status(plan, paid, now, today)));
                }
            }
        }
        // Accounts the registry has not described yet are judged on letters alone.
        let fallback = ContactProfile {
            time_zone: self.terms.time_zone,
            consent_sms: false,
            consent_whatsapp: false,
            consent_email: false,
            consent_phone_call: false,
            has_phone: false,
            has_email: false,
        };
        let worklist = build_worklist(
            accounts,
            &contacts,
            &self.rules,
            &fallback,
            query.collector.as_deref(),
            as_of,
            self.terms.payment_terms_days,
            now,
        );
        let items: Vec<pb::WorklistItem> = worklist
            .iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(query.limit as usize)
            .map(worklist_entry_to_proto)
            .collect();
        Ok(Response::new(pb::ListWorklistResponse {
            next_page_token: next_page_token(query.offset, query.limit, items.len()),
            items,
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn assign_account(
        &self,
        request: Request<pb::AssignAccountRequest>,
    ) -> Result<Response<pb::AccountAssignment>, Status> {
        let caller = authorize(&request, &[Role::Manager])?;
        let (patient_id, collector) = assignment(request.get_ref())?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        if !self
            .store
            .has_account(patient_id)
            .await
            .map_err(CollectionsError::from)?
        {
            return Err(CollectionsError::PatientNotFound(patient_id).into());
        }
        self.store
            .assign_account(
                patient_id,
                collector.as_deref(),
                &caller.subject,
                self.clock.now(),
            )
            .await
            .map_err(CollectionsError::from)?;
        Ok(Response::new(pb::AccountAssignment {
            patient_id: patient_id.to_string(),
            collector: collector.unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn record_promise(
        &self,
        request: Request<pb::RecordPromiseRequest>,
    ) -> Result<Response<pb::Promise>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let now = self.clock.now();
        let made_at = desk::record_time(
            &caller,
            request.get_ref().made_time.as_ref(),
            "made_time",
            now,
        )?;
        let today = local_date(made_at, self.terms.time_zone);
        let promise = new_promise(request.get_ref(), self.terms.currency, today)?;
        tracing::Span::current().record("patient_id", tracing::field::display(promise.patient_id));
        let recorded = self
            .store
            .record_promise(&promise, &caller.subject, made_at, today)
            .await?;
        // A new promise is judged now; a retry's first promise too (it may have been paid since).
        let records = PromiseRecords {
            payments: self
                .store
                .promises(Some(recorded.patient_id))
                .await
                .map_err(CollectionsError::from)?
                .payments,
            promises: vec![recorded],
        };
        let views = self.judge_promises(&records, now);
        let view = views.first().ok_or_else(|| {
            CollectionsError::Unexpected(anyhow::anyhow!("a recorded promise lies in the future"))
        })?;
        Ok(Response::new(promise_to_proto(view)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn list_promises(
        &self,
        request: Request<pb::ListPromisesRequest>,
    ) -> Result<Response<pb::ListPromisesResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let query = promises_query(request.get_ref())?;
        if let Some(patient_id) = query.patient_id {
            tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        }
        let now = self.clock.now();
        let at = match query.as_of {
            None => now,
            Some(day) => start_of_day(day.succ_opt().unwrap_or(day), self.terms.time_zone).min(now),
        };
        let records = self
            .store
            .promises(query.patient_id)
            .await
            .map_err(CollectionsError::from)?;
        let mut views = self.judge_promises(&records, at);
        if query.patient_id.is_none() {
            // The current promise of each account (the newest still running at `at`), when it
            // still needs attention.
            let mut seen = std::collections::HashSet::new();
            views.retain(|view| {
                view.status != PromiseStatus::Superseded && seen.insert(view.promise.patient_id)
            });
            views.retain(|view| view.status == PromiseStatus::Open || view.status.is_broken());
        }
        let promises: Vec<pb::Promise> = views
            .iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(query.limit as usize)
            .map(promise_to_proto)
            .collect();
        Ok(Response::new(pb::ListPromisesResponse {
            next_page_token: next_page_token(query.offset, query.limit, promises.len()),
            promises,
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn create_payment_plan(
        &self,
        request: Request<pb::CreatePaymentPlanRequest>,
    ) -> Result<Response<pb::PaymentPlan>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let agreed_at = desk::record_time(
            &caller,
            request.get_ref().agreed_time.as_ref(),
            "agreed_time",
            self.clock.now(),
        )?;
        let today = local_date(agreed_at, self.terms.time_zone);
        let plan = new_plan(request.get_ref(), self.terms.currency, today)?;
        tracing::Span::current().record("patient_id", tracing::field::display(plan.patient_id));
        let approved_by = desk::discount_approver(&caller, plan.settlement_discount)?;
        let created = self
            .store
            .create_plan(&PlanToCreate {
                plan: &plan,
                created_by: &caller.subject,
                discount_approved_by: approved_by,
                replacing: None,
                now: agreed_at,
                today,
            })
            .await?;
        Ok(Response::new(self.plan_with_status(&created).await?))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn get_payment_plan(
        &self,
        request: Request<pb::GetPaymentPlanRequest>,
    ) -> Result<Response<pb::PaymentPlan>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let (plan_id, patient_id) = plan_lookup(request.get_ref())?;
        let plan = self
            .store
            .plan(plan_id.as_deref(), patient_id)
            .await
            .map_err(CollectionsError::from)?
            .ok_or(CollectionsError::PlanNotFound)?;
        tracing::Span::current().record("patient_id", tracing::field::display(plan.patient_id));
        Ok(Response::new(self.plan_with_status(&plan).await?))
    }
    #[tracing::instrument(skip_all)]
    async fn list_payment_plans(
        &self,
        request: Request<pb::ListPaymentPlansRequest>,
    ) -> Result<Response<pb::ListPaymentPlansResponse>, Status> {
        self.do_list_payment_plans(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn restructure_payment_plan(
        &self,
        request: Request<pb::RestructurePaymentPlanRequest>,
    ) -> Result<Response<pb::PaymentPlan>, Status> {
        self.do_restructure_payment_plan(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn take_payment(
        &self,
        request: Request<pb::TakePaymentRequest>,
    ) -> Result<Response<pb::TakePaymentResponse>, Status> {
        self.do_take_payment(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::AccountOverview>, Status> {
        self.do_get_account(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_account_access_log(
        &self,
        request: Request<pb::ListAccountAccessLogRequest>,
    ) -> Result<Response<pb::ListAccountAccessLogResponse>, Status> {
        self.do_list_account_access_log(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_billing_issue_trends(
        &self,
        request: Request<pb::GetBillingIssueTrendsRequest>,
    ) -> Result<Response<pb::BillingIssueTrends>, Status> {
        self.do_get_billing_issue_trends(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_contact_log(
        &self,
        request: Request<pb::PurgeContactLogRequest>,
    ) -> Result<Response<pb::PurgeContactLogResponse>, Status> {
        self.do_purge_contact_log(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn escalate_account(
        &self,
        request: Request<pb::EscalateAccountRequest>,
    ) -> Result<Response<pb::Escalation>, Status> {
        self.do_escalate_account(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_escalations(
        &self,
        request: Request<pb::ListEscalationsRequest>,
    ) -> Result<Response<pb::ListEscalationsResponse>, Status> {
        self.do_list_escalations(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_disputes(
        &self,
        request: Request<pb::ListDisputesRequest>,
    ) -> Result<Response<pb::ListDisputesResponse>, Status> {
        self.do_list_disputes(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn answer_dispute(
        &self,
        request: Request<pb::AnswerDisputeRequest>,
    ) -> Result<Response<pb::Dispute>, Status> {
        self.do_answer_dispute(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn render_notice(
        &self,
        request: Request<pb::RenderNoticeRequest>,
    ) -> Result<Response<pb::RenderedNotice>, Status> {
        self.do_render_notice(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_collections_kpis(
        &self,
        request: Request<pb::GetCollectionsKpisRequest>,
    ) -> Result<Response<pb::CollectionsKpis>, Status> {
        self.do_get_collections_kpis(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn export_collections_kpis(
        &self,
        request: Request<pb::ExportCollectionsKpisRequest>,
    ) -> Result<Response<pb::ExportedKpis>, Status> {
        self.do_export_collections_kpis(request).await
    }
}
