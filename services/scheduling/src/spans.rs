//! Fields of the current request's span that are only known once it has run a while: the
//! appointment a confirmation code named, the queue entry a call made. Each RPC declares the
//! field empty (`#[tracing::instrument(fields(appointment_id))]`); whoever learns the value, the
//! handler or the application code it calls, records it here. Ids only: never patient data.

use std::fmt::Display;

pub fn record_appointment_id(appointment_id: impl Display) {
    tracing::Span::current().record("appointment_id", tracing::field::display(appointment_id));
}

pub fn record_queue_entry_id(queue_entry_id: impl Display) {
    tracing::Span::current().record("queue_entry_id", tracing::field::display(queue_entry_id));
}

pub fn record_appointment_type_id(appointment_type_id: impl Display) {
    tracing::Span::current().record(
        "appointment_type_id",
        tracing::field::display(appointment_type_id),
    );
}
