//! The collections desk's RPCs beyond the contact log and the worklist: plan history and
//! restructuring, payments by phone, the account view and its audit, billing-issue trends and
//! the contact log's purge, escalations and disputes, notices and KPIs.

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;
use clinic_proto::{next_page_token, page_from_proto, timestamp_to_proto};
use tonic::{Request, Response, Status};

use super::CollectionsGrpc;
use super::convert::account::account_view_to_proto;
use super::convert::dispute::{dispute_to_proto, escalation_to_proto, new_answer, new_escalation};
use super::convert::notice::{notice_request, rendered_notice_to_proto};
use super::convert::payment::{phone_payment, taken_payment_to_proto};
use super::convert::plan::{plan_view_to_proto, restructuring};
use super::convert::report::{
    export_query, exported_kpis_to_proto, kpi_report_to_proto, kpis_request, trends_query,
    trends_to_proto,
};
use super::convert::{
    ACCOUNTS_PAGE_DEFAULT, ACCOUNTS_PAGE_MAX, optional_account_page, patient_id_from,
    required_patient_id,
};
use crate::app::OnBehalf;
use crate::domain::CollectionsError;

impl CollectionsGrpc {
    pub(super) async fn do_list_payment_plans(
        &self,
        request: Request<pb::ListPaymentPlansRequest>,
    ) -> Result<Response<pb::ListPaymentPlansResponse>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let patient_id = required_patient_id(&request.get_ref().patient_id, "patient_id")?;
        let plans = self.desk.plans_of(patient_id).await?;
        Ok(Response::new(pb::ListPaymentPlansResponse {
            plans: plans.iter().map(plan_view_to_proto).collect(),
        }))
    }

    pub(super) async fn do_restructure_payment_plan(
        &self,
        request: Request<pb::RestructurePaymentPlanRequest>,
    ) -> Result<Response<pb::PaymentPlan>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let now = self.desk.now();
        let (plan_id, terms, reason) = restructuring(
            request.get_ref(),
            self.desk.terms.currency,
            self.desk.day_of(now),
        )?;
        let created = self
            .desk
            .restructure_plan(&caller, &plan_id, terms, &reason, now)
            .await?;
        Ok(Response::new(plan_view_to_proto(&created)))
    }

    pub(super) async fn do_take_payment(
        &self,
        request: Request<pb::TakePaymentRequest>,
    ) -> Result<Response<pb::TakePaymentResponse>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let payment = phone_payment(request.get_ref(), self.desk.terms.currency)?;
        let taken = self
            .desk
            .take_payment(&OnBehalf::of(&request), &payment, &caller.subject)
            .await?;
        Ok(Response::new(taken_payment_to_proto(
            taken,
            self.desk.today(),
            self.desk.terms.payment_terms_days,
        )))
    }

    pub(super) async fn do_get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::AccountOverview>, Status> {
        let caller = authorize(&request, &[Role::Collections, Role::Manager])?;
        let patient_id = required_patient_id(&request.get_ref().patient_id, "patient_id")?;
        let view = self.desk.open_account(patient_id, &caller).await?;
        Ok(Response::new(account_view_to_proto(&view)?))
    }

    pub(super) async fn do_list_account_access_log(
        &self,
        request: Request<pb::ListAccountAccessLogRequest>,
    ) -> Result<Response<pb::ListAccountAccessLogResponse>, Status> {
        authorize(&request, &[Role::Manager])?;
        let message = request.get_ref();
        let mut violations = FieldViolations::new();
        let patient_id = patient_id_from(&mut violations, "patient_id", &message.patient_id);
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
            .desk
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
        let periods = self.desk.issue_trends(from, to, period).await?;
        Ok(Response::new(trends_to_proto(&periods)))
    }

    pub(super) async fn do_purge_contact_log(
        &self,
        request: Request<pb::PurgeContactLogRequest>,
    ) -> Result<Response<pb::PurgeContactLogResponse>, Status> {
        authorize(&request, &[Role::Manager])?;
        let purged = self
            .desk
            .store
            .purge_contacts(self.desk.now())
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
        let recorded = self.desk.escalate(&escalation, &caller.subject).await?;
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
            .desk
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
            .desk
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
        let answer = new_answer(request.get_ref(), self.desk.terms.currency)?;
        let dispute = self
            .desk
            .answer_dispute(&OnBehalf::of(&request), answer, &caller.subject)
            .await?;
        Ok(Response::new(dispute_to_proto(&dispute)))
    }

    pub(super) async fn do_render_notice(
        &self,
        request: Request<pb::RenderNoticeRequest>,
    ) -> Result<Response<pb::RenderedNotice>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let (patient_id, kind, format, language) = notice_request(request.get_ref())?;
        let notice = self
            .desk
            .render_notice(&OnBehalf::of(&request), patient_id, kind, format, language)
            .await?;
        Ok(Response::new(rendered_notice_to_proto(notice)))
    }

    pub(super) async fn do_get_collections_kpis(
        &self,
        request: Request<pb::GetCollectionsKpisRequest>,
    ) -> Result<Response<pb::CollectionsKpis>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let (period, day) = kpis_request(request.get_ref())?;
        let report = self.desk.kpis(period, day).await?;
        Ok(Response::new(kpi_report_to_proto(&report)))
    }

    pub(super) async fn do_export_collections_kpis(
        &self,
        request: Request<pb::ExportCollectionsKpisRequest>,
    ) -> Result<Response<pb::ExportedKpis>, Status> {
        authorize(&request, &[Role::Collections, Role::Manager])?;
        let (period, day, format) = export_query(request.get_ref())?;
        let exported = self.desk.export_kpis(period, day, format).await?;
        Ok(Response::new(exported_kpis_to_proto(exported)))
    }
}
