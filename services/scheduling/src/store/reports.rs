//! The counts behind the schedule report.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::with_db;

use super::SchedulingStore;
use crate::domain::{ReportSpan, ScheduleCounts, SchedulingError};

impl SchedulingStore {
    /// Counts the appointments starting within `span` and the waits of the patients seated from
    /// its days' queues.
    pub async fn schedule_counts(
        &self,
        span: &ReportSpan,
    ) -> Result<ScheduleCounts, SchedulingError> {
        let (from, until) = span.instants;
        let (counts, waits) = with_db!(&self.db, |pool| {
            let counts: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), \
                 COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM appointment_status_history h \
                     WHERE h.appointment_id = a.appointment_id AND h.status = 'confirmed') \
                     THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN a.status IN ('arrived', 'seated', 'completed', \
                     'checked_out') THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN a.status = 'no_show' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN a.status = 'cancelled' AND a.late_cancellation \
                     THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN a.status = 'cancelled' AND NOT a.late_cancellation \
                     THEN 1 ELSE 0 END), 0) \
                 FROM appointments a \
                 WHERE a.start_at >= $1 AND a.start_at < $2 AND a.status <> 'rescheduled'",
            )
            .bind(from)
            .bind(until)
            .fetch_one(pool)
            .await
            .context("failed to count appointments")?;
            // Each seated entry's check-in and its first call (or its seating, if never called).
            let waits: Vec<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
                "SELECT q.arrived_at, MIN(h.changed_at) FROM queue_entries q \
                 JOIN queue_entry_history h ON h.queue_entry_id = q.queue_entry_id \
                 AND h.status IN ('called', 'seated') \
                 WHERE q.queue_day >= $1 AND q.queue_day <= $2 \
                 AND EXISTS (SELECT 1 FROM queue_entry_history s \
                     WHERE s.queue_entry_id = q.queue_entry_id AND s.status = 'seated') \
                 GROUP BY q.queue_entry_id, q.arrived_at",
            )
            .bind(span.first)
            .bind(span.last)
            .fetch_all(pool)
            .await
            .context("failed to read queue waits")?;
            Ok::<_, anyhow::Error>((counts, waits))
        })?;
        let (scheduled, confirmed, attended, no_shows, late, early) = counts;
        Ok(ScheduleCounts {
            scheduled,
            confirmed,
            attended,
            no_shows,
            late_cancellations: late,
            early_cancellations: early,
            waits: waits
                .into_iter()
                .map(|(arrived, called)| (called - arrived).num_seconds().max(0))
                .collect(),
        })
    }
}
