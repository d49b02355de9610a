//! The collections service over gRPC: each handler checks the caller's role, converts the
//! request, calls the desk (`app::Desk`) or, for a plain read, the store, and converts the
//! result back. `desk` holds the handlers of the desk's later RPCs; `convert` the conversions,
//! by area; `error` the one mapping of errors to statuses.

mod convert;
mod desk;
mod error;

use chrono::{DateTime, Utc};
use clinic_common::auth::{Caller, Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_server::CollectionsService;
use clinic_proto::{date_to_proto, money_to_proto, next_page_token, page_from_proto};
use tonic::{Request, Response, Status};

use crate::app::Desk;
use crate::domain::CollectionsError;

use convert::aging::{account_aging_to_proto, aging_query, buckets_to_proto};
use convert::contact::{
    contact_state_to_proto, contact_to_proto, new_contact, proposed_contact, rule_to_proto,
};
use convert::plan::{new_plan, plan_lookup, plan_view_to_proto};
use convert::promise::{new_promise, promise_to_proto, promises_query};
use convert::receivable::{receivable_to_proto, sync_status_to_proto};
use convert::worklist::{assignment, worklist_entry_to_proto, worklist_query};
use convert::{ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX, patient_id_from, required_patient_id};

/// Implements `clinic.collections.v1.CollectionsService`.
pub struct CollectionsGrpc {
    desk: Desk,
}

impl CollectionsGrpc {
    pub(crate) fn new(desk: Desk) -> Self {
        CollectionsGrpc { desk }
    }
}

/// How far back a manager may carry a promise or a plan over from earlier records.
const CARRIED_OVER_MAX_DAYS: i64 = 365;

/// When a promise was made or a plan agreed: `given` (a manager carrying it over from earlier
/// records) or `now`. Checked: not in the future, at most a year ago.
fn record_time(
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
        let today = self.desk.today();
        let page = self
            .desk
            .store
            .list_receivables(size, offset)
            .await
            .map_err(CollectionsError::from)?;
        let terms_days = self.desk.terms.payment_terms_days;
        Ok(Response::new(pb::ListReceivablesResponse {
            next_page_token: next_page_token(offset, size, page.accounts.len()),
            accounts: page
                .accounts
                .iter()
                .map(|account| receivable_to_proto(account, today, terms_days))
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
            .desk
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
        let report = self
            .desk
            .aging(query.as_of, query.patient_id, query.limit, query.offset)
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
        let recorded = self.desk.record_contact(&contact, &caller.subject).await?;
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
            .desk
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
        let forbidding = self.desk.check_contact(patient_id, &proposed).await?;
        Ok(Response::new(pb::CheckContactResponse {
            allowed: forbidding.is_none(),
            rule: forbidding.map_or(pb::ContactRule::Unspecified, rule_to_proto) as i32,
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
            .desk
            .store
            .resolve_dispute(patient_id, &caller.subject, self.desk.now())
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
        let entries = self
            .desk
            .worklist(
                query.as_of,
                query.collector.as_deref(),
                query.limit,
                query.offset,
            )
            .await?;
        Ok(Response::new(pb::ListWorklistResponse {
            next_page_token: next_page_token(query.offset, query.limit, entries.len()),
            items: entries.iter().map(worklist_entry_to_proto).collect(),
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
        self.desk
            .assign_account(patient_id, collector.as_deref(), &caller.subject)
            .await?;
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
        let message = request.get_ref();
        let made_at = record_time(
            &caller,
            message.made_time.as_ref(),
            "made_time",
            self.desk.now(),
        )?;
        let promise = new_promise(
            message,
            self.desk.terms.currency,
            self.desk.day_of(made_at),
            message.made_time.is_some(),
        )?;
        tracing::Span::current().record("patient_id", tracing::field::display(promise.patient_id));
        let view = self
            .desk
            .record_promise(&promise, &caller.subject, made_at)
            .await?;
        Ok(Response::new(promise_to_proto(&view)))
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
        let views = self
            .desk
            .promises(query.patient_id, query.as_of, query.limit, query.offset)
            .await?;
        Ok(Response::new(pb::ListPromisesResponse {
            next_page_token: next_page_token(query.offset, query.limit, views.len()),
            promises: views.iter().map(promise_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn create_payment_plan(
        &self,
        request: Request<pb::CreatePaymentPlanRequest>,
    ) -> Result<Response<pb::PaymentPlan>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let message = request.get_ref();
        let agreed_at = record_time(
            &caller,
            message.agreed_time.as_ref(),
            "agreed_time",
            self.desk.now(),
        )?;
        let plan = new_plan(
            message,
            self.desk.terms.currency,
            self.desk.day_of(agreed_at),
        )?;
        tracing::Span::current().record("patient_id", tracing::field::display(plan.patient_id));
        let created = self.desk.create_plan(&caller, &plan, agreed_at).await?;
        Ok(Response::new(plan_view_to_proto(&created)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn get_payment_plan(
        &self,
        request: Request<pb::GetPaymentPlanRequest>,
    ) -> Result<Response<pb::PaymentPlan>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let (plan_id, patient_id) = plan_lookup(request.get_ref())?;
        let view = self.desk.plan(plan_id.as_deref(), patient_id).await?;
        tracing::Span::current()
            .record("patient_id", tracing::field::display(view.plan.patient_id));
        Ok(Response::new(plan_view_to_proto(&view)))
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
