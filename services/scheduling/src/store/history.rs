//! The status histories every change of an appointment or a queue entry appends to, written in
//! the change's own transaction so that a status and its history never disagree.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::for_each_backend;
use clinic_common::ids::{AppointmentId, QueueEntryId};

use crate::domain::{AppointmentStatus, QueueEntryStatus};

/// Appending to the histories, inside the transaction that makes the change.
pub(crate) trait HistoryTx {
    /// Records that `caller` moved an appointment into `status` at `now`.
    async fn record_status(
        &mut self,
        appointment_id: AppointmentId,
        status: AppointmentStatus,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;

    /// Records that `caller` moved a queue entry into `status` at `now`.
    async fn record_queue_status(
        &mut self,
        queue_entry_id: QueueEntryId,
        status: QueueEntryStatus,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl HistoryTx for Conn {
        async fn record_status(
            &mut self,
            appointment_id: AppointmentId,
            status: AppointmentStatus,
            caller: &Caller,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "INSERT INTO appointment_status_history \
                 (appointment_id, status, changed_at, changed_by) VALUES ($1, $2, $3, $4)",
            )
            .bind(appointment_id.to_string())
            .bind(status.as_str())
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *self)
            .await
            .context("failed to record a status change")?;
            Ok(())
        }

        async fn record_queue_status(
            &mut self,
            queue_entry_id: QueueEntryId,
            status: QueueEntryStatus,
            caller: &Caller,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "INSERT INTO queue_entry_history \
                 (queue_entry_id, status, changed_at, changed_by) VALUES ($1, $2, $3, $4)",
            )
            .bind(queue_entry_id.to_string())
            .bind(status.as_str())
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *self)
            .await
            .context("failed to record a queue status change")?;
            Ok(())
        }
    }
}
