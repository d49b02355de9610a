//! Messages to patients over gRPC: the outbox, and replies to reminders (what a reply does is in
//! `app::messages`).

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::{self, appointment_to_proto, message_to_proto};
use crate::domain::SchedulingError;

impl SchedulingGrpc {
    pub(super) async fn do_list_outbox_messages(
        &self,
        request: Request<pb::ListOutboxMessagesRequest>,
    ) -> Result<Response<pb::ListOutboxMessagesResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let appointment_id = if request.appointment_id.is_empty() {
            Some(None)
        } else {
            violations
                .check(
                    "appointment_id",
                    convert::appointment_id(&request.appointment_id),
                )
                .map(|id| Some(id.to_string()))
        };
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(appointment_id), Some((size, offset))) = (appointment_id, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        let messages = self
            .scheduling
            .outbox(appointment_id, (size, offset))
            .await?;
        Ok(Response::new(pb::ListOutboxMessagesResponse {
            next_page_token: next_page_token(offset, size, messages.len()),
            messages: messages.iter().map(message_to_proto).collect(),
        }))
    }

    pub(super) async fn do_record_reply(
        &self,
        request: Request<pb::RecordReplyRequest>,
    ) -> Result<Response<pb::RecordReplyResponse>, Status> {
        let caller = authorize(&request, &[Role::Service, Role::Reception, Role::Manager])?;
        let reply = convert::reply(request.get_ref()).map_err(SchedulingError::from)?;
        let (action, appointment) = self.scheduling.record_reply(&reply, &caller).await?;
        Ok(Response::new(pb::RecordReplyResponse {
            action,
            appointment: Some(appointment_to_proto(&appointment)),
        }))
    }
}
