//! Cash drawers: counts by denomination, opening, cash movements, closing and which session a
//! request names, and sessions and movements on the wire.

use clinic_common::Currency;
use clinic_common::ids::RequestId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{money_from_proto, money_to_proto};

use super::Reading;
use crate::domain::{
    CashCount, CashMovement, CloseDrawer, CountLineError, DenominationKind, DrawerSession,
    DrawerSessionId, DrawerState, DrawerView, MovementCategory, MovementDirection, NewCashMovement,
    OpenDrawer, TerminalId, denominations, optional_reason,
};

/// A count by denomination under `field` (`opening_count` or `closing_count`), each line checked
/// against the currency's table; every bad line is named by its index.
fn cash_count(
    field: &str,
    lines: &[pb::DenominationCount],
    currency: Currency,
    violations: &mut FieldViolations,
) -> Option<CashCount> {
    let Some(table) = denominations(currency) else {
        violations.add(
            field,
            format!("cannot be taken: no denominations are known for {currency}"),
        );
        return None;
    };
    // Lines that parse are checked against the table even when others do not, so every bad
    // line is named at once; `indices` maps them back to their place in the request.
    let mut parsed = Vec::with_capacity(lines.len());
    let mut indices = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let kind = match pb::DenominationKind::try_from(line.kind) {
            Ok(pb::DenominationKind::Note) => Some(DenominationKind::Note),
            Ok(pb::DenominationKind::Coin) => Some(DenominationKind::Coin),
            Ok(pb::DenominationKind::Unspecified) | Err(_) => {
                violations.add(
                    format!("{field}[{index}].kind"),
                    "is required: note or coin",
                );
                None
            }
        };
        let value = violations.check(
            &format!("{field}[{index}].value"),
            money_from_proto(line.value.as_ref(), currency),
        );
        let pieces = violations.check(
            &format!("{field}[{index}].count"),
            u32::try_from(line.count).map_err(|_| "must not be negative"),
        );
        if let (Some(kind), Some(value), Some(pieces)) = (kind, value, pieces) {
            parsed.push((kind, value, pieces));
            indices.push(index);
        }
    }
    let count = match CashCount::from_lines(&table, &parsed) {
        Ok(count) => count,
        Err(errors) => {
            for (position, error) in errors {
                let index = indices.get(position).copied().unwrap_or(position);
                let path = match error {
                    CountLineError::UnknownDenomination => format!("{field}[{index}].value"),
                    CountLineError::Repeated => format!("{field}[{index}]"),
                    CountLineError::TooMany => format!("{field}[{index}].count"),
                };
                violations.add(path, error.to_string());
            }
            return None;
        }
    };
    (indices.len() == lines.len()).then_some(count)
}

pub fn terminal_id(text: &str) -> Result<TerminalId, &'static str> {
    TerminalId::parse(text)
}

pub fn open_drawer(
    request: pb::OpenCashDrawerRequest,
    reading: &Reading,
) -> Result<OpenDrawer, FieldViolations> {
    let mut violations = FieldViolations::new();
    let terminal_id = violations.check("terminal_id", terminal_id(&request.terminal_id));
    let opening_count = cash_count(
        "opening_count",
        &request.opening_count,
        reading.currency,
        &mut violations,
    );
    let reason = violations.check(
        "opening_difference_reason",
        optional_reason(&request.opening_difference_reason),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (terminal_id, opening_count, reason, request_id) {
        (Some(terminal_id), Some(opening_count), Some(difference_reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(OpenDrawer {
                terminal_id,
                opening_count,
                difference_reason,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

pub fn new_cash_movement(
    request: pb::RecordCashMovementRequest,
    reading: &Reading,
) -> Result<NewCashMovement, FieldViolations> {
    let mut violations = FieldViolations::new();
    let terminal_id = violations.check("terminal_id", terminal_id(&request.terminal_id));
    let direction = match pb::CashMovementDirection::try_from(request.direction) {
        Ok(pb::CashMovementDirection::In) => Some(MovementDirection::In),
        Ok(pb::CashMovementDirection::Out) => Some(MovementDirection::Out),
        Ok(pb::CashMovementDirection::Unspecified) | Err(_) => {
            violations.add("direction", "is required: in or out");
            None
        }
    };
    let category = match pb::CashMovementCategory::try_from(request.category) {
        Ok(pb::CashMovementCategory::PettyCash) => Some(MovementCategory::PettyCash),
        Ok(pb::CashMovementCategory::Expenses) => Some(MovementCategory::Expenses),
        Ok(pb::CashMovementCategory::BankDeposit) => Some(MovementCategory::BankDeposit),
        Ok(pb::CashMovementCategory::ChangeFund) => Some(MovementCategory::ChangeFund),
        Ok(pb::CashMovementCategory::Other) => Some(MovementCategory::Other),
        Ok(pb::CashMovementCategory::Unspecified) | Err(_) => {
            violations.add(
                "category",
                "is required: petty cash, expenses, bank deposit, change fund or other",
            );
            None
        }
    };
    let amount = violations.check(
        "amount",
        money_from_proto(request.amount.as_ref(), reading.currency).and_then(|amount| {
            if amount.is_positive() {
                Ok(amount)
            } else {
                Err("must be positive".to_owned())
            }
        }),
    );
    let note = violations.check("note", optional_reason(&request.note));
    if category == Some(MovementCategory::Other) && matches!(note, Some(None)) {
        violations.add("note", "is required for the category other");
    }
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (terminal_id, direction, category, amount, note, request_id) {
        (
            Some(terminal_id),
            Some(direction),
            Some(category),
            Some(amount),
            Some(note),
            Some(request_id),
        ) if violations.is_empty() => Ok(NewCashMovement {
            terminal_id,
            direction,
            category,
            amount,
            note,
            request_id,
        }),
        _ => Err(violations),
    }
}

pub fn close_drawer(
    request: pb::CloseCashDrawerRequest,
    reading: &Reading,
) -> Result<CloseDrawer, FieldViolations> {
    let mut violations = FieldViolations::new();
    let terminal_id = violations.check("terminal_id", terminal_id(&request.terminal_id));
    let closing_count = cash_count(
        "closing_count",
        &request.closing_count,
        reading.currency,
        &mut violations,
    );
    let reason = violations.check(
        "difference_reason",
        optional_reason(&request.difference_reason),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (terminal_id, closing_count, reason, request_id) {
        (Some(terminal_id), Some(closing_count), Some(difference_reason), Some(request_id))
            if violations.is_empty() =>
        {
            Ok(CloseDrawer {
                terminal_id,
                closing_count,
                difference_reason,
                request_id,
            })
        }
        _ => Err(violations),
    }
}

/// Which session a `GetCashDrawer` asks for.
pub enum DrawerQuery {
    Session(DrawerSessionId),
    Terminal(TerminalId),
}

pub fn drawer_query(request: &pb::GetCashDrawerRequest) -> Result<DrawerQuery, FieldViolations> {
    let by_session = !request.session_id.trim().is_empty();
    let by_terminal = !request.terminal_id.trim().is_empty();
    match (by_session, by_terminal) {
        (true, false) => DrawerSessionId::parse(&request.session_id)
            .map(DrawerQuery::Session)
            .map_err(|error| FieldViolations::single("session_id", error)),
        (false, true) => TerminalId::parse(&request.terminal_id)
            .map(DrawerQuery::Terminal)
            .map_err(|error| FieldViolations::single("terminal_id", error)),
        _ => {
            let mut violations = FieldViolations::new();
            violations.add(
                "session_id",
                "exactly one of session_id or terminal_id is required",
            );
            violations.add(
                "terminal_id",
                "exactly one of session_id or terminal_id is required",
            );
            Err(violations)
        }
    }
}

pub fn session_id(text: &str) -> Result<DrawerSessionId, &'static str> {
    DrawerSessionId::parse(text)
}

fn count_to_proto(count: &CashCount) -> Vec<pb::DenominationCount> {
    let mut lines = Vec::with_capacity(count.lines().len());
    for line in count.lines() {
        let kind = match line.denomination.kind {
            DenominationKind::Note => pb::DenominationKind::Note,
            DenominationKind::Coin => pb::DenominationKind::Coin,
        };
        lines.push(pb::DenominationCount {
            kind: kind.into(),
            value: Some(money_to_proto(line.denomination.value)),
            // Counts are at most MAX_PIECES, far below i32::MAX.
            count: i32::try_from(line.pieces).unwrap_or(i32::MAX),
        });
    }
    lines
}

pub(super) fn drawer_state_to_proto(state: DrawerState) -> pb::CashDrawerState {
    match state {
        DrawerState::Open => pb::CashDrawerState::Open,
        DrawerState::PendingApproval => pb::CashDrawerState::PendingApproval,
        DrawerState::Closed => pb::CashDrawerState::Closed,
    }
}

/// `session` as `view` shows it: blind, without the expected amount, the figures it is made
/// of that the counter does not record itself (cash taken, change given, cash refunded), or
/// the difference.
pub fn drawer_session_to_proto(
    session: &DrawerSession,
    view: DrawerView,
) -> anyhow::Result<pb::CashDrawerSession> {
    let mut proto = full_drawer_session(session)?;
    if view == DrawerView::Blind {
        if let Some(report) = proto.report.as_mut() {
            report.expected = None;
            report.cash_taken = None;
            report.change_given = None;
            report.cash_refunded = None;
        }
        proto.difference = None;
    }
    Ok(proto)
}

fn full_drawer_session(session: &DrawerSession) -> anyhow::Result<pb::CashDrawerSession> {
    let state = drawer_state_to_proto(session.state);
    let totals = &session.totals;
    let report = pb::CashDrawerReport {
        opening_float: Some(money_to_proto(totals.opening_float)),
        cash_taken: Some(money_to_proto(totals.cash_taken)),
        change_given: Some(money_to_proto(totals.change_given)),
        cash_in: Some(money_to_proto(totals.cash_in)),
        cash_out: Some(money_to_proto(totals.cash_out)),
        expected: Some(money_to_proto(totals.expected()?)),
        cash_payment_count: i32::try_from(totals.cash_payment_count)?,
        cash_movement_count: i32::try_from(totals.cash_movement_count)?,
        cash_refunded: Some(money_to_proto(totals.cash_refunded)),
    };
    let mut proto = pb::CashDrawerSession {
        session_id: session.session_id.to_string(),
        terminal_id: session.terminal_id.to_string(),
        state: state.into(),
        opening_count: count_to_proto(&session.opening_count),
        opening_float: Some(money_to_proto(session.opening_count.total())),
        previous_closing_count: session.previous_closing.map(money_to_proto),
        opening_difference: Some(money_to_proto(session.opening_difference)),
        opening_difference_reason: session
            .opening_difference_reason
            .clone()
            .unwrap_or_default(),
        opened_by: session.opened_by.clone(),
        open_time: Some(timestamp_to_proto(session.opened_at)),
        report: Some(report),
        ..Default::default()
    };
    if let Some(closing) = &session.closing {
        // The Z report is as of the close: its expected figure is the one the close decided on.
        if let Some(report) = proto.report.as_mut() {
            report.expected = Some(money_to_proto(closing.expected));
        }
        proto.closing_count = count_to_proto(&closing.closing_count);
        proto.counted = Some(money_to_proto(closing.closing_count.total()));
        proto.difference = Some(money_to_proto(closing.difference));
        proto.difference_reason = closing.difference_reason.clone().unwrap_or_default();
        proto.closed_by = closing.closed_by.clone();
        proto.close_time = Some(timestamp_to_proto(closing.closed_at));
        proto.approved_by = closing.approved_by.clone().unwrap_or_default();
        proto.approve_time = closing.approved_at.map(timestamp_to_proto);
    }
    Ok(proto)
}

pub fn cash_movement_to_proto(movement: &CashMovement) -> pb::CashMovement {
    let direction = match movement.direction {
        MovementDirection::In => pb::CashMovementDirection::In,
        MovementDirection::Out => pb::CashMovementDirection::Out,
    };
    let category = match movement.category {
        MovementCategory::PettyCash => pb::CashMovementCategory::PettyCash,
        MovementCategory::Expenses => pb::CashMovementCategory::Expenses,
        MovementCategory::BankDeposit => pb::CashMovementCategory::BankDeposit,
        MovementCategory::ChangeFund => pb::CashMovementCategory::ChangeFund,
        MovementCategory::Other => pb::CashMovementCategory::Other,
    };
    pb::CashMovement {
        movement_id: movement.movement_id.to_string(),
        session_id: movement.session_id.to_string(),
        terminal_id: movement.terminal_id.to_string(),
        direction: direction.into(),
        category: category.into(),
        amount: Some(money_to_proto(movement.amount)),
        note: movement.note.clone().unwrap_or_default(),
        recorded_by: movement.recorded_by.clone(),
        create_time: Some(timestamp_to_proto(movement.created_at)),
    }
}
