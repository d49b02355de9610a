//! Cash-drawer sessions, their counts and cash movements.
//!
//! Why every write starts by "touching" the session row. A cash payment, a movement and a close
//! all run `UPDATE cash_drawer_sessions SET status = status WHERE … AND status = 'open'` first
//! ([`DrawerTx::lock_open_session`]). On PostgreSQL that takes the row's lock until commit, so a
//! close waits for every payment and movement already counting into the drawer, and sums them
//! after they committed; a payment or movement that arrives after the close finds the row no
//! longer open (PostgreSQL re-checks the `WHERE` on the newest row version) and is refused. On
//! SQLite `BEGIN IMMEDIATE` serialises writers outright. Either way no cash is counted into a
//! drawer after its close summed it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::RequestId;
use clinic_common::{Currency, Money};
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::{BillingStore, corrupt};
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

/// A terminal's open session, locked until the transaction that locked it ends.
pub(crate) struct LockedSession {
    pub(crate) session_id: String,
    pub(crate) opening_float_minor: i64,
}

/// The cash through a session so far, in minor units.
pub(crate) struct SessionFlows {
    cash_taken: i64,
    change_given: i64,
    payment_count: i64,
    cash_in: i64,
    /// Movements out and cash refunded at the terminal.
    cash_out: i64,
    movement_count: i64,
    /// The part of `cash_out` refunded to patients.
    cash_refunded: i64,
}

impl SessionFlows {
    /// The session's totals, from its opening float.
    fn totals(&self, opening_float_minor: i64, currency: Currency) -> DrawerTotals {
        let money = |minor: i64| Money::from_minor(minor, currency);
        DrawerTotals {
            opening_float: money(opening_float_minor),
            cash_taken: money(self.cash_taken),
            change_given: money(self.change_given),
            cash_in: money(self.cash_in),
            cash_out: money(self.cash_out),
            cash_payment_count: self.payment_count,
            cash_movement_count: self.movement_count,
            cash_refunded: money(self.cash_refunded),
        }
    }
}

/// A close as its session's row records it.
pub(crate) struct CloseRecord<'a> {
    session_id: &'a str,
    close: &'a CloseDrawer,
    /// `Closed`, or `PendingApproval` for a difference over the limit.
    state: DrawerState,
    expected: Money,
    flows: &'a SessionFlows,
    closed_by: &'a str,
    closed_at: DateTime<Utc>,
}

/// A drawer's statements inside a transaction (and, for [`DrawerTx::session_flows`], on any
/// connection).
pub(crate) trait DrawerTx {
    /// Locks the open session of `terminal_id` (see the module documentation) until the
    /// transaction ends; refuses with [`BillingError::DrawerNotOpen`] when the terminal has no
    /// open session.
    async fn lock_open_session(
        &mut self,
        terminal_id: &TerminalId,
    ) -> Result<LockedSession, BillingError>;

    /// The cash through session `session_id` so far. Cash refunded at the terminal is part of
    /// `cash_out`.
    async fn session_flows(&mut self, session_id: &str) -> anyhow::Result<SessionFlows>;

    /// Stores `count` as session `session_id`'s `stage` (`opening` or `closing`) count.
    async fn insert_count(
        &mut self,
        session_id: &str,
        stage: &str,
        count: &CashCount,
    ) -> anyhow::Result<()>;

    /// Refuses ([`BillingError::DrawerAlreadyOpen`]) to open a session on a terminal whose last
    /// one is still open or awaiting approval.
    async fn ensure_terminal_free(&mut self, terminal_id: &TerminalId) -> Result<(), BillingError>;

    /// What the terminal's last closed session counted, in `currency`; `None` for a terminal
    /// never closed.
    async fn previous_closing(
        &mut self,
        terminal_id: &TerminalId,
        currency: Currency,
    ) -> anyhow::Result<Option<Money>>;

    /// Inserts the session `open` opens, whose float differs by `opening_difference` from the
    /// terminal's `previous_closing` count. Refuses ([`BillingError::DrawerAlreadyOpen`]) when
    /// another counter opened the terminal's drawer since [`DrawerTx::ensure_terminal_free`].
    async fn insert_session(
        &mut self,
        session_id: DrawerSessionId,
        open: &OpenDrawer,
        previous_closing: Option<Money>,
        opening_difference: Money,
        opened_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), BillingError>;

    /// Inserts a cash movement into the locked session `session_id`.
    async fn insert_movement(
        &mut self,
        movement_id: CashMovementId,
        session_id: &str,
        new: &NewCashMovement,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;

    /// Closes a locked session as `record` says, freezing its flows as its Z report's figures.
    async fn record_close(&mut self, record: &CloseRecord<'_>) -> anyhow::Result<()>;
}

for_each_backend! {
    impl DrawerTx for Conn {
        async fn lock_open_session(
            &mut self,
            terminal_id: &TerminalId,
        ) -> Result<LockedSession, BillingError> {
            let locked: Option<(String, i64)> = sqlx::query_as(
                "UPDATE cash_drawer_sessions SET status = status \
                 WHERE terminal_id = $1 AND status = 'open' \
                 RETURNING session_id, opening_float_minor",
            )
            .bind(terminal_id.as_str())
            .fetch_optional(&mut *self)
            .await
            .context("failed to lock a cash drawer session")?;
            let Some((session_id, opening_float_minor)) = locked else {
                return Err(BillingError::DrawerNotOpen(terminal_id.clone()));
            };
            Ok(LockedSession {
                session_id,
                opening_float_minor,
            })
        }

        async fn session_flows(&mut self, session_id: &str) -> anyhow::Result<SessionFlows> {
            let (cash_taken, change_given, payment_count): (i64, i64, i64) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(tendered_minor), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(change_minor), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
                 FROM payment_parts WHERE drawer_session_id = $1",
            )
            .bind(session_id)
            .fetch_one(&mut *self)
            .await
            .context("failed to sum a drawer's payments")?;
            let (cash_in, moved_out, movement_count): (i64, i64, i64) = sqlx::query_as(
                "SELECT \
                 CAST(COALESCE(SUM(CASE WHEN direction = 'in' THEN amount_minor ELSE 0 END), 0) \
                      AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN direction = 'out' THEN amount_minor ELSE 0 END), 0) \
                      AS BIGINT), \
                 CAST(COUNT(*) AS BIGINT) \
                 FROM cash_movements WHERE session_id = $1",
            )
            .bind(session_id)
            .fetch_one(&mut *self)
            .await
            .context("failed to sum a drawer's movements")?;
            let cash_refunded: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds \
                 WHERE drawer_session_id = $1",
            )
            .bind(session_id)
            .fetch_one(&mut *self)
            .await
            .context("failed to sum a drawer's refunds")?;
            Ok(SessionFlows {
                cash_taken,
                change_given,
                payment_count,
                cash_in,
                cash_out: moved_out + cash_refunded,
                movement_count,
                cash_refunded,
            })
        }

        async fn insert_count(
            &mut self,
            session_id: &str,
            stage: &str,
            count: &CashCount,
        ) -> anyhow::Result<()> {
            for (position, line) in count.lines().iter().enumerate() {
                sqlx::query(
                    "INSERT INTO cash_drawer_counts \
                     (session_id, stage, kind, value_minor, pieces, position) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(session_id)
                .bind(stage)
                .bind(line.denomination.kind.as_str())
                .bind(line.denomination.value.minor_units())
                .bind(i64::from(line.pieces))
                .bind(position as i64)
                .execute(&mut *self)
                .await
                .context("failed to store a cash count")?;
            }
            Ok(())
        }

        async fn ensure_terminal_free(
            &mut self,
            terminal_id: &TerminalId,
        ) -> Result<(), BillingError> {
            let unfinished: Option<String> = sqlx::query_scalar(
                "SELECT session_id FROM cash_drawer_sessions \
                 WHERE terminal_id = $1 AND status <> 'closed'",
            )
            .bind(terminal_id.as_str())
            .fetch_optional(&mut *self)
            .await
            .context("failed to look for an unfinished drawer session")?;
            if unfinished.is_some() {
                return Err(BillingError::DrawerAlreadyOpen(terminal_id.clone()));
            }
            Ok(())
        }

        async fn previous_closing(
            &mut self,
            terminal_id: &TerminalId,
            currency: Currency,
        ) -> anyhow::Result<Option<Money>> {
            let previous: Option<(Option<i64>, String)> = sqlx::query_as(
                "SELECT counted_minor, currency FROM cash_drawer_sessions \
                 WHERE terminal_id = $1 AND status = 'closed' \
                 ORDER BY closed_at DESC LIMIT 1",
            )
            .bind(terminal_id.as_str())
            .fetch_optional(&mut *self)
            .await
            .context("failed to read the previous closing count")?;
            match previous {
                None => Ok(None),
                Some((Some(counted), stored)) if stored == currency.code() => {
                    Ok(Some(Money::from_minor(counted, currency)))
                }
                Some(_) => Err(corrupt(
                    "counted_minor or currency",
                    &format!("the last session of terminal {terminal_id}"),
                )),
            }
        }

        async fn insert_session(
            &mut self,
            session_id: DrawerSessionId,
            open: &OpenDrawer,
            previous_closing: Option<Money>,
            opening_difference: Money,
            opened_by: &str,
            now: DateTime<Utc>,
        ) -> Result<(), BillingError> {
            let float = open.opening_count.total();
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
            .execute(&mut *self)
            .await;
            match inserted {
                // Another counter opened this terminal's drawer between the check and here.
                Err(error)
                    if clinic_common::db::is_unique_violation(&error, ONE_ACTIVE_PER_TERMINAL)
                        || clinic_common::db::is_unique_violation(
                            &error,
                            ONE_ACTIVE_PER_TERMINAL_SQLITE,
                        ) =>
                {
                    Err(BillingError::DrawerAlreadyOpen(open.terminal_id.clone()))
                }
                other => {
                    other.context("failed to insert a drawer session")?;
                    Ok(())
                }
            }
        }

        async fn insert_movement(
            &mut self,
            movement_id: CashMovementId,
            session_id: &str,
            new: &NewCashMovement,
            recorded_by: &str,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
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
            .execute(&mut *self)
            .await
            .context("failed to insert a cash movement")?;
            Ok(())
        }

        async fn record_close(&mut self, record: &CloseRecord<'_>) -> anyhow::Result<()> {
            let close = record.close;
            let flows = record.flows;
            sqlx::query(
                "UPDATE cash_drawer_sessions SET status = $2, counted_minor = $3, \
                 expected_minor = $4, cash_taken_minor = $5, change_given_minor = $6, \
                 cash_in_minor = $7, cash_out_minor = $8, difference_reason = $9, \
                 closed_by = $10, closed_at = $11 WHERE session_id = $1",
            )
            .bind(record.session_id)
            .bind(record.state.as_str())
            .bind(close.closing_count.total().minor_units())
            .bind(record.expected.minor_units())
            .bind(flows.cash_taken)
            .bind(flows.change_given)
            .bind(flows.cash_in)
            .bind(flows.cash_out)
            .bind(close.difference_reason.as_deref())
            .bind(record.closed_by)
            .bind(record.closed_at)
            .execute(&mut *self)
            .await
            .context("failed to close a drawer session")?;
            Ok(())
        }
    }
}

/// Why a float was refused against the terminal's last closing count.
fn opening_refused(mismatch: OpeningMismatch) -> BillingError {
    match mismatch {
        OpeningMismatch::ReasonRequired => FieldViolations::single(
            "opening_difference_reason",
            "is required: the float does not match the terminal's last closing count",
        )
        .into(),
        OpeningMismatch::Unexpected => anyhow::anyhow!("a float could not be compared").into(),
    }
}

/// Why a blind count was refused; a difference without a reason names the field but not the
/// amount, so the close stays blind.
fn close_refused(refusal: CloseRefusal) -> BillingError {
    match refusal {
        CloseRefusal::ReasonRequired => FieldViolations::single(
            "difference_reason",
            "is required: the count does not match the expected amount",
        )
        .into(),
        CloseRefusal::Overflow => anyhow::anyhow!("a drawer's totals overflowed").into(),
    }
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
        let key = IdempotencyKey::new(operation.as_str(), request_id, fingerprint);
        let Some(session_id) = self.db.earlier_result(&key).await? else {
            return Ok(None);
        };
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
        let key = IdempotencyKey::new(
            Operation::OpenCashDrawer.as_str(),
            &open.request_id,
            &fingerprint,
        );
        let session_id = retrying("a drawer opening", || {
            self.try_open_drawer(open, &key, opened_by, now)
        })
        .await?;
        self.existing_session(session_id).await
    }

    async fn try_open_drawer(
        &self,
        open: &OpenDrawer,
        key: &IdempotencyKey<'_>,
        opened_by: &str,
        now: DateTime<Utc>,
    ) -> Result<DrawerSessionId, Attempt<BillingError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(session_id) = tx.earlier_result(key).await? {
                return Ok(session_id);
            }
            let session_id = DrawerSessionId::new();
            tx.claim(key, &session_id.to_string(), now).await?;
            tx.ensure_terminal_free(&open.terminal_id).await?;
            let currency = open.opening_count.total().currency();
            let previous_closing = tx.previous_closing(&open.terminal_id, currency).await?;
            let opening_difference = open
                .opening_difference(previous_closing)
                .map_err(opening_refused)?;
            tx.insert_session(
                session_id,
                open,
                previous_closing,
                opening_difference,
                opened_by,
                now,
            )
            .await?;
            tx.insert_count(&session_id.to_string(), "opening", &open.opening_count)
                .await?;
            Ok(session_id)
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
        let key = IdempotencyKey::new(
            Operation::RecordCashMovement.as_str(),
            &new.request_id,
            &fingerprint,
        );
        let movement_id = retrying("a cash movement", || {
            self.try_record_cash_movement(new, &key, recorded_by, now)
        })
        .await?;
        self.cash_movement(movement_id).await?.ok_or_else(|| {
            anyhow::anyhow!("cash movement {movement_id} vanished after insert").into()
        })
    }

    async fn try_record_cash_movement(
        &self,
        new: &NewCashMovement,
        key: &IdempotencyKey<'_>,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<CashMovementId, Attempt<BillingError>> {
        in_transaction!(&self.db, |tx| {
            if let Some(movement_id) = tx.earlier_result(key).await? {
                return Ok(movement_id);
            }
            let movement_id = CashMovementId::new();
            tx.claim(key, &movement_id.to_string(), now).await?;
            let session = tx.lock_open_session(&new.terminal_id).await?;
            tx.insert_movement(movement_id, &session.session_id, new, recorded_by, now)
                .await?;
            Ok(movement_id)
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
        let key = IdempotencyKey::new(
            Operation::CloseCashDrawer.as_str(),
            &close.request_id,
            &fingerprint,
        );
        let session_id = retrying("a drawer close", || {
            self.try_close_drawer(close, &key, closed_by, difference_limit_minor, now)
        })
        .await?;
        self.existing_session(session_id).await
    }

    async fn try_close_drawer(
        &self,
        close: &CloseDrawer,
        key: &IdempotencyKey<'_>,
        closed_by: &str,
        difference_limit_minor: i64,
        now: DateTime<Utc>,
    ) -> Result<DrawerSessionId, Attempt<BillingError>> {
        let currency = close.closing_count.total().currency();
        in_transaction!(&self.db, |tx| {
            if let Some(session_id) = tx.earlier_result(key).await? {
                return Ok(session_id);
            }
            let session = tx.lock_open_session(&close.terminal_id).await?;
            tx.claim(key, &session.session_id, now).await?;
            // Every payment and movement that counted into the drawer holds (or held) its
            // row, so all of them have committed by now and this sum sees them.
            let flows = tx.session_flows(&session.session_id).await?;
            let totals = flows.totals(session.opening_float_minor, currency);
            let outcome = decide_close(
                &totals,
                close.closing_count.total(),
                close.difference_reason.is_some(),
                difference_limit_minor,
            )
            .map_err(close_refused)?;
            let record = CloseRecord {
                session_id: &session.session_id,
                close,
                state: outcome.state,
                expected: outcome.expected,
                flows: &flows,
                closed_by,
                closed_at: now,
            };
            tx.record_close(&record).await?;
            tx.insert_count(&session.session_id, "closing", &close.closing_count)
                .await?;
            let session_id = DrawerSessionId::parse(&session.session_id)
                .map_err(|_| corrupt("session_id", &session.session_id))?;
            Ok(session_id)
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
                let flows = connection.session_flows(id.as_str()).await?;
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

impl SessionRow {
    /// `flows` are the session's sums (see [`DrawerTx::session_flows`]).
    fn into_session(
        self,
        counts: Vec<CountRow>,
        flows: SessionFlows,
    ) -> anyhow::Result<DrawerSession> {
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
        let totals = flows.totals(self.opening_float_minor, currency);
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
