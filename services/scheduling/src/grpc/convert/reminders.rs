//! Patients' replies to reminders, and outbox messages on the wire.

use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::timestamp_to_proto;

use super::appointment_id;
use crate::app::{ReplyRequest, ReplyTarget};
use crate::domain::reminders::{Channel, OutboxMessage};
use crate::domain::{ConfirmationCode, Note};

/// A `RecordReply` request: the appointment by id or by confirmation code (one of the two).
pub fn reply(request: &pb::RecordReplyRequest) -> Result<ReplyRequest, FieldViolations> {
    let mut violations = FieldViolations::new();
    let target = match (
        request.appointment_id.is_empty(),
        request.confirmation_code.is_empty(),
    ) {
        (false, true) => violations
            .check("appointment_id", appointment_id(&request.appointment_id))
            .map(ReplyTarget::Id),
        (true, false) => violations
            .check(
                "confirmation_code",
                ConfirmationCode::parse(&request.confirmation_code),
            )
            .map(ReplyTarget::Code),
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
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (target, channel, text, request_id) {
        (Some(target), Some(channel), Some(text), Some(request_id)) => Ok(ReplyRequest {
            target,
            channel,
            text,
            request_id,
        }),
        _ => Err(violations),
    }
}

pub fn message_to_proto(message: &OutboxMessage) -> pb::OutboxMessage {
    pb::OutboxMessage {
        message_id: message.message_id.clone(),
        kind: message.kind.clone(),
        round: message.round.clone(),
        appointment_id: message.appointment_id.clone(),
        queue_entry_id: message.queue_entry_id.clone(),
        patient_id: message.patient_id.clone(),
        channel: message.channel.clone(),
        recipient: message.recipient.clone(),
        language: message.language.clone(),
        subject: message.subject.clone(),
        body: message.body.clone(),
        status: message.status.clone(),
        attempts: i32::try_from(message.attempts).unwrap_or(i32::MAX),
        next_attempt_time: Some(timestamp_to_proto(message.next_attempt_at)),
        last_error: message.last_error.clone().unwrap_or_default(),
        sent_time: message.sent_at.map(timestamp_to_proto),
        create_time: Some(timestamp_to_proto(message.created_at)),
    }
}
