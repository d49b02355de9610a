//! The waitlist over gRPC: entries, offers made when time frees up, accepting and declining.
//! The rule for who is offered what is in `domain::waitlist`; adding entries and accepting offers
//! are in `app::waitlist`.

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::SchedulingGrpc;
use super::convert::{
    self, appointment_to_proto, entry_to_proto, offer_to_proto, optional, patient_id, uuid_field,
};
use crate::domain::SchedulingError;
use crate::domain::waitlist::OfferStatus;

const STAFF: &[Role] = &[Role::Reception, Role::Manager];

impl SchedulingGrpc {
    pub(super) async fn do_create_waitlist_entry(
        &self,
        request: Request<pb::CreateWaitlistEntryRequest>,
    ) -> Result<Response<pb::WaitlistEntry>, Status> {
        let caller = authorize(&request, STAFF)?;
        let draft = convert::waitlist_draft(request.into_inner(), self.scheduling.today());
        let created = self
            .scheduling
            .create_waitlist_entry(draft, &caller)
            .await?;
        Ok(Response::new(entry_to_proto(&created)))
    }

    pub(super) async fn do_list_waitlist_entries(
        &self,
        request: Request<pb::ListWaitlistEntriesRequest>,
    ) -> Result<Response<pb::ListWaitlistEntriesResponse>, Status> {
        authorize(&request, STAFF)?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let patient = violations.check("patient_id", optional(&request.patient_id, patient_id));
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(patient), Some((size, offset))) = (patient, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        let entries = self
            .store
            .waitlist_entries(patient, request.show_closed, size, offset)
            .await?;
        Ok(Response::new(pb::ListWaitlistEntriesResponse {
            next_page_token: next_page_token(offset, size, entries.len()),
            waitlist_entries: entries.iter().map(entry_to_proto).collect(),
        }))
    }

    pub(super) async fn do_remove_waitlist_entry(
        &self,
        request: Request<pb::RemoveWaitlistEntryRequest>,
    ) -> Result<Response<pb::WaitlistEntry>, Status> {
        authorize(&request, STAFF)?;
        let mut violations = FieldViolations::new();
        let Some(entry_id) = uuid_field(
            &mut violations,
            "waitlist_entry_id",
            &request.get_ref().waitlist_entry_id,
        ) else {
            return Err(SchedulingError::from(violations).into());
        };
        let entry = self
            .store
            .remove_waitlist_entry(entry_id, self.clock.now())
            .await?;
        tracing::info!(waitlist_entry_id = %entry_id, "waitlist entry removed");
        Ok(Response::new(entry_to_proto(&entry)))
    }

    pub(super) async fn do_list_waitlist_offers(
        &self,
        request: Request<pb::ListWaitlistOffersRequest>,
    ) -> Result<Response<pb::ListWaitlistOffersResponse>, Status> {
        authorize(&request, STAFF)?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let entry_id = if request.waitlist_entry_id.is_empty() {
            Some(None)
        } else {
            uuid_field(
                &mut violations,
                "waitlist_entry_id",
                &request.waitlist_entry_id,
            )
            .map(Some)
        };
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(entry_id), Some((size, offset))) = (entry_id, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        let offers = self
            .store
            .waitlist_offers(
                entry_id,
                request.open_only,
                (size, offset),
                self.clock.now(),
            )
            .await?;
        Ok(Response::new(pb::ListWaitlistOffersResponse {
            next_page_token: next_page_token(offset, size, offers.len()),
            waitlist_offers: offers.iter().map(offer_to_proto).collect(),
        }))
    }

    pub(super) async fn do_accept_waitlist_offer(
        &self,
        request: Request<pb::AcceptWaitlistOfferRequest>,
    ) -> Result<Response<pb::AcceptWaitlistOfferResponse>, Status> {
        let caller = authorize(&request, STAFF)?;
        let offer_id = requested_offer(request.get_ref().waitlist_offer_id.as_str())?;
        let (offer, appointment) = self
            .scheduling
            .accept_waitlist_offer(offer_id, &caller)
            .await?;
        Ok(Response::new(pb::AcceptWaitlistOfferResponse {
            waitlist_offer: Some(offer_to_proto(&offer)),
            appointment: Some(appointment_to_proto(&appointment)),
        }))
    }

    pub(super) async fn do_decline_waitlist_offer(
        &self,
        request: Request<pb::DeclineWaitlistOfferRequest>,
    ) -> Result<Response<pb::WaitlistOffer>, Status> {
        let caller = authorize(&request, STAFF)?;
        let offer_id = requested_offer(request.get_ref().waitlist_offer_id.as_str())?;
        let offer = self
            .store
            .close_offer(offer_id, OfferStatus::Declined, &caller, self.clock.now())
            .await?;
        tracing::info!(waitlist_offer_id = %offer_id, "waitlist offer declined");
        Ok(Response::new(offer_to_proto(&offer)))
    }
}

fn requested_offer(text: &str) -> Result<Uuid, Status> {
    let mut violations = FieldViolations::new();
    uuid_field(&mut violations, "waitlist_offer_id", text)
        .ok_or_else(|| SchedulingError::from(violations).into())
}
