//! The appointment type RPCs: adding, reading, listing, changing and (softly) deleting types.

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::{SchedulingGrpc, convert, requested_appointment_type};
use crate::domain::SchedulingError;
use crate::spans::record_appointment_type_id;

impl SchedulingGrpc {
    pub(super) async fn do_create_appointment_type(
        &self,
        request: Request<pb::CreateAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Manager])?;
        let new =
            convert::new_appointment_type(request.get_ref()).map_err(SchedulingError::from)?;
        let appointment_type = self
            .store
            .create_appointment_type(&new, self.clock.now())
            .await?;
        record_appointment_type_id(appointment_type.appointment_type_id);
        tracing::info!("appointment type added");
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }

    pub(super) async fn do_get_appointment_type(
        &self,
        request: Request<pb::GetAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let appointment_type_id =
            requested_appointment_type(&request.get_ref().appointment_type_id)?;
        let appointment_type = self
            .store
            .appointment_type(appointment_type_id)
            .await?
            .ok_or(SchedulingError::AppointmentTypeNotFound(
                appointment_type_id,
            ))?;
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }

    pub(super) async fn do_list_appointment_types(
        &self,
        request: Request<pb::ListAppointmentTypesRequest>,
    ) -> Result<Response<pb::ListAppointmentTypesResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let mut violations = FieldViolations::new();
        let Some((size, offset)) = convert::page(request.get_ref().page.as_ref(), &mut violations)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        let types = self
            .store
            .appointment_types(request.get_ref().show_deleted, size, offset)
            .await?;
        Ok(Response::new(pb::ListAppointmentTypesResponse {
            next_page_token: next_page_token(offset, size, types.len()),
            appointment_types: types
                .iter()
                .map(convert::appointment_type_to_proto)
                .collect(),
        }))
    }

    pub(super) async fn do_update_appointment_type(
        &self,
        request: Request<pb::UpdateAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Manager])?;
        let (appointment_type_id, details) =
            convert::type_update(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_type_id(appointment_type_id);
        let appointment_type = self
            .store
            .update_appointment_type(appointment_type_id, &details, self.clock.now())
            .await?;
        tracing::info!("appointment type changed");
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }

    pub(super) async fn do_delete_appointment_type(
        &self,
        request: Request<pb::DeleteAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Manager])?;
        let appointment_type_id =
            requested_appointment_type(&request.get_ref().appointment_type_id)?;
        let appointment_type = self
            .store
            .delete_appointment_type(appointment_type_id, self.clock.now())
            .await?;
        tracing::info!("appointment type deleted");
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }
}
