//! What the kiosk's lookup reads: today's appointments a patient could be looking for, and the
//! misses kiosks have made recently.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::{in_transaction, with_db};

use super::SchedulingStore;
use super::appointments::AppointmentRow;
use crate::domain::{Appointment, KioskMiss, LookupTarget, SchedulingError};

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

    /// Every kiosk miss recorded after `since`, oldest first.
    pub async fn kiosk_misses_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<KioskMiss>, SchedulingError> {
        let rows: Vec<(String, String, DateTime<Utc>)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT subject, target, missed_at FROM kiosk_lookup_misses \
                 WHERE missed_at > $1 ORDER BY missed_at",
            )
            .bind(since)
            .fetch_all(pool)
            .await
        })
        .context("failed to read recent kiosk misses")?;
        Ok(rows
            .into_iter()
            .map(|(kiosk, target, at)| KioskMiss {
                kiosk,
                target: LookupTarget::from_stored(target),
                at,
            })
            .collect())
    }

    /// Records a miss by the kiosk `subject` at `target` at `now`, forgetting every miss from
    /// before `forget_before` (they no longer count).
    pub async fn record_kiosk_miss(
        &self,
        (subject, target): (&str, &LookupTarget),
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), SchedulingError> {
        in_transaction!(&self.db, |tx| {
            sqlx::query("DELETE FROM kiosk_lookup_misses WHERE missed_at <= $1")
                .bind(forget_before)
                .execute(&mut *tx)
                .await
                .context("failed to forget old kiosk misses")?;
            sqlx::query(
                "INSERT INTO kiosk_lookup_misses (subject, target, missed_at) VALUES ($1, $2, $3)",
            )
            .bind(subject)
            .bind(target.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to record a kiosk's miss")?;
            Ok::<_, SchedulingError>(())
        })
    }
}
