//! Reception's calls over gRPC: late arrivals to phone, and tomorrow's schedule to confirm; and
//! the clinic's day, as every service reckons it.

use chrono::Offset;
use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::{date_to_proto, next_page_token};
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{self, appointment_to_proto, outcome_from_proto, task_to_proto, uuid_field};
use crate::domain::{AppointmentStatus, Note, SchedulingError};

const STAFF: &[Role] = &[Role::Reception, Role::Manager];

impl SchedulingGrpc {
    pub(super) async fn do_list_call_tasks(
        &self,
        request: Request<pb::ListCallTasksRequest>,
    ) -> Result<Response<pb::ListCallTasksResponse>, Status> {
        authorize(&request, STAFF)?;
        let mut violations = FieldViolations::new();
        let Some((size, offset)) = convert::page(request.get_ref().page.as_ref(), &mut violations)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        let tasks = self
            .scheduling
            .call_tasks(request.get_ref().show_done, (size, offset))
            .await?;
        Ok(Response::new(pb::ListCallTasksResponse {
            next_page_token: next_page_token(offset, size, tasks.len()),
            call_tasks: tasks.iter().map(task_to_proto).collect(),
        }))
    }

    pub(super) async fn do_complete_call_task(
        &self,
        request: Request<pb::CompleteCallTaskRequest>,
    ) -> Result<Response<pb::CallTask>, Status> {
        let caller = authorize(&request, STAFF)?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let task_id = uuid_field(&mut violations, "call_task_id", &request.call_task_id);
        let outcome = violations.check("outcome", outcome_from_proto(request.outcome));
        let note = violations.check("note", Note::parse_optional(&request.note));
        let (Some(task_id), Some(outcome), Some(note)) = (task_id, outcome, note) else {
            return Err(SchedulingError::from(violations).into());
        };
        let task = self
            .store
            .complete_call_task(
                task_id,
                (outcome, note.as_ref().map(Note::as_str)),
                &caller,
                self.clock.now(),
            )
            .await?;
        tracing::info!(call_task_id = %task_id, outcome = outcome.as_str(), "call task completed");
        Ok(Response::new(task_to_proto(&task)))
    }

    pub(super) async fn do_get_clinic_day(
        &self,
        request: Request<pb::GetClinicDayRequest>,
    ) -> Result<Response<pb::ClinicDay>, Status> {
        authorize(
            &request,
            &[
                Role::Kiosk,
                Role::Reception,
                Role::Collections,
                Role::Manager,
                Role::Service,
            ],
        )?;
        let clinic = &self.settings.clinic;
        let now = self.clock.now();
        let local = now.with_timezone(&clinic.time_zone);
        Ok(Response::new(pb::ClinicDay {
            clinic_name: clinic.name.clone(),
            time_zone: clinic.time_zone.name().to_owned(),
            currency_code: clinic.currency.code().to_owned(),
            today: Some(date_to_proto(local.date_naive())),
            now: Some(clinic_proto::timestamp_to_proto(now)),
            utc_offset_minutes: local.offset().fix().local_minus_utc() / 60,
        }))
    }

    pub(super) async fn do_list_tomorrow(
        &self,
        request: Request<pb::ListTomorrowRequest>,
    ) -> Result<Response<pb::ListTomorrowResponse>, Status> {
        authorize(&request, STAFF)?;
        let (tomorrow, appointments) = self.scheduling.tomorrow().await?;
        let listed = appointments
            .into_iter()
            .map(|listed| {
                let (appointment, contact) = (listed.appointment, listed.contact);
                pb::TomorrowAppointment {
                    appointment: Some(appointment_to_proto(&appointment)),
                    patient_name: contact.name,
                    phone: contact.phone,
                    email: contact.email,
                    consent_sms: contact.sms,
                    consent_whatsapp: contact.whatsapp,
                    consent_email: contact.email_consent,
                    preferred_language: contact.language,
                    confirmed: appointment.status == AppointmentStatus::Confirmed,
                }
            })
            .collect();
        Ok(Response::new(pb::ListTomorrowResponse {
            day: Some(date_to_proto(tomorrow)),
            appointments: listed,
        }))
    }
}
