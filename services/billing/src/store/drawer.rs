//! Cash-drawer sessions, their counts and cash movements.
//!
//! Why every write starts by "touching" the session row. A cash payment, a movement and a close
//! all run `UPDATE cash_drawer_sessions SET status = status WHERE … AND status = 'open'` first.
//! On PostgreSQL that takes the row's lock until commit, so a close waits for every payment and
//! movement already counting into the drawer, and sums them after they committed; a payment or
//! movement that arrives after the close finds the row no longer open (PostgreSQL re-checks the
//! `WHERE` on the newest row version) and is refused. On SQLite `BEGIN IMMEDIATE` serialises
//! writers outright. Either way no cash is counted into a drawer after its close summed it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::ids::RequestId;
use clinic_common::{Currency, Money};
use clinic_common::{in_transaction, with_db};

use super::{BillingStore, WriteError, claiming_key, corrupt};
use crate::domain::{
    BillingError, CashCount, CashMovement, CashMovementId, CloseDrawer, CloseRefusal, CountLine,
    Denomination, DenominationKind, DrawerClosing, DrawerSession, DrawerSessionId, DrawerState,
    DrawerTotals, MovementCategory, MovementDirection, NewCashMovement, OpenDrawer,
    OpeningMismatch, Operation, TerminalId, decide_close,
};
use clinic_common::validation::FieldViolations;

/// The unique index that keeps one unfinished session per terminal, by the names each backend
/// reports it under.
const ONE_ACTIVE_PER_TERMINAL: &str = "cash_drawer_sessions_one_active_per_terminal";
const ONE_ACTIVE_PER_TERMINAL_SQLITE: &str = "cash_drawer_sessions.terminal_id";

/// Inside the open transaction `$tx`: locks the open session of terminal `$terminal_id` (see the
/// module documentation) and evaluates to `Some((session_id, opening_float_minor))`, or `None`
/// when the terminal has no open session.
macro_rules! lock_open_session {
    ($tx:ident, $terminal_id:expr) => {{
        let locked: Option<(String, i64)> = sqlx::query_as(
            "UPDATE cash_drawer_sessions SET status = status \
             WHERE terminal_id = $1 AND status = 'open' \
             RETURNING session_id, opening_float_minor",
        )
        .bind($terminal_id.as_str())
        .fetch_optional(&mut *$tx)
        .await
        .context("failed to lock a cash drawer session")?;
        locked
    }};
}
pub(crate) use lock_open_session;

/// On `$executor`: the cash through session `$session_id` so far, as
/// `(cash_taken, change_given, payment_count, cash_in, cash_out, movement_count, cash_refunded)`
/// in minor units. Cash refunded at the terminal is part of `cash_out`.
macro_rules! session_flows {
    ($executor:expr, $session_id:expr) => {{
        let (taken, change, payments): (i64, i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(tendered_minor), 0) AS BIGINT), \
             CAST(COALESCE(SUM(change_minor), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
             FROM payment_parts WHERE drawer_session_id = $1",
        )
        .bind($session_id)
        .fetch_one(&mut *$executor)
        .await
        .context("failed to sum a drawer's payments")?;
        let (cash_in, cash_out, movements): (i64, i64, i64) = sqlx::query_as(
            "SELECT \
             CAST(COALESCE(SUM(CASE WHEN direction = 'in' THEN amount_minor ELSE 0 END), 0) \
                  AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN direction = 'out' THEN amount_minor ELSE 0 END), 0) \
                  AS BIGINT), \
             CAST(COUNT(*) AS BIGINT) \
             FROM cash_movements WHERE session_id = $1",
        )
        .bind($session_id)
        .fetch_one(&mut *$executor)
        .await
        .context("failed to sum a drawer's movements")?;
        let refunded: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds \
             WHERE drawer_session_id = $1",
        )
        .bind($session_id)
        .fetch_one(&mut *$executor)
        .await
        .context("failed to sum a drawer's refunds")?;
        (
            taken,
            change,
            payments,
            cash_in,
            cash_out + refunded,
            movements,
            refunded,
        )
    }};
}

/// Inside the open transaction `$tx`: stores `$count` as session `$session_id`'s `$stage` count.
macro_rules! insert_count {
    ($tx:ident, $session_id:expr, $stage:expr, $count:expr) => {
        for (position, line) in $count.lines().iter().enumerate() {
            sqlx::query(
                "INSERT INTO cash_drawer_counts \
                 (session_id, stage, kind, value_minor, pieces, position) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind($session_id)
            .bind($stage)
            .bind(line.denomination.kind.as_str())
            .bind(line.denomination.value.minor_units())
            .bind(i64::from(line.pieces))
            .bind(position as i64)
            .execute(&mut *$tx)
            .await
            .context("failed to store a cash count")?;
        }
    };
}

/// The columns `SessionRow` reads.
macro_rules! session_columns {
    () => {
        "session_id, terminal_id, status, currency, opening_float_minor, previous_closing_minor, \
         opening_difference_minor, opening_difference_reason, opened_by, opened_at, \
         counted_minor, expected_minor, difference_reason, closed_by, closed_at, approved_by, \
         approved_at"
    };
}

/// The columns `MovementRow` reads.
macro_rules! movement_columns {
    () => {
        "m.movement_id, m.session_id, s.terminal_id, m.direction, m.category, m.amount_minor, \
         m.currency, m.note, m.recorded_by, m.created_at"
    };
}

impl BillingStore {
    /// The session an earlier call with this request id opened or closed, when `fingerprint`
    /// shows this request is a retry of it.
    pub async fn earlier_drawer_session(
        &self,
        operation: Operation,
        request_id: &RequestId,
        fingerprint: &str,
    ) -> Result<Option<DrawerSession>, BillingError> {
        let Some(session_id) = self
            .earlier_resource(operation, request_id, fingerprint)
            .await?
        else {
            return Ok(None);
        };
        let session_id = DrawerSessionId::parse(&session_id)
            .map_err(|_| corrupt("idempotency_keys.resource_id", &session_id))?;
        self.drawer_session(session_id).await
    }

    /// Opens a session on a terminal with no unfinished one, comparing the float with the
    /// terminal's previous closing count; or returns the session a first call with the same
    /// request id opened.
    pub async fn open_drawer(
        &self,
        open: &OpenDrawer,
        opened_by: &str,
        now: DateTime<Utc>,
    ) -> Result<DrawerSession, BillingError> {
        let fingerprint = open.fingerprint();
        let session_id = claiming_key(&open.request_id, || {
            self.try_open_drawer(open, &fingerprint, opened_by, now)
        })
        .await?;
        self.existing_session(session_id).await
    }

    async fn try_open_drawer(
        &self,
        open: &OpenDrawer,
        fingerprint: &str,
        opened_by: &str,
        now: DateTime<Utc>,
    ) -> Result<DrawerSessionId, WriteError> {
        let operation = Operation::OpenCashDrawer;
        let float = open.opening_count.total();
        in_transaction!(&self.db, |tx| {
            if let Some(session_id) = earlier_result!(tx, operation, open.request_id, fingerprint) {
                let session_id = DrawerSessionId::parse(&session_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &session_id))?;
                Ok::<_, WriteError>(session_id)
            } else {
                let session_id = DrawerSessionId::new();
                claim_request_id!(
                    tx,
                    operation,
                    open.request_id,
                    fingerprint,
                    session_id.to_string(),
                    now
                );
                let unfinished: Option<String> = sqlx::query_scalar(
                    "SELECT session_id FROM cash_drawer_sessions \
                     WHERE terminal_id = $1 AND status <> 'closed'",
                )
                .bind(open.terminal_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to look for an unfinished drawer session")?;
                if unfinished.is_some() {
                    return Err(BillingError::DrawerAlreadyOpen(open.terminal_id.clone()).into());
                }
                let previous: Option<(Option<i64>, String)> = sqlx::query_as(
                    "SELECT counted_minor, currency FROM cash_drawer_sessions \
                     WHERE terminal_id = $1 AND status = 'closed' \
                     ORDER BY closed_at DESC LIMIT 1",
                )
                .bind(open.terminal_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to read the previous closing count")?;
                let previous_closing = match previous {
                    None => None,
                    Some((Some(counted), currency)) if currency == float.currency().code() => {
                        Some(Money::from_minor(counted, float.currency()))
                    }
                    Some(_) => {
                        return Err(corrupt(
                            "counted_minor or currency",
                            &format!("the last session of terminal {}", open.terminal_id),
                        )
                        .into());
                    }
                };
                let opening_difference = match open.opening_difference(previous_closing) {
                    Ok(difference) => difference,
                    Err(OpeningMismatch::ReasonRequired) => {
                        return Err(BillingError::from(FieldViolations::single(
                            "opening_difference_reason",
                            "is required: the float does not match the terminal's last closing \
                             count",
                        ))
                        .into());
                    }
                    Err(OpeningMismatch::Unexpected) => {
                        return Err(anyhow::anyhow!("a float could not be compared").into());
                    }
                };
                let inserted = sqlx::query(
                    "INSERT INTO cash_drawer_sessions (session_id, terminal_id, status, currency, \
                     opening_float_minor, previous_closing_minor, opening_difference_minor, \
                     opening_difference_reason, opened_by, opened_at) \
                     VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(session_id.to_string())
                .bind(open.terminal_id.as_str())
                .bind(float.currency().code())
                .bind(float.minor_units())
                .bind(previous_closing.map(|money| money.minor_units()))
                .bind(opening_difference.minor_units())
                .bind(open.difference_reason.as_deref())
                .bind(opened_by)
                .bind(now)
                .execute(&mut *tx)
                .await;
                match inserted {
                    // Another counter opened this terminal's drawer between the check and here.
                    Err(error)
                        if clinic_common::db::is_unique_violation(
                            &error,
                            ONE_ACTIVE_PER_TERMINAL,
                        ) || clinic_common::db::is_unique_violation(
                            &error,
                            ONE_ACTIVE_PER_TERMINAL_SQLITE,
                        ) =>
                    {
                        return Err(
                            BillingError::DrawerAlreadyOpen(open.terminal_id.clone()).into()
                        );
                    }
                    other => {
                        other.context("failed to insert a drawer session")?;
                    }
                }
                insert_count!(tx, session_id.to_string(), "opening", open.opening_count);
                Ok(session_id)
            }
        })
    }

    /// Records a movement on the terminal's open drawer, or returns the movement a first call
    /// with the same request id recorded.
    pub async fn record_cash_movement(
        &self,
        new: &NewCashMovement,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<CashMovement, BillingError> {
        let fingerprint = new.fingerprint();
        let movement_id = claiming_key(&new.request_id, || {
            self.try_record_cash_movement(new, &fingerprint, recorded_by, now)
        })
        .await?;
        self.cash_movement(movement_id).await?.ok_or_else(|| {
            anyhow::anyhow!("cash movement {movement_id} vanished after insert").into()
        })
    }

    async fn try_record_cash_movement(
        &self,
        new: &NewCashMovement,
        fingerprint: &str,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<CashMovementId, WriteError> {
        let operation = Operation::RecordCashMovement;
        in_transaction!(&self.db, |tx| {
            if let Some(movement_id) = earlier_result!(tx, operation, new.request_id, fingerprint) {
                let movement_id = CashMovementId::parse(&movement_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &movement_id))?;
                Ok::<_, WriteError>(movement_id)
            } else {
                let movement_id = CashMovementId::new();
                claim_request_id!(
                    tx,
                    operation,
                    new.request_id,
                    fingerprint,
                    movement_id.to_string(),
                    now
                );
                let Some((session_id, _)) = lock_open_session!(tx, new.terminal_id) else {
                    return Err(BillingError::DrawerNotOpen(new.terminal_id.clone()).into());
                };
                sqlx::query(
                    "INSERT INTO cash_movements (movement_id, session_id, direction, category, \
                     amount_minor, currency, note, recorded_by, request_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(movement_id.to_string())
                .bind(session_id)
                .bind(new.direction.as_str())
                .bind(new.category.as_str())
                .bind(new.amount.minor_units())
                .bind(new.amount.currency().code())
                .bind(new.note.as_deref())
                .bind(recorded_by)
                .bind(new.request_id.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to insert a cash movement")?;
                Ok(movement_id)
            }
        })
    }

    async fn cash_movement(
        &self,
        movement_id: CashMovementId,
    ) -> Result<Option<CashMovement>, BillingError> {
        let row: Option<MovementRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                movement_columns!(),
                " FROM cash_movements m \
                 JOIN cash_drawer_sessions s ON s.session_id = m.session_id \
                 WHERE m.movement_id = $1"
            ))
            .bind(movement_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a cash movement")?;
        Ok(row.map(MovementRow::into_movement).transpose()?)
    }

    /// Closes the terminal's open drawer from a blind count, freezing the Z report's figures; or
    /// returns the session a first call with the same request id closed. A count that differs
    /// from the expected amount without a reason writes nothing.
    pub async fn close_drawer(
        &self,
        close: &CloseDrawer,
        closed_by: &str,
        difference_limit_minor: i64,
        now: DateTime<Utc>,
    ) -> Result<DrawerSession, BillingError> {
        let fingerprint = close.fingerprint();
        let session_id = claiming_key(&close.request_id, || {
            self.try_close_drawer(close, &fingerprint, closed_by, difference_limit_minor, now)
        })
        .await?;
        self.existing_session(session_id).await
    }

    async fn try_close_drawer(
        &self,
        close: &CloseDrawer,
        fingerprint: &str,
        closed_by: &str,
        difference_limit_minor: i64,
        now: DateTime<Utc>,
    ) -> Result<DrawerSessionId, WriteError> {
        let operation = Operation::CloseCashDrawer;
        let counted = close.closing_count.total();
        let currency = counted.currency();
        in_transaction!(&self.db, |tx| {
            if let Some(session_id) = earlier_result!(tx, operation, close.request_id, fingerprint)
            {
                let session_id = DrawerSessionId::parse(&session_id)
                    .map_err(|_| corrupt("idempotency_keys.resource_id", &session_id))?;
                Ok::<_, WriteError>(session_id)
            } else {
                let Some((session_id, opening_float)) = lock_open_session!(tx, close.terminal_id)
                else {
                    return Err(BillingError::DrawerNotOpen(close.terminal_id.clone()).into());
                };
                claim_request_id!(
                    tx,
                    operation,
                    close.request_id,
                    fingerprint,
                    session_id.clone(),
                    now
                );
                // Every payment and movement that counted into the drawer holds (or held) its
                // row, so all of them have committed by now and this sum sees them.
                let (taken, change, payments, cash_in, cash_out, movements, refunded) =
                    session_flows!(tx, session_id.as_str());
                let totals = DrawerTotals {
                    opening_float: Money::from_minor(opening_float, currency),
                    cash_taken: Money::from_minor(taken, currency),
                    change_given: Money::from_minor(change, currency),
                    cash_in: Money::from_minor(cash_in, currency),
                    cash_out: Money::from_minor(cash_out, currency),
                    cash_payment_count: payments,
                    cash_movement_count: movements,
                    cash_refunded: Money::from_minor(refunded, currency),
                };
                let outcome = match decide_close(
                    &totals,
                    counted,
                    close.difference_reason.is_some(),
                    difference_limit_minor,
                ) {
                    Ok(outcome) => outcome,
                    Err(CloseRefusal::ReasonRequired) => {
                        return Err(BillingError::from(FieldViolations::single(
                            "difference_reason",
                            "is required: the count does not match the expected amount",
                        ))
                        .into());
                    }
                    Err(CloseRefusal::Overflow) => {
                        return Err(anyhow::anyhow!("a drawer's totals overflowed").into());
                    }
                };
                sqlx::query(
                    "UPDATE cash_drawer_sessions SET status = $2, counted_minor = $3, \
                     expected_minor = $4, cash_taken_minor = $5, change_given_minor = $6, \
                     cash_in_minor = $7, cash_out_minor = $8, difference_reason = $9, \
                     closed_by = $10, closed_at = $11 WHERE session_id = $1",
                )
                .bind(session_id.as_str())
                .bind(outcome.state.as_str())
                .bind(counted.minor_units())
                .bind(outcome.expected.minor_units())
                .bind(taken)
                .bind(change)
                .bind(cash_in)
                .bind(cash_out)
                .bind(close.difference_reason.as_deref())
                .bind(closed_by)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to close a drawer session")?;
                insert_count!(tx, session_id.as_str(), "closing", close.closing_count);
                let session_id = DrawerSessionId::parse(&session_id)
                    .map_err(|_| corrupt("session_id", &session_id))?;
                Ok(session_id)
            }
        })
    }

    /// A manager approves a close awaiting approval. Approving it again returns it unchanged.
    pub async fn approve_close(
        &self,
        session_id: DrawerSessionId,
        approved_by: &str,
        now: DateTime<Utc>,
    ) -> Result<DrawerSession, BillingError> {
        in_transaction!(&self.db, |tx| {
            // Locks the row, so two managers approving at once are serialised.
            let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
                "UPDATE cash_drawer_sessions SET status = status WHERE session_id = $1 \
                 RETURNING status, closed_by, approved_by",
            )
            .bind(session_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .context("failed to lock a drawer session")?;
            let Some((status, closed_by, approved)) = row else {
                return Err(BillingError::DrawerSessionNotFound(session_id));
            };
            match (DrawerState::parse(&status), approved) {
                (Some(DrawerState::Closed), Some(_)) => Ok(()),
                (Some(DrawerState::PendingApproval), None) => {
                    if closed_by.as_deref() == Some(approved_by) {
                        return Err(BillingError::SelfApproval);
                    }
                    sqlx::query(
                        "UPDATE cash_drawer_sessions SET status = 'closed', approved_by = $2, \
                         approved_at = $3 WHERE session_id = $1",
                    )
                    .bind(session_id.to_string())
                    .bind(approved_by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .context("failed to approve a drawer close")?;
                    Ok(())
                }
                (Some(_), _) => Err(BillingError::DrawerNotAwaitingApproval(session_id)),
                (None, _) => Err(corrupt("status", &format!("drawer session {session_id}")).into()),
            }
        })?;
        self.existing_session(session_id).await
    }

    /// The terminal's unfinished (open or awaiting approval) session, if any.
    pub async fn current_drawer(
        &self,
        terminal_id: &TerminalId,
    ) -> Result<Option<DrawerSession>, BillingError> {
        let session_id: Option<String> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT session_id FROM cash_drawer_sessions \
                 WHERE terminal_id = $1 AND status <> 'closed'",
            )
            .bind(terminal_id.as_str())
            .fetch_optional(pool)
            .await
        })
        .context("failed to look up a terminal's drawer")?;
        match session_id {
            None => Ok(None),
            Some(session_id) => {
                let session_id = DrawerSessionId::parse(&session_id)
                    .map_err(|_| corrupt("session_id", &session_id))?;
                self.drawer_session(session_id).await
            }
        }
    }

    async fn existing_session(
        &self,
        session_id: DrawerSessionId,
    ) -> Result<DrawerSession, BillingError> {
        self.drawer_session(session_id).await?.ok_or_else(|| {
            anyhow::anyhow!("drawer session {session_id} vanished after a write").into()
        })
    }

    /// A session with its counts and report (X report while open, Z report once closed).
    pub async fn drawer_session(
        &self,
        session_id: DrawerSessionId,
    ) -> Result<Option<DrawerSession>, BillingError> {
        let id = session_id.to_string();
        let read = with_db!(&self.db, |pool| {
            async {
                let mut connection = pool.acquire().await.context("failed to connect")?;
                let row: Option<SessionRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM cash_drawer_sessions WHERE session_id = $1"
                ))
                .bind(id.as_str())
                .fetch_optional(&mut *connection)
                .await
                .context("failed to read a drawer session")?;
                let Some(row) = row else {
                    return Ok::<_, anyhow::Error>(None);
                };
                let counts: Vec<CountRow> = sqlx::query_as(
                    "SELECT stage, kind, value_minor, pieces FROM cash_drawer_counts \
                     WHERE session_id = $1 ORDER BY stage, position",
                )
                .bind(id.as_str())
                .fetch_all(&mut *connection)
                .await
                .context("failed to read a drawer's counts")?;
                // Nothing counts into a session after its close (see the module documentation),
                // so summing now gives the X report while open and the Z report once closed.
                let flows = session_flows!(connection, id.as_str());
                Ok(Some((row, counts, flows)))
            }
            .await
        })?;
        let Some((row, counts, flows)) = read else {
            return Ok(None);
        };
        Ok(Some(row.into_session(counts, flows)?))
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: String,
    terminal_id: String,
    status: String,
    currency: String,
    opening_float_minor: i64,
    previous_closing_minor: Option<i64>,
    opening_difference_minor: i64,
    opening_difference_reason: Option<String>,
    opened_by: String,
    opened_at: DateTime<Utc>,
    counted_minor: Option<i64>,
    expected_minor: Option<i64>,
    difference_reason: Option<String>,
    closed_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    approved_by: Option<String>,
    approved_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    stage: String,
    kind: String,
    value_minor: i64,
    pieces: i32,
}

type Flows = (i64, i64, i64, i64, i64, i64, i64);

impl SessionRow {
    /// `flows` are the session's sums (see `session_flows!`).
    fn into_session(self, counts: Vec<CountRow>, flows: Flows) -> anyhow::Result<DrawerSession> {
        let row_id = format!("drawer session {}", self.session_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        let money = |minor: i64| Money::from_minor(minor, currency);
        let state = DrawerState::parse(&self.status).ok_or_else(|| corrupt("status"))?;
        let mut opening = Vec::new();
        let mut closing = Vec::new();
        for count in counts {
            let line = CountLine {
                denomination: Denomination {
                    kind: DenominationKind::parse(&count.kind).ok_or_else(|| corrupt("kind"))?,
                    value: money(count.value_minor),
                },
                pieces: u32::try_from(count.pieces).map_err(|_| corrupt("pieces"))?,
            };
            match count.stage.as_str() {
                "opening" => opening.push(line),
                "closing" => closing.push(line),
                _ => return Err(corrupt("stage")),
            }
        }
        let opening_count = CashCount::from_stored(opening, currency)?;
        let (taken, change, payments, cash_in, cash_out, movements, refunded) = flows;
        let totals = DrawerTotals {
            opening_float: money(self.opening_float_minor),
            cash_taken: money(taken),
            change_given: money(change),
            cash_in: money(cash_in),
            cash_out: money(cash_out),
            cash_payment_count: payments,
            cash_movement_count: movements,
            cash_refunded: money(refunded),
        };
        let closing = match state {
            DrawerState::Open => None,
            DrawerState::PendingApproval | DrawerState::Closed => {
                let counted = self.counted_minor.ok_or_else(|| corrupt("counted_minor"))?;
                let expected = money(
                    self.expected_minor
                        .ok_or_else(|| corrupt("expected_minor"))?,
                );
                let closing_count = CashCount::from_stored(closing, currency)?;
                if closing_count.total().minor_units() != counted {
                    return Err(corrupt("counted_minor"));
                }
                Some(DrawerClosing {
                    difference: closing_count.total().checked_sub(expected)?,
                    closing_count,
                    expected,
                    difference_reason: self.difference_reason,
                    closed_by: self.closed_by.ok_or_else(|| corrupt("closed_by"))?,
                    closed_at: self.closed_at.ok_or_else(|| corrupt("closed_at"))?,
                    approved_by: self.approved_by,
                    approved_at: self.approved_at,
                })
            }
        };
        Ok(DrawerSession {
            session_id: DrawerSessionId::parse(&self.session_id)
                .map_err(|_| corrupt("session_id"))?,
            terminal_id: TerminalId::parse(&self.terminal_id)
                .map_err(|_| corrupt("terminal_id"))?,
            state,
            opening_count,
            previous_closing: self.previous_closing_minor.map(money),
            opening_difference: money(self.opening_difference_minor),
            opening_difference_reason: self.opening_difference_reason,
            opened_by: self.opened_by,
            opened_at: self.opened_at,
            totals,
            closing,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MovementRow {
    movement_id: String,
    session_id: String,
    terminal_id: String,
    direction: String,
    category: String,
    amount_minor: i64,
    currency: String,
    note: Option<String>,
    recorded_by: String,
    created_at: DateTime<Utc>,
}

impl MovementRow {
    fn into_movement(self) -> anyhow::Result<CashMovement> {
        let row_id = format!("cash movement {}", self.movement_id);
        let corrupt = |column: &str| corrupt(column, &row_id);
        let currency: Currency = self.currency.parse().map_err(|_| corrupt("currency"))?;
        Ok(CashMovement {
            movement_id: CashMovementId::parse(&self.movement_id)
                .map_err(|_| corrupt("movement_id"))?,
            session_id: DrawerSessionId::parse(&self.session_id)
                .map_err(|_| corrupt("session_id"))?,
            terminal_id: TerminalId::parse(&self.terminal_id)
                .map_err(|_| corrupt("terminal_id"))?,
            direction: MovementDirection::parse(&self.direction)
                .ok_or_else(|| corrupt("direction"))?,
            category: MovementCategory::parse(&self.category).ok_or_else(|| corrupt("category"))?,
            amount: Money::from_minor(self.amount_minor, currency),
            note: self.note,
            recorded_by: self.recorded_by,
            created_at: self.created_at,
        })
    }
}
