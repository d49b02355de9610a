//! The figures of a clinic day for the daily close, summed in SQL from the day's charges,
//! payments and refunds, the ledger up to the day, and the drawers closed in it. Read-only.
//!
//! Each group of figures is one method of [`DayFiguresTx`], and `day_figures` runs them all in
//! one read transaction.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, with_db};

use super::{BillingStore, corrupt};
use crate::domain::{
    BillingError, ClosedDay, CorrectionKind, DayFigures, DrawerCloseSummary, DrawerSessionId,
    IncomeMethod, OutstandingAccount, PackageSales, ProviderIncome, ServiceIncome, Tally,
};

/// A sum grouped by method (and card type) as read.
type MethodRow = (String, Option<String>, i64, i64);
/// A sum grouped by staff subject as read.
type StaffRow = (String, i64, i64);

/// The money that came in and went back out on a day.
struct MoneyFlows {
    /// Payments that brought money: their count and the money.
    payments: Tally,
    payments_by_method: Vec<(IncomeMethod, Tally)>,
    refunds_by_method: Vec<(IncomeMethod, Tally)>,
    /// Payment parts drawn from patients' advances.
    advance_applied: Tally,
}

/// What was charged on a day.
struct Charged {
    services: Vec<ServiceIncome>,
    providers: Vec<ProviderIncome>,
    packages_sold: Vec<PackageSales>,
    /// Charges with a discount, and the discounts' sum.
    discounts: Tally,
}

/// Payments and refunds of a day by the staff member who took or gave them.
struct ByStaff {
    payments: Vec<(String, Tally)>,
    refunds: Vec<(String, Tally)>,
}

/// The groups of a day's figures, each read on the connection of the report's one read
/// transaction. Amounts are in `currency`, the clinic's.
trait DayFiguresTx {
    /// Money in by the method of each part (advance parts brought none), money back out by
    /// method, the payments that brought money, and what payments drew from advances.
    async fn money_flows(
        &mut self,
        day: NaiveDate,
        currency: Currency,
    ) -> anyhow::Result<MoneyFlows>;

    /// The day's charges by service and by provider, the packages sold and the discounts given.
    async fn charged(&mut self, day: NaiveDate, currency: Currency) -> anyhow::Result<Charged>;

    /// The day's payments that brought money, by `received_by`, and refunds by `refunded_by`.
    async fn by_staff(&mut self, day: NaiveDate, currency: Currency) -> anyhow::Result<ByStaff>;

    /// Corrections dated on the day, by kind: signed sums, as their ledger entries.
    async fn corrections(
        &mut self,
        day: NaiveDate,
        currency: Currency,
    ) -> anyhow::Result<Vec<(CorrectionKind, Tally)>>;

    /// Patients owing at the end of the day (every ledger entry dated up to it), largest
    /// balance first.
    async fn outstanding(
        &mut self,
        day: NaiveDate,
        currency: Currency,
    ) -> anyhow::Result<Vec<OutstandingAccount>>;

    /// The drawer sessions counted and closed within `[day_start, day_end)`, in the order they
    /// were closed.
    async fn drawers_closed(
        &mut self,
        day_start: DateTime<Utc>,
        day_end: DateTime<Utc>,
    ) -> anyhow::Result<Vec<DrawerSessionId>>;

    /// The day as it was closed, or `None` while it is open.
    async fn day_closed(&mut self, day: NaiveDate) -> anyhow::Result<Option<ClosedDay>>;
}

for_each_backend! {
    impl DayFiguresTx for Conn {
        async fn money_flows(
            &mut self,
            day: NaiveDate,
            currency: Currency,
        ) -> anyhow::Result<MoneyFlows> {
            let payments_by_method: Vec<MethodRow> = sqlx::query_as(
                "SELECT pp.method, pp.card_type, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(pp.amount_minor) AS BIGINT) \
                 FROM payment_parts pp JOIN payments p ON p.payment_id = pp.payment_id \
                 WHERE p.service_date = $1 AND pp.method <> 'advance' \
                 GROUP BY pp.method, pp.card_type",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's payments by method")?;
            let refunds_by_method: Vec<MethodRow> = sqlx::query_as(
                "SELECT r.method, pp.card_type, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(r.amount_minor) AS BIGINT) \
                 FROM refunds r JOIN payment_parts pp \
                 ON pp.payment_id = r.payment_id AND pp.position = r.part_position \
                 WHERE r.service_date = $1 GROUP BY r.method, pp.card_type",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's refunds by method")?;
            let (payment_count, received): (i64, i64) = sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT), \
                 CAST(COALESCE(SUM(received_minor), 0) AS BIGINT) FROM payments \
                 WHERE service_date = $1 AND received_minor > 0",
            )
            .bind(day)
            .fetch_one(&mut *self)
            .await
            .context("failed to sum the day's payments")?;
            let (advance_count, advance): (i64, i64) = sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT), \
                 CAST(COALESCE(SUM(pp.amount_minor), 0) AS BIGINT) \
                 FROM payment_parts pp JOIN payments p ON p.payment_id = pp.payment_id \
                 WHERE p.service_date = $1 AND pp.method = 'advance'",
            )
            .bind(day)
            .fetch_one(&mut *self)
            .await
            .context("failed to sum the day's advance applied")?;
            Ok(MoneyFlows {
                payments: tally(payment_count, received, currency),
                payments_by_method: by_method(payments_by_method, day, currency)?,
                refunds_by_method: by_method(refunds_by_method, day, currency)?,
                advance_applied: tally(advance_count, advance, currency),
            })
        }

        async fn charged(&mut self, day: NaiveDate, currency: Currency) -> anyhow::Result<Charged> {
            let services: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
                "SELECT c.price_code, i.description, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(c.quantity) AS BIGINT), CAST(SUM(c.net_minor) AS BIGINT) \
                 FROM charges c JOIN price_list_items i ON i.code = c.price_code \
                 WHERE c.service_date = $1 GROUP BY c.price_code, i.description \
                 ORDER BY c.price_code",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's charges by service")?;
            let providers: Vec<(Option<String>, Option<String>, i64, i64)> = sqlx::query_as(
                "SELECT provider_id, MIN(provider_name), CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(net_minor) AS BIGINT) FROM charges WHERE service_date = $1 \
                 GROUP BY provider_id",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's charges by provider")?;
            let packages_sold: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT c.price_code, i.description, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(c.net_minor) AS BIGINT) \
                 FROM charges c JOIN price_list_items i ON i.code = c.price_code \
                 WHERE c.service_date = $1 AND i.kind = 'package' \
                 GROUP BY c.price_code, i.description ORDER BY c.price_code",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's packages sold")?;
            let (discount_count, discounts): (i64, i64) = sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT), \
                 CAST(COALESCE(SUM(discount_minor), 0) AS BIGINT) FROM charges \
                 WHERE service_date = $1 AND discount_minor > 0",
            )
            .bind(day)
            .fetch_one(&mut *self)
            .await
            .context("failed to sum the day's discounts")?;
            let money = |minor: i64| Money::from_minor(minor, currency);
            Ok(Charged {
                services: services
                    .into_iter()
                    .map(|(price_code, description, charge_count, quantity, minor)| {
                        ServiceIncome {
                            price_code,
                            description,
                            charge_count,
                            quantity,
                            amount: money(minor),
                        }
                    })
                    .collect(),
                providers: providers
                    .into_iter()
                    .map(|(provider_id, name, count, minor)| ProviderIncome {
                        provider_id,
                        provider_name: name.unwrap_or_default(),
                        charge_count: count,
                        amount: money(minor),
                    })
                    .collect(),
                packages_sold: packages_sold
                    .into_iter()
                    .map(|(package_code, description, count, minor)| PackageSales {
                        package_code,
                        description,
                        count,
                        amount: money(minor),
                    })
                    .collect(),
                discounts: tally(discount_count, discounts, currency),
            })
        }

        async fn by_staff(
            &mut self,
            day: NaiveDate,
            currency: Currency,
        ) -> anyhow::Result<ByStaff> {
            let payments: Vec<StaffRow> = sqlx::query_as(
                "SELECT received_by, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(received_minor) AS BIGINT) FROM payments \
                 WHERE service_date = $1 AND received_minor > 0 GROUP BY received_by",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's payments by staff")?;
            let refunds: Vec<StaffRow> = sqlx::query_as(
                "SELECT refunded_by, CAST(COUNT(*) AS BIGINT), \
                 CAST(SUM(amount_minor) AS BIGINT) FROM refunds WHERE service_date = $1 \
                 GROUP BY refunded_by",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's refunds by staff")?;
            Ok(ByStaff {
                payments: by_staff(payments, currency),
                refunds: by_staff(refunds, currency),
            })
        }

        async fn corrections(
            &mut self,
            day: NaiveDate,
            currency: Currency,
        ) -> anyhow::Result<Vec<(CorrectionKind, Tally)>> {
            let rows: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT kind, CAST(COUNT(*) AS BIGINT), CAST(SUM(amount_minor) AS BIGINT) \
                 FROM corrections WHERE service_date = $1 GROUP BY kind",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the day's corrections")?;
            let mut corrections = Vec::with_capacity(rows.len());
            for (kind, count, minor) in rows {
                let kind = CorrectionKind::parse(&kind)
                    .ok_or_else(|| corrupt("kind", &format!("corrections of {day}")))?;
                corrections.push((kind, tally(count, minor, currency)));
            }
            Ok(corrections)
        }

        async fn outstanding(
            &mut self,
            day: NaiveDate,
            currency: Currency,
        ) -> anyhow::Result<Vec<OutstandingAccount>> {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT patient_id, CAST(SUM(amount_minor) AS BIGINT) AS owed \
                 FROM ledger_entries WHERE service_date <= $1 \
                 GROUP BY patient_id HAVING SUM(amount_minor) > 0 \
                 ORDER BY owed DESC, patient_id",
            )
            .bind(day)
            .fetch_all(&mut *self)
            .await
            .context("failed to sum the accounts outstanding")?;
            let mut outstanding = Vec::with_capacity(rows.len());
            for (patient_id, minor) in rows {
                outstanding.push(OutstandingAccount {
                    patient_id: PatientId::parse(&patient_id)
                        .map_err(|_| corrupt("patient_id", &format!("ledger of {patient_id}")))?,
                    balance: Money::from_minor(minor, currency),
                });
            }
            Ok(outstanding)
        }

        async fn drawers_closed(
            &mut self,
            day_start: DateTime<Utc>,
            day_end: DateTime<Utc>,
        ) -> anyhow::Result<Vec<DrawerSessionId>> {
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT session_id FROM cash_drawer_sessions \
                 WHERE closed_at >= $1 AND closed_at < $2 ORDER BY closed_at, session_id",
            )
            .bind(day_start)
            .bind(day_end)
            .fetch_all(&mut *self)
            .await
            .context("failed to read the day's drawer closes")?;
            let mut sessions = Vec::with_capacity(rows.len());
            for session_id in rows {
                sessions.push(
                    DrawerSessionId::parse(&session_id)
                        .map_err(|_| corrupt("session_id", &session_id))?,
                );
            }
            Ok(sessions)
        }

        async fn day_closed(&mut self, day: NaiveDate) -> anyhow::Result<Option<ClosedDay>> {
            let closed: Option<(String, DateTime<Utc>)> =
                sqlx::query_as("SELECT closed_by, closed_at FROM closed_days WHERE day = $1")
                    .bind(day)
                    .fetch_optional(&mut *self)
                    .await
                    .context("failed to read a closed day")?;
            Ok(closed.map(|(closed_by, closed_at)| ClosedDay {
                day,
                closed_by,
                closed_at,
            }))
        }
    }
}

fn tally(count: i64, minor: i64, currency: Currency) -> Tally {
    Tally {
        count,
        amount: Money::from_minor(minor, currency),
    }
}

fn by_method(
    rows: Vec<MethodRow>,
    day: NaiveDate,
    currency: Currency,
) -> anyhow::Result<Vec<(IncomeMethod, Tally)>> {
    let mut tallies = Vec::with_capacity(rows.len());
    for (method, card_type, count, minor) in rows {
        let method = IncomeMethod::from_stored(&method, card_type.as_deref())
            .ok_or_else(|| corrupt("method", &format!("{method} on {day}")))?;
        tallies.push((method, tally(count, minor, currency)));
    }
    Ok(tallies)
}

fn by_staff(rows: Vec<StaffRow>, currency: Currency) -> Vec<(String, Tally)> {
    let mut tallies = Vec::with_capacity(rows.len());
    for (staff, count, minor) in rows {
        tallies.push((staff, tally(count, minor, currency)));
    }
    tallies
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
        let (figures, drawer_sessions) = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin().await?;
                let money = tx.money_flows(day, currency).await?;
                let charged = tx.charged(day, currency).await?;
                let staff = tx.by_staff(day, currency).await?;
                let corrections = tx.corrections(day, currency).await?;
                let outstanding = tx.outstanding(day, currency).await?;
                let drawer_sessions = tx.drawers_closed(day_start, day_end).await?;
                let closed = tx.day_closed(day).await?;
                tx.commit().await?;
                let figures = DayFigures {
                    day,
                    currency,
                    payments_by_method: money.payments_by_method,
                    refunds_by_method: money.refunds_by_method,
                    services: charged.services,
                    payments_by_staff: staff.payments,
                    refunds_by_staff: staff.refunds,
                    outstanding,
                    drawers: Vec::new(),
                    payments: money.payments,
                    providers: charged.providers,
                    packages_sold: charged.packages_sold,
                    corrections,
                    advance_applied: money.advance_applied,
                    discounts: charged.discounts,
                    closed,
                };
                Ok::<_, anyhow::Error>((figures, drawer_sessions))
            }
            .await
        })
        .context("failed to read the day's figures")?;
        Ok(DayFigures {
            drawers: self.drawer_summaries(drawer_sessions).await?,
            ..figures
        })
    }

    /// The Z report figures of the drawers closed on a day.
    async fn drawer_summaries(
        &self,
        sessions: Vec<DrawerSessionId>,
    ) -> Result<Vec<DrawerCloseSummary>, BillingError> {
        // Each drawer's Z report is read on its own, after the snapshot: a close freezes its
        // figures, so only the state (an approval landing meanwhile) can be newer.
        let mut drawers = Vec::with_capacity(sessions.len());
        for session_id in sessions {
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
        Ok(drawers)
    }
}
