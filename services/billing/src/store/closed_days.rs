//! Closing a clinic day: from then on no ledger entry may be dated on or before it (see
//! `ledger::LedgerTx::ensure_day_open`).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::{in_transaction, with_db};

use super::BillingStore;
use super::ledger::LedgerTx;
use crate::domain::{BillingError, ClosedDay};

impl BillingStore {
    /// Closes `day`, whose clinic-local span ends at `day_end`, or returns it as it was closed.
    /// Refused while a drawer opened before the end of the day is not counted and closed.
    pub async fn close_day(
        &self,
        day: NaiveDate,
        day_end: DateTime<Utc>,
        closed_by: &str,
        now: DateTime<Utc>,
    ) -> Result<ClosedDay, BillingError> {
        in_transaction!(&self.db, |tx| {
            // Under the ledger head, so no entry can be dated into the day once this commits.
            tx.lock_ledger().await?;
            let already: Option<String> =
                sqlx::query_scalar("SELECT closed_by FROM closed_days WHERE day = $1")
                    .bind(day)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to read a closed day")?;
            if already.is_none() {
                let uncounted: i64 = sqlx::query_scalar(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM cash_drawer_sessions \
                     WHERE status <> 'closed' AND opened_at < $1",
                )
                .bind(day_end)
                .fetch_one(&mut *tx)
                .await
                .context("failed to count the open cash drawers")?;
                if uncounted > 0 {
                    return Err(BillingError::DrawersStillOpen(day));
                }
                sqlx::query(
                    "INSERT INTO closed_days (day, closed_by, closed_at) VALUES ($1, $2, $3)",
                )
                .bind(day)
                .bind(closed_by)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to close a day")?;
            }
            Ok::<_, BillingError>(())
        })?;
        self.closed_day(day)
            .await?
            .ok_or_else(|| anyhow::anyhow!("closed day {day} vanished").into())
    }

    /// The day as it was closed, or `None` while it is open.
    pub async fn closed_day(&self, day: NaiveDate) -> Result<Option<ClosedDay>, BillingError> {
        let row: Option<(NaiveDate, String, DateTime<Utc>)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT day, closed_by, closed_at FROM closed_days WHERE day = $1")
                .bind(day)
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a closed day")?;
        Ok(row.map(|(day, closed_by, closed_at)| ClosedDay {
            day,
            closed_by,
            closed_at,
        }))
    }
}
