//! The cash drawer: a session per counter terminal, opened with a counted float, with cash put in
//! and taken out during the day, and closed from a blind count that is compared with what the
//! drawer should hold. Denominations come from a table per currency.

use clinic_common::auth::{Caller, Role};
use std::fmt;

use chrono::{DateTime, Utc};
use clinic_common::ids::{RequestId, request_fingerprint};
use clinic_common::{Currency, Money};
use uuid::Uuid;

/// At most this many pieces of one denomination in one count: a typo guard far above any drawer.
pub const MAX_PIECES: u32 = 100_000;

/// Longest accepted reason or note.
const MAX_TEXT: usize = 500;

/// A cash-drawer session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DrawerSessionId(Uuid);

impl DrawerSessionId {
    pub fn new() -> Self {
        DrawerSessionId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Uuid::parse_str(text.trim())
            .map(DrawerSessionId)
            .map_err(|_| "must be a cash-drawer session id (UUID)")
    }
}

impl fmt::Display for DrawerSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// As [`DrawerSessionId::parse`], so that an id kept as text (such as an idempotency key's
/// resource) reads back as one.
impl std::str::FromStr for DrawerSessionId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DrawerSessionId::parse(text)
    }
}

/// A cash movement (money put into or taken out of a drawer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CashMovementId(Uuid);

impl CashMovementId {
    pub fn new() -> Self {
        CashMovementId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Uuid::parse_str(text.trim())
            .map(CashMovementId)
            .map_err(|_| "must be a cash movement id (UUID)")
    }
}

impl fmt::Display for CashMovementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// As [`CashMovementId::parse`], so that an id kept as text (such as an idempotency key's
/// resource) reads back as one.
impl std::str::FromStr for CashMovementId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CashMovementId::parse(text)
    }
}

/// The counter terminal a drawer belongs to, e.g. `counter-1`: 1 to 32 letters, digits, `-`
/// or `_`, stored lower-cased so that `Counter-1` and `counter-1` are one drawer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TerminalId(String);

impl TerminalId {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let id = text.trim();
        if id.is_empty() {
            return Err("is required");
        }
        if id.len() > 32 {
            return Err("must be at most 32 characters");
        }
        if !id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        {
            return Err("may contain only letters, digits, '-' and '_'");
        }
        Ok(TerminalId(id.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TerminalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Paper or metal: the same face value can exist as both (the 20-peso note and coin), and they
/// are counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DenominationKind {
    Note,
    Coin,
}

impl DenominationKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            DenominationKind::Note => "note",
            DenominationKind::Coin => "coin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "note" => Some(DenominationKind::Note),
            "coin" => Some(DenominationKind::Coin),
            _ => None,
        }
    }
}

/// A note or coin of the clinic's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Denomination {
    pub kind: DenominationKind,
    pub value: Money,
}

/// Face values in minor units, notes then coins, largest first.
const MXN_NOTES: &[i64] = &[100_000, 50_000, 20_000, 10_000, 5_000, 2_000];
const MXN_COINS: &[i64] = &[2_000, 1_000, 500, 200, 100, 50];
const USD_NOTES: &[i64] = &[10_000, 5_000, 2_000, 1_000, 500, 200, 100];
const USD_COINS: &[i64] = &[100, 50, 25, 10, 5, 1];

/// The notes and coins a drawer in `currency` may hold, or `None` for a currency whose
/// denominations billing does not know (its drawers cannot be counted).
pub fn denominations(currency: Currency) -> Option<Vec<Denomination>> {
    let (notes, coins) = match currency.code() {
        "MXN" => (MXN_NOTES, MXN_COINS),
        "USD" => (USD_NOTES, USD_COINS),
        _ => return None,
    };
    let mut table = Vec::with_capacity(notes.len() + coins.len());
    for value in notes {
        table.push(Denomination {
            kind: DenominationKind::Note,
            value: Money::from_minor(*value, currency),
        });
    }
    for value in coins {
        table.push(Denomination {
            kind: DenominationKind::Coin,
            value: Money::from_minor(*value, currency),
        });
    }
    Some(table)
}

/// One line of a count: so many pieces of one denomination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountLine {
    pub denomination: Denomination,
    pub pieces: u32,
}

/// The cash in a drawer counted by denomination, each denomination at most once, in the
/// table's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashCount {
    lines: Vec<CountLine>,
    total: Money,
}

/// Why one line of a count was refused; the caller names the line's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountLineError {
    /// Not a note or coin of the currency.
    UnknownDenomination,
    /// The same denomination appears on an earlier line.
    Repeated,
    /// More than [`MAX_PIECES`].
    TooMany,
}

impl fmt::Display for CountLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountLineError::UnknownDenomination => {
                f.write_str("is not a note or coin of the clinic's currency")
            }
            CountLineError::Repeated => f.write_str("repeats a denomination counted above"),
            CountLineError::TooMany => write!(f, "must be at most {MAX_PIECES} pieces"),
        }
    }
}

impl CashCount {
    /// Builds a count from `(kind, face value, pieces)` lines, checking every line against
    /// `table`. Returns every bad line's index with its reason.
    pub fn from_lines(
        table: &[Denomination],
        lines: &[(DenominationKind, Money, u32)],
    ) -> Result<CashCount, Vec<(usize, CountLineError)>> {
        let mut errors = Vec::new();
        let mut counted: Vec<CountLine> = Vec::with_capacity(lines.len());
        for (index, (kind, value, pieces)) in lines.iter().enumerate() {
            let denomination = Denomination {
                kind: *kind,
                value: *value,
            };
            if !table.contains(&denomination) {
                errors.push((index, CountLineError::UnknownDenomination));
            } else if counted.iter().any(|line| line.denomination == denomination) {
                errors.push((index, CountLineError::Repeated));
            } else if *pieces > MAX_PIECES {
                errors.push((index, CountLineError::TooMany));
            } else {
                counted.push(CountLine {
                    denomination,
                    pieces: *pieces,
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // The table's order, so two counts of the same cash compare (and fingerprint) equal.
        counted.sort_by_key(|line| {
            table
                .iter()
                .position(|denomination| *denomination == line.denomination)
        });
        let currency = match table.first() {
            Some(denomination) => denomination.value.currency(),
            None => return Err(Vec::new()),
        };
        let mut total = Money::zero(currency);
        for line in &counted {
            // At most 12 lines of 100 000 pieces of at most 1000.00: far inside i64.
            let amount = line
                .denomination
                .value
                .checked_mul(i64::from(line.pieces))
                .map_err(|_| vec![(0, CountLineError::TooMany)])?;
            total = total
                .checked_add(amount)
                .map_err(|_| vec![(0, CountLineError::TooMany)])?;
        }
        Ok(CashCount {
            lines: counted,
            total,
        })
    }

    /// A count read back from storage, trusted to have been validated on the way in.
    pub fn from_stored(lines: Vec<CountLine>, currency: Currency) -> anyhow::Result<CashCount> {
        let mut total = Money::zero(currency);
        for line in &lines {
            total = total.checked_add(
                line.denomination
                    .value
                    .checked_mul(i64::from(line.pieces))?,
            )?;
        }
        Ok(CashCount { lines, total })
    }

    pub fn lines(&self) -> &[CountLine] {
        &self.lines
    }

    pub fn total(&self) -> Money {
        self.total
    }

    /// The count as text for fingerprints: `note:100000x3,coin:50x2`.
    fn fingerprint_part(&self) -> String {
        let mut parts = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            parts.push(format!(
                "{}:{}x{}",
                line.denomination.kind.as_str(),
                line.denomination.value.minor_units(),
                line.pieces
            ));
        }
        parts.join(",")
    }
}

/// A reason or note: trimmed, at most 500 characters, no control characters other than line
/// breaks; empty means none.
pub fn optional_reason(text: &str) -> Result<Option<String>, String> {
    clinic_common::validation::optional_text(text, MAX_TEXT)
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawerState {
    Open,
    /// Closed with a difference over the limit; a manager must approve it.
    PendingApproval,
    Closed,
}

impl DrawerState {
    pub fn as_str(&self) -> &'static str {
        match self {
            DrawerState::Open => "open",
            DrawerState::PendingApproval => "pending_approval",
            DrawerState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(DrawerState::Open),
            "pending_approval" => Some(DrawerState::PendingApproval),
            "closed" => Some(DrawerState::Closed),
            _ => None,
        }
    }
}

/// A request to open a terminal's drawer.
#[derive(Debug, Clone)]
pub struct OpenDrawer {
    pub terminal_id: TerminalId,
    pub opening_count: CashCount,
    pub difference_reason: Option<String>,
    pub request_id: RequestId,
}

impl OpenDrawer {
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            self.terminal_id.as_str(),
            &self.opening_count.fingerprint_part(),
            self.difference_reason.as_deref().unwrap_or_default(),
        ])
    }

    /// Checks the float against the terminal's previous closing count: a mismatch must carry a
    /// reason. Returns the difference to record (zero without a previous session).
    pub fn opening_difference(
        &self,
        previous_closing: Option<Money>,
    ) -> Result<Money, OpeningMismatch> {
        let float = self.opening_count.total();
        let Some(previous) = previous_closing else {
            return Ok(Money::zero(float.currency()));
        };
        let difference = float
            .checked_sub(previous)
            .map_err(|_| OpeningMismatch::Unexpected)?;
        if !difference.is_zero() && self.difference_reason.is_none() {
            return Err(OpeningMismatch::ReasonRequired);
        }
        Ok(difference)
    }
}

/// Why a float was refused against the previous close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpeningMismatch {
    /// The float differs from the previous closing count and no reason was given.
    ReasonRequired,
    /// The previous close is in another currency: stored data billing did not write.
    Unexpected,
}

/// Cash put into or taken out of the drawer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementDirection {
    In,
    Out,
}

impl MovementDirection {
    pub fn as_str(&self) -> &'static str {
        match self {
            MovementDirection::In => "in",
            MovementDirection::Out => "out",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "in" => Some(MovementDirection::In),
            "out" => Some(MovementDirection::Out),
            _ => None,
        }
    }
}

/// What a movement was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementCategory {
    PettyCash,
    Expenses,
    BankDeposit,
    ChangeFund,
    /// Needs a note saying what.
    Other,
}

impl MovementCategory {
    pub fn as_str(&self) -> &'static str {
        match self {
            MovementCategory::PettyCash => "petty_cash",
            MovementCategory::Expenses => "expenses",
            MovementCategory::BankDeposit => "bank_deposit",
            MovementCategory::ChangeFund => "change_fund",
            MovementCategory::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "petty_cash" => Some(MovementCategory::PettyCash),
            "expenses" => Some(MovementCategory::Expenses),
            "bank_deposit" => Some(MovementCategory::BankDeposit),
            "change_fund" => Some(MovementCategory::ChangeFund),
            "other" => Some(MovementCategory::Other),
            _ => None,
        }
    }
}

/// A request to record a cash movement on a terminal's open drawer.
#[derive(Debug, Clone)]
pub struct NewCashMovement {
    pub terminal_id: TerminalId,
    pub direction: MovementDirection,
    pub category: MovementCategory,
    /// Positive, in the clinic's currency.
    pub amount: Money,
    pub note: Option<String>,
    pub request_id: RequestId,
}

impl NewCashMovement {
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            self.terminal_id.as_str(),
            self.direction.as_str(),
            self.category.as_str(),
            &self.amount.minor_units().to_string(),
            self.amount.currency().code(),
            self.note.as_deref().unwrap_or_default(),
        ])
    }
}

/// A recorded cash movement.
#[derive(Debug, Clone, PartialEq)]
pub struct CashMovement {
    pub movement_id: CashMovementId,
    pub session_id: DrawerSessionId,
    pub terminal_id: TerminalId,
    pub direction: MovementDirection,
    pub category: MovementCategory,
    pub amount: Money,
    pub note: Option<String>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

/// A request to close a terminal's drawer from a blind count.
#[derive(Debug, Clone)]
pub struct CloseDrawer {
    pub terminal_id: TerminalId,
    pub closing_count: CashCount,
    pub difference_reason: Option<String>,
    pub request_id: RequestId,
}

impl CloseDrawer {
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            self.terminal_id.as_str(),
            &self.closing_count.fingerprint_part(),
            self.difference_reason.as_deref().unwrap_or_default(),
        ])
    }
}

/// The money through a session (the X report while open, the Z report once closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawerTotals {
    pub opening_float: Money,
    /// What patients handed over in cash.
    pub cash_taken: Money,
    pub change_given: Money,
    pub cash_in: Money,
    /// Cash taken out: movements out and cash refunded at the terminal.
    pub cash_out: Money,
    pub cash_payment_count: i64,
    pub cash_movement_count: i64,
    /// The part of `cash_out` that was refunded to patients.
    pub cash_refunded: Money,
}

impl DrawerTotals {
    /// What the drawer should hold: float + cash taken − change given + cash in − cash out.
    pub fn expected(&self) -> Result<Money, clinic_common::money::MoneyError> {
        self.opening_float
            .checked_add(self.cash_taken)?
            .checked_sub(self.change_given)?
            .checked_add(self.cash_in)?
            .checked_sub(self.cash_out)
    }
}

/// What a close decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseOutcome {
    pub expected: Money,
    /// counted − expected: negative when cash is missing.
    pub difference: Money,
    /// `Closed`, or `PendingApproval` when the difference is over the limit.
    pub state: DrawerState,
}

/// Why a close was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseRefusal {
    /// The count differs from the expected amount and no reason was given. Says nothing of the
    /// amount: the close stays blind.
    ReasonRequired,
    Overflow,
}

/// Decides a close: the difference between the blind count and the expected amount, whether it
/// needs a reason (any difference) and whether it needs a manager (a difference whose absolute
/// value is over `limit_minor`).
pub fn decide_close(
    totals: &DrawerTotals,
    counted: Money,
    has_reason: bool,
    limit_minor: i64,
) -> Result<CloseOutcome, CloseRefusal> {
    let expected = totals.expected().map_err(|_| CloseRefusal::Overflow)?;
    let difference = counted
        .checked_sub(expected)
        .map_err(|_| CloseRefusal::Overflow)?;
    if !difference.is_zero() && !has_reason {
        return Err(CloseRefusal::ReasonRequired);
    }
    let over_limit = difference.minor_units().unsigned_abs() > limit_minor.unsigned_abs();
    Ok(CloseOutcome {
        expected,
        difference,
        state: if over_limit {
            DrawerState::PendingApproval
        } else {
            DrawerState::Closed
        },
    })
}

/// The count and outcome of a close.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawerClosing {
    pub closing_count: CashCount,
    pub expected: Money,
    pub difference: Money,
    pub difference_reason: Option<String>,
    pub closed_by: String,
    pub closed_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

/// A drawer session with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawerSession {
    pub session_id: DrawerSessionId,
    pub terminal_id: TerminalId,
    pub state: DrawerState,
    pub opening_count: CashCount,
    pub previous_closing: Option<Money>,
    pub opening_difference: Money,
    pub opening_difference_reason: Option<String>,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub totals: DrawerTotals,
    /// Set once counted and closed (pending approval or closed).
    pub closing: Option<DrawerClosing>,
}

/// How much of a drawer a caller sees. The close is blind: whoever counts the cash (reception)
/// never sees what the drawer should hold, before the count or after it; a manager sees
/// everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawerView {
    Full,
    Blind,
}

impl DrawerView {
    pub fn for_caller(caller: &Caller) -> DrawerView {
        if caller.role == Role::Manager {
            DrawerView::Full
        } else {
            DrawerView::Blind
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    fn table() -> Vec<Denomination> {
        denominations(Currency::MXN).expect("MXN is known")
    }

    fn totals(float: i64, taken: i64, change: i64, cash_in: i64, cash_out: i64) -> DrawerTotals {
        DrawerTotals {
            opening_float: mxn(float),
            cash_taken: mxn(taken),
            change_given: mxn(change),
            cash_in: mxn(cash_in),
            cash_out: mxn(cash_out),
            cash_payment_count: 0,
            cash_movement_count: 0,
            cash_refunded: mxn(0),
        }
    }

    #[test]
    fn mxn_has_six_notes_and_six_coins_including_a_20_peso_note_and_coin() {
        let table = table();
        assert_eq!(table.len(), 12);
        assert!(table.contains(&Denomination {
            kind: DenominationKind::Note,
            value: mxn(2_000)
        }));
        assert!(table.contains(&Denomination {
            kind: DenominationKind::Coin,
            value: mxn(2_000)
        }));
        assert!(table.contains(&Denomination {
            kind: DenominationKind::Coin,
            value: mxn(50)
        }));
        assert!(denominations("JPY".parse().expect("known currency")).is_none());
    }

    #[test]
    fn a_count_totals_its_lines_in_table_order() {
        let count = CashCount::from_lines(
            &table(),
            &[
                (DenominationKind::Coin, mxn(50), 3),
                (DenominationKind::Note, mxn(50_000), 2),
                (DenominationKind::Coin, mxn(2_000), 1),
            ],
        )
        .expect("valid");
        assert_eq!(count.total(), mxn(100_000 + 2_000 + 150));
        assert_eq!(count.lines()[0].denomination.value, mxn(50_000));
        assert_eq!(count.lines()[2].denomination.value, mxn(50));
    }

    #[test]
    fn a_count_names_every_unknown_repeated_or_excessive_line() {
        let errors = CashCount::from_lines(
            &table(),
            &[
                (DenominationKind::Note, mxn(30_000), 1),
                (DenominationKind::Coin, mxn(100), 1),
                (DenominationKind::Coin, mxn(100), 2),
                (DenominationKind::Note, mxn(2_000), MAX_PIECES + 1),
            ],
        )
        .expect_err("invalid");
        assert_eq!(
            errors,
            vec![
                (0, CountLineError::UnknownDenomination),
                (2, CountLineError::Repeated),
                (3, CountLineError::TooMany),
            ]
        );
    }

    #[test]
    fn expected_is_float_plus_taken_minus_change_plus_in_minus_out() {
        let totals = totals(100_000, 150_000, 20_000, 5_000, 30_000);
        assert_eq!(totals.expected(), Ok(mxn(205_000)));
    }

    #[test]
    fn a_matching_count_closes_without_a_reason() {
        let outcome =
            decide_close(&totals(100_000, 0, 0, 0, 0), mxn(100_000), false, 5_000).expect("closes");
        assert_eq!(outcome.difference, mxn(0));
        assert_eq!(outcome.state, DrawerState::Closed);
    }

    #[test]
    fn any_difference_needs_a_reason_and_only_one_over_the_limit_needs_a_manager() {
        let totals = totals(100_000, 0, 0, 0, 0);
        assert_eq!(
            decide_close(&totals, mxn(99_999), false, 5_000),
            Err(CloseRefusal::ReasonRequired)
        );
        let at_limit = decide_close(&totals, mxn(95_000), true, 5_000).expect("closes");
        assert_eq!(at_limit.difference, mxn(-5_000));
        assert_eq!(at_limit.state, DrawerState::Closed);
        let over = decide_close(&totals, mxn(105_001), true, 5_000).expect("closes");
        assert_eq!(over.difference, mxn(5_001));
        assert_eq!(over.state, DrawerState::PendingApproval);
    }

    #[test]
    fn a_float_differing_from_the_previous_close_needs_a_reason() {
        let count = CashCount::from_lines(&table(), &[(DenominationKind::Note, mxn(50_000), 2)])
            .expect("valid");
        let mut open = OpenDrawer {
            terminal_id: TerminalId::parse("counter-1").expect("valid"),
            opening_count: count,
            difference_reason: None,
            request_id: RequestId::parse("open-1").expect("valid"),
        };
        assert_eq!(open.opening_difference(None), Ok(mxn(0)));
        assert_eq!(open.opening_difference(Some(mxn(100_000))), Ok(mxn(0)));
        assert_eq!(
            open.opening_difference(Some(mxn(90_000))),
            Err(OpeningMismatch::ReasonRequired)
        );
        open.difference_reason = Some("change fund topped up".into());
        assert_eq!(open.opening_difference(Some(mxn(90_000))), Ok(mxn(10_000)));
    }

    #[test]
    fn terminal_ids_are_short_lower_cased_names() {
        assert_eq!(
            TerminalId::parse(" Counter-1 ").map(|id| id.to_string()),
            Ok("counter-1".to_owned())
        );
        assert!(TerminalId::parse("").is_err());
        assert!(TerminalId::parse("counter 1").is_err());
        assert!(TerminalId::parse(&"c".repeat(33)).is_err());
    }
}
