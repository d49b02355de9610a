//! Messages to patients over gRPC: the outbox, and replies to reminders.

use clinic_common::auth::{Role, authorize};
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::SchedulingGrpc;
use super::convert::message_to_proto;
use super::convert::{self, appointment_to_proto};
use crate::domain::reminders::{Channel, ReplyAction, read_reply};
use crate::domain::waitlist::FreedBy;
use crate::domain::{Appointment, ConfirmationCode, Note, SchedulingError};

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
        crate::reminders::plan(
            &self.store,
            &self.registry,
            &self.settings,
            self.clock.now(),
        )
        .await?;
        let messages = self.store.outbox(appointment_id, size, offset).await?;
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
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let target = match (
            request.appointment_id.is_empty(),
            request.confirmation_code.is_empty(),
        ) {
            (false, true) => violations
                .check(
                    "appointment_id",
                    convert::appointment_id(&request.appointment_id),
                )
                .map(Target::Id),
            (true, false) => violations
                .check(
                    "confirmation_code",
                    ConfirmationCode::parse(&request.confirmation_code),
                )
                .map(Target::Code),
            _ => {
                violations.add(
                    "appointment_id",
                    "give either appointment_id or confirmation_code",
                );
                None
            }
        };
        let channel = violations.check(
            "channel",
            Channel::parse(&request.channel).ok_or("must be sms, whatsapp or email"),
        );
        let text = violations.check("text", Note::parse(&request.text));
        let request_id = violations.check(
            "request_id",
            clinic_common::ids::RequestId::parse(&request.request_id),
        );
        let (Some(target), Some(channel), Some(text), Some(request_id)) =
            (target, channel, text, request_id)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        let appointment = match target {
            Target::Id(appointment_id) => self
                .store
                .appointment(appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?,
            Target::Code(code) => self
                .store
                .appointment_by_code(&code)
                .await?
                .ok_or(SchedulingError::ConfirmationCodeNotFound)?,
        };
        super::record_appointment_id(appointment.appointment_id);
        // A retry answers what the first call did.
        if let Some((_, action)) = self.store.earlier_reply(request_id.as_str()).await? {
            return Ok(Response::new(pb::RecordReplyResponse {
                action,
                appointment: Some(appointment_to_proto(&appointment)),
            }));
        }
        let now = self.clock.now();
        let (action, appointment) = self
            .apply_reply(
                appointment,
                read_reply(text.as_str()),
                text.as_str(),
                &caller,
            )
            .await?;
        self.store
            .record_reply(
                request_id.as_str(),
                (
                    &appointment.appointment_id.to_string(),
                    channel.as_str(),
                    text.as_str(),
                    action,
                ),
                &caller,
                now,
            )
            .await?;
        tracing::info!(action, channel = channel.as_str(), "patient reply recorded");
        Ok(Response::new(pb::RecordReplyResponse {
            action: action.to_owned(),
            appointment: Some(appointment_to_proto(&appointment)),
        }))
    }

    /// Confirms or cancels as the reply asks, when the appointment is still active.
    async fn apply_reply(
        &self,
        appointment: Appointment,
        action: Option<ReplyAction>,
        text: &str,
        caller: &clinic_common::auth::Caller,
    ) -> Result<(&'static str, Appointment), SchedulingError> {
        let Some(action) = action else {
            return Ok(("unrecognised", appointment));
        };
        let confirmable = matches!(
            appointment.status,
            crate::domain::AppointmentStatus::Scheduled
                | crate::domain::AppointmentStatus::Confirmed
        );
        if !confirmable {
            return Ok(("too_late", appointment));
        }
        let now = self.clock.now();
        match action {
            ReplyAction::Confirm => {
                let confirmed = self
                    .store
                    .confirm(appointment.appointment_id, caller, now)
                    .await?;
                Ok(("confirmed", confirmed))
            }
            ReplyAction::Cancel => {
                let reason = Note::parse(&format!("patient replied \"{text}\" to a reminder"))
                    .or_else(|_| Note::parse("patient replied to a reminder"))
                    .map_err(|problem| anyhow::anyhow!("a cancel reason is {problem}"))?;
                let (cancelled, change) = self
                    .store
                    .cancel(appointment.appointment_id, reason, caller, now)
                    .await?;
                if let Some(change) = change {
                    self.feed.publish(change).await;
                }
                self.offer_freed(&cancelled, FreedBy::Cancelled).await;
                Ok(("cancelled", cancelled))
            }
        }
    }
}

enum Target {
    Id(clinic_common::ids::AppointmentId),
    Code(ConfirmationCode),
}
