//! The appointment RPCs: finding free time, booking, reading and listing, and every step of an
//! appointment's life that reception takes (confirm, cancel, reschedule, complete, check out,
//! no-show).

use clinic_common::auth::{Caller, Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert::{self, appointment_to_proto};
use super::{SchedulingGrpc, requested_appointment};
use crate::domain::{SchedulingError, Step};
use crate::spans::{record_appointment_id, record_appointment_type_id};

impl SchedulingGrpc {
    pub(super) async fn do_find_free_slots(
        &self,
        request: Request<pb::FindFreeSlotsRequest>,
    ) -> Result<Response<pb::FindFreeSlotsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let query = convert::slot_query(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_type_id(query.appointment_type_id);
        let found = self.scheduling.find_free_slots(&query).await?;
        let page: Vec<pb::FreeSlot> = found
            .slots
            .into_iter()
            .map(|slot| convert::free_slot_to_proto(slot, found.length))
            .collect();
        Ok(Response::new(pb::FindFreeSlotsResponse {
            next_page_token: next_page_token(query.offset, query.size, page.len()),
            slots: page,
        }))
    }

    pub(super) async fn do_create_appointment(
        &self,
        request: Request<pb::CreateAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let requested =
            convert::new_appointment(request.into_inner()).map_err(SchedulingError::from)?;
        let appointment = self
            .scheduling
            .create_appointment(requested, &caller)
            .await?;
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    pub(super) async fn do_get_appointment(
        &self,
        request: Request<pb::GetAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let appointment_id = requested_appointment(&request.get_ref().appointment_id)?;
        let appointment = self
            .store
            .appointment(appointment_id)
            .await?
            .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    pub(super) async fn do_list_appointments(
        &self,
        request: Request<pb::ListAppointmentsRequest>,
    ) -> Result<Response<pb::ListAppointmentsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let query = convert::appointment_query(request.get_ref(), self.settings.clinic.time_zone)
            .map_err(SchedulingError::from)?;
        let appointments = self
            .store
            .appointments_between(
                query.span,
                query.provider_id,
                query.patient_id,
                query.size,
                query.offset,
            )
            .await?;
        Ok(Response::new(pb::ListAppointmentsResponse {
            next_page_token: next_page_token(query.offset, query.size, appointments.len()),
            appointments: appointments.iter().map(appointment_to_proto).collect(),
        }))
    }

    pub(super) async fn do_cancel_appointment(
        &self,
        request: Request<pb::CancelAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let (appointment_id, reason) =
            convert::cancellation(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_id(appointment_id);
        let appointment = self
            .scheduling
            .cancel_appointment(appointment_id, reason, &caller)
            .await?;
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    pub(super) async fn do_confirm_appointment(
        &self,
        request: Request<pb::ConfirmAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let appointment_id = requested_appointment(&request.get_ref().appointment_id)?;
        let appointment = self
            .store
            .confirm(appointment_id, &caller, self.clock.now())
            .await?;
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    pub(super) async fn do_complete_appointment(
        &self,
        request: Request<pb::CompleteAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let appointment = self
            .step_appointment(&request.get_ref().appointment_id, Step::Complete, &caller)
            .await?;
        Ok(Response::new(appointment))
    }

    pub(super) async fn do_check_out_appointment(
        &self,
        request: Request<pb::CheckOutAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let appointment = self
            .step_appointment(&request.get_ref().appointment_id, Step::CheckOut, &caller)
            .await?;
        Ok(Response::new(appointment))
    }

    pub(super) async fn do_mark_no_show(
        &self,
        request: Request<pb::MarkNoShowRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let appointment_id = requested_appointment(&request.get_ref().appointment_id)?;
        let appointment = self
            .scheduling
            .mark_no_show(appointment_id, &caller)
            .await?;
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    pub(super) async fn do_reschedule_appointment(
        &self,
        request: Request<pb::RescheduleAppointmentRequest>,
    ) -> Result<Response<pb::RescheduleAppointmentResponse>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let requested = convert::reschedule(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_id(requested.appointment_id);
        let (old, new) = self
            .scheduling
            .reschedule_appointment(requested, &caller)
            .await?;
        Ok(Response::new(pb::RescheduleAppointmentResponse {
            rescheduled_appointment: Some(appointment_to_proto(&old)),
            appointment: Some(appointment_to_proto(&new)),
        }))
    }

    pub(super) async fn do_list_appointment_status_changes(
        &self,
        request: Request<pb::ListAppointmentStatusChangesRequest>,
    ) -> Result<Response<pb::ListAppointmentStatusChangesResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let appointment_id = violations.check(
            "appointment_id",
            convert::appointment_id(&request.appointment_id),
        );
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(appointment_id), Some((size, offset))) = (appointment_id, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        record_appointment_id(appointment_id);
        let changes = self
            .store
            .status_changes(appointment_id, size, offset)
            .await?;
        Ok(Response::new(pb::ListAppointmentStatusChangesResponse {
            next_page_token: next_page_token(offset, size, changes.len()),
            status_changes: changes
                .iter()
                .map(convert::status_change_to_proto)
                .collect(),
        }))
    }

    /// Takes `step` of the appointment named by `text`, a step that changes only its status.
    async fn step_appointment(
        &self,
        text: &str,
        step: Step,
        caller: &Caller,
    ) -> Result<pb::Appointment, Status> {
        let appointment_id = requested_appointment(text)?;
        let now = self.clock.now();
        let appointment = self
            .store
            .change_status(appointment_id, |current| current.advance(step), caller, now)
            .await?;
        tracing::info!(status = appointment.status.as_str(), "appointment changed");
        Ok(appointment_to_proto(&appointment))
    }
}
