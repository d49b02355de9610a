//! The figures of a clinic day for the daily close, summed in SQL from the day's charges,
//! payments and refunds, the ledger up to the day, and the drawers closed in it. Read-only.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::with_db;
use clinic_common::{Currency, Money};

use super::{BillingStore, corrupt};
use crate::domain::{
    BillingError, ClosedDay, CorrectionKind, DayFigures, DrawerCloseSummary, DrawerSessionId,
    IncomeMethod, OutstandingAccount, PackageSales, ProviderIncome, ServiceIncome, Tally,
};

/// A sum grouped by method (and card type) as read.
type MethodRow = (String, Option<String>, i64, i64);
/// A sum grouped by staff subject as read.
type StaffRow = (String, i64, i64);

/// Everything read for a day, in one snapshot.
struct DayRows {
    payments_by_method: Vec<MethodRow>,
    refunds_by_method: Vec<MethodRow>,
    services: Vec<(String, String, i64, i64, i64)>,
    payments_by_staff: Vec<StaffRow>,
    refunds_by_staff: Vec<StaffRow>,
    outstanding: Vec<(String, i64)>,
    drawer_sessions: Vec<String>,
    payments: (i64, i64),
    providers: Vec<(Option<String>, Option<String>, i64, i64)>,
    packages_sold: Vec<(String, String, i64, i64)>,
    corrections: Vec<(String, i64, i64)>,
    advance_applied: (i64, i64),
    discounts: (i64, i64),
    closed: Option<(String, DateTime<Utc>)>,
}

impl BillingStore {
    /// The figures of `day`, whose clinic-local span is `[day_start, day_end)`. Payments,
    /// refunds and charges belong to the day by their service date; the outstanding accounts sum
    /// every ledger entry dated up to the end of the day; drawers belong to the day they were
    /// counted and closed. `currency` is the clinic's: billing accepts no other.
    pub async fn day_figures(
        &self,
        day: NaiveDate,
        day_start: DateTime<Utc>,
        day_end: DateTime<Utc>,
        currency: Currency,
    ) -> Result<DayFigures, BillingError> {
        // One read transaction, so the sections add up with each other even while the counter
        // keeps taking payments.
        let rows = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin().await?;
                // Money that came in, by the method of each part; advance parts brought none.
                let payments_by_method: Vec<MethodRow> = sqlx::query_as(
                    "SELECT pp.method, pp.card_type, CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(pp.amount_minor) AS BIGINT) \
                     FROM payment_parts pp JOIN payments p ON p.payment_id = pp.payment_id \
                     WHERE p.service_date = $1 AND pp.method <> 'advance' \
                     GROUP BY pp.method, pp.card_type",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let refunds_by_method: Vec<MethodRow> = sqlx::query_as(
                    "SELECT r.method, pp.card_type, CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(r.amount_minor) AS BIGINT) \
                     FROM refunds r JOIN payment_parts pp \
                     ON pp.payment_id = r.payment_id AND pp.position = r.part_position \
                     WHERE r.service_date = $1 GROUP BY r.method, pp.card_type",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let services: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT c.price_code, i.description, CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(c.quantity) AS BIGINT), CAST(SUM(c.net_minor) AS BIGINT) \
                     FROM charges c JOIN price_list_items i ON i.code = c.price_code \
                     WHERE c.service_date = $1 GROUP BY c.price_code, i.description \
                     ORDER BY c.price_code",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let payments_by_staff: Vec<StaffRow> = sqlx::query_as(
                    "SELECT received_by, CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(received_minor) AS BIGINT) FROM payments \
                     WHERE service_date = $1 AND received_minor > 0 GROUP BY received_by",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let refunds_by_staff: Vec<StaffRow> = sqlx::query_as(
                    "SELECT refunded_by, CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(amount_minor) AS BIGINT) FROM refunds WHERE service_date = $1 \
                     GROUP BY refunded_by",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let outstanding: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT patient_id, CAST(SUM(amount_minor) AS BIGINT) AS owed \
                     FROM ledger_entries WHERE service_date <= $1 \
                     GROUP BY patient_id HAVING SUM(amount_minor) > 0 \
                     ORDER BY owed DESC, patient_id",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let drawer_sessions: Vec<String> = sqlx::query_scalar(
                    "SELECT session_id FROM cash_drawer_sessions \
                     WHERE closed_at >= $1 AND closed_at < $2 ORDER BY closed_at, session_id",
                )
                .bind(day_start)
                .bind(day_end)
                .fetch_all(&mut *tx)
                .await?;
                let payments: (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COUNT(*) AS BIGINT), \
                     CAST(COALESCE(SUM(received_minor), 0) AS BIGINT) FROM payments \
                     WHERE service_date = $1 AND received_minor > 0",
                )
                .bind(day)
                .fetch_one(&mut *tx)
                .await?;
                let providers: Vec<(Option<String>, Option<String>, i64, i64)> = sqlx::query_as(
                    "SELECT provider_id, MIN(provider_name), CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(net_minor) AS BIGINT) FROM charges WHERE service_date = $1 \
                     GROUP BY provider_id",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let packages_sold: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT c.price_code, i.description, CAST(COUNT(*) AS BIGINT), \
                     CAST(SUM(c.net_minor) AS BIGINT) \
                     FROM charges c JOIN price_list_items i ON i.code = c.price_code \
                     WHERE c.service_date = $1 AND i.kind = 'package' \
                     GROUP BY c.price_code, i.description ORDER BY c.price_code",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let corrections: Vec<(String, i64, i64)> = sqlx::query_as(
                    "SELECT kind, CAST(COUNT(*) AS BIGINT), CAST(SUM(amount_minor) AS BIGINT) \
                     FROM corrections WHERE service_date = $1 GROUP BY kind",
                )
                .bind(day)
                .fetch_all(&mut *tx)
                .await?;
                let advance_applied: (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COUNT(*) AS BIGINT), \
                     CAST(COALESCE(SUM(pp.amount_minor), 0) AS BIGINT) \
                     FROM payment_parts pp JOIN payments p ON p.payment_id = pp.payment_id \
                     WHERE p.service_date = $1 AND pp.method = 'advance'",
                )
                .bind(day)
                .fetch_one(&mut *tx)
                .await?;
                let discounts: (i64, i64) = sqlx::query_as(
                    "SELECT CAST(COUNT(*) AS BIGINT), \
                     CAST(COALESCE(SUM(discount_minor), 0) AS BIGINT) FROM charges \
                     WHERE service_date = $1 AND discount_minor > 0",
                )
                .bind(day)
                .fetch_one(&mut *tx)
                .await?;
                let closed: Option<(String, DateTime<Utc>)> =
                    sqlx::query_as("SELECT closed_by, closed_at FROM closed_days WHERE day = $1")
                        .bind(day)
                        .fetch_optional(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(DayRows {
                    payments,
                    providers,
                    packages_sold,
                    corrections,
                    advance_applied,
                    discounts,
                    closed,
                    payments_by_method,
                    refunds_by_method,
                    services,
                    payments_by_staff,
                    refunds_by_staff,
                    outstanding,
                    drawer_sessions,
                })
            }
            .await
        })
        .context("failed to read the day's figures")?;

        let tally = |count: i64, minor: i64| Tally {
            count,
            amount: Money::from_minor(minor, currency),
        };
        let by_method = |rows: Vec<MethodRow>| -> anyhow::Result<Vec<(IncomeMethod, Tally)>> {
            let mut tallies = Vec::with_capacity(rows.len());
            for (method, card_type, count, minor) in rows {
                let method = IncomeMethod::from_stored(&method, card_type.as_deref())
                    .ok_or_else(|| corrupt("method", &format!("{method} on {day}")))?;
                tallies.push((method, tally(count, minor)));
            }
            Ok(tallies)
        };
        let payments_by_method = by_method(rows.payments_by_method)?;
        let refunds_by_method = by_method(rows.refunds_by_method)?;
        let mut services = Vec::with_capacity(rows.services.len());
        for (price_code, description, charge_count, quantity, minor) in rows.services {
            services.push(ServiceIncome {
                price_code,
                description,
                charge_count,
                quantity,
                amount: Money::from_minor(minor, currency),
            });
        }
        let by_staff = |rows: Vec<StaffRow>| -> Vec<(String, Tally)> {
            let mut tallies = Vec::with_capacity(rows.len());
            for (staff, count, minor) in rows {
                tallies.push((staff, tally(count, minor)));
            }
            tallies
        };
        let mut outstanding = Vec::with_capacity(rows.outstanding.len());
        for (patient_id, minor) in rows.outstanding {
            outstanding.push(OutstandingAccount {
                patient_id: PatientId::parse(&patient_id)
                    .map_err(|_| corrupt("patient_id", &format!("ledger of {patient_id}")))?,
                balance: Money::from_minor(minor, currency),
            });
        }
        // Each drawer's Z report is read on its own, after the snapshot: a close freezes its
        // figures, so only the state (an approval landing meanwhile) can be newer.
        let mut drawers = Vec::with_capacity(rows.drawer_sessions.len());
        for session_id in rows.drawer_sessions {
            let session_id = DrawerSessionId::parse(&session_id)
                .map_err(|_| corrupt("session_id", &session_id))?;
            let session = self
                .drawer_session(session_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("drawer session {session_id} vanished"))?;
            let closing = session
                .closing
                .ok_or_else(|| corrupt("closing", &format!("drawer session {session_id}")))?;
            drawers.push(DrawerCloseSummary {
                session_id,
                terminal_id: session.terminal_id,
                state: session.state,
                expected: closing.expected,
                counted: closing
                    .expected
                    .checked_add(closing.difference)
                    .map_err(|error| anyhow::anyhow!("drawer {session_id}: {error}"))?,
                difference: closing.difference,
                closed_by: closing.closed_by,
                closed_at: closing.closed_at,
            });
        }
        let mut corrections = Vec::with_capacity(rows.corrections.len());
        for (kind, count, minor) in rows.corrections {
            let kind = CorrectionKind::parse(&kind)
                .ok_or_else(|| corrupt("kind", &format!("corrections of {day}")))?;
            corrections.push((kind, tally(count, minor)));
        }
        Ok(DayFigures {
            payments: tally(rows.payments.0, rows.payments.1),
            providers: rows
                .providers
                .into_iter()
                .map(|(provider_id, name, count, minor)| ProviderIncome {
                    provider_id,
                    provider_name: name.unwrap_or_default(),
                    charge_count: count,
                    amount: Money::from_minor(minor, currency),
                })
                .collect(),
            packages_sold: rows
                .packages_sold
                .into_iter()
                .map(|(package_code, description, count, minor)| PackageSales {
                    package_code,
                    description,
                    count,
                    amount: Money::from_minor(minor, currency),
                })
                .collect(),
            corrections,
            advance_applied: tally(rows.advance_applied.0, rows.advance_applied.1),
            discounts: tally(rows.discounts.0, rows.discounts.1),
            closed: rows.closed.map(|(closed_by, closed_at)| ClosedDay {
                day,
                closed_by,
                closed_at,
            }),
            day,
            currency,
            payments_by_method,
            refunds_by_method,
            services,
            payments_by_staff: by_staff(rows.payments_by_staff),
            refunds_by_staff: by_staff(rows.refunds_by_staff),
            outstanding,
            drawers,
        })
    }
}
