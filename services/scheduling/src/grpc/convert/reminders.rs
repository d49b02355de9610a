//! Outbox messages on the wire.

use clinic_proto::scheduling::v1 as pb;
use clinic_proto::timestamp_to_proto;

use crate::domain::reminders::OutboxMessage;

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
