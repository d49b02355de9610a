//! What the kiosk's lookup reads: today's appointments a patient could be looking for, and the
//! misses each kiosk has made recently.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::{in_transaction, with_db};

use super::SchedulingStore;
use super::appointments::AppointmentRow;
use crate::domain::{Appointment, SchedulingError};

impl SchedulingStore {
    /// The appointments starting in `[from, until)` that a patient at the kiosk could be
    /// looking for (scheduled, confirmed, arrived, seated), by start.
    pub async fn findable_between(
        &self,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<Appointment>, SchedulingError> {
        let rows: Vec<AppointmentRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                super::appointments::appointment_columns!(),
                " FROM appointments WHERE start_at >= $1 AND start_at < $2 \
                 AND status IN ('scheduled', 'confirmed', 'arrived', 'seated') \
                 ORDER BY start_at, appointment_id"
            ))
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await
        })
        .context("failed to list today's appointments")?;
        let mut appointments = Vec::with_capacity(rows.len());
        for row in rows {
            appointments.push(row.into_appointment()?);
        }
        Ok(appointments)
    }

    /// How many misses the kiosk `subject` has made since `since`.
    pub async fn kiosk_misses(
        &self,
        subject: &str,
        since: DateTime<Utc>,
    ) -> Result<u32, SchedulingError> {
        let misses: i64 = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM kiosk_lookup_misses WHERE subject = $1 AND missed_at > $2",
            )
            .bind(subject)
            .bind(since)
            .fetch_one(pool)
            .await
        })
        .context("failed to count a kiosk's misses")?;
        Ok(u32::try_from(misses).unwrap_or(u32::MAX))
    }

    /// Records a miss by the kiosk `subject` at `now`, forgetting its misses from before
    /// `forget_before` (they no longer count).
    pub async fn record_kiosk_miss(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), SchedulingError> {
        in_transaction!(&self.db, |tx| {
            sqlx::query("DELETE FROM kiosk_lookup_misses WHERE subject = $1 AND missed_at <= $2")
                .bind(subject)
                .bind(forget_before)
                .execute(&mut *tx)
                .await
                .context("failed to forget a kiosk's old misses")?;
            sqlx::query("INSERT INTO kiosk_lookup_misses (subject, missed_at) VALUES ($1, $2)")
                .bind(subject)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to record a kiosk's miss")?;
            Ok::<_, SchedulingError>(())
        })
    }
}
