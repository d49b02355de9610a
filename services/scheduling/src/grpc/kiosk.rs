//! The RPCs of patients arriving: the kiosk's lookup of today's appointment, and check-in at the
//! desk or the kiosk.

use clinic_common::auth::{Role, authorize};
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{self, KioskView, appointment_to_proto};
use crate::domain::SchedulingError;

impl SchedulingGrpc {
    pub(super) async fn do_find_todays_appointment(
        &self,
        request: Request<pb::FindTodaysAppointmentRequest>,
    ) -> Result<Response<pb::KioskAppointment>, Status> {
        let caller = authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let lookup = convert::kiosk_lookup(request.get_ref()).map_err(SchedulingError::from)?;
        let found = self
            .scheduling
            .find_todays_appointment(&lookup, &caller)
            .await?;
        Ok(Response::new(convert::kiosk_appointment_to_proto(
            &KioskView {
                appointment: &found.appointment,
                provider_display_name: &found.provider_display_name,
                given_name: &found.given_name,
                first_visit: found.first_visit,
            },
        )))
    }

    pub(super) async fn do_check_in_appointment(
        &self,
        request: Request<pb::CheckInAppointmentRequest>,
    ) -> Result<Response<pb::CheckInAppointmentResponse>, Status> {
        let caller = authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let at_kiosk = caller.role == Role::Kiosk;
        let command =
            convert::check_in(request.get_ref(), at_kiosk).map_err(SchedulingError::from)?;
        let checked_in = self
            .scheduling
            .check_in_appointment(&command, &caller)
            .await?;
        let mut appointment = appointment_to_proto(&checked_in.appointment);
        if at_kiosk {
            // Clinical and staff notes are not for the lobby.
            appointment.reason.clear();
            appointment.cancel_reason.clear();
        }
        Ok(Response::new(pb::CheckInAppointmentResponse {
            appointment: Some(appointment),
            queue_entry: Some(convert::queue_entry_to_proto(&checked_in.entry)),
        }))
    }
}
