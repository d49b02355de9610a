//! The ledger: a balance request, the change feed's cursor, and balances and ledger entries on the
//! wire.

use clinic_common::ids::PatientId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_to_proto, money_to_proto};

use super::{Channel, identity, patient_id};
use crate::domain::{
    AccountBalance, CorrectionKind, IdentityEvidence, LedgerEntry, LedgerEntryKind, LedgerPage,
    ledger_page_size,
};

/// The patient of a balance request, and the identity evidence given with it.
pub fn balance_request(
    request: &pb::GetAccountBalanceRequest,
    channel: Channel,
) -> Result<(PatientId, Option<IdentityEvidence>), FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check("patient_id", patient_id(&request.patient_id));
    let identity = identity(request.identity.as_ref(), channel, &mut violations);
    match (patient_id, identity) {
        (Some(patient_id), Some(identity)) if violations.is_empty() => Ok((patient_id, identity)),
        _ => Err(violations),
    }
}

pub fn account_balance_to_proto(account: &AccountBalance) -> anyhow::Result<pb::AccountBalance> {
    Ok(pb::AccountBalance {
        patient_id: account.patient_id.to_string(),
        balance: Some(money_to_proto(account.balance()?)),
        total_charged: Some(money_to_proto(account.total_charged)),
        total_paid: Some(money_to_proto(account.total_paid)),
        as_of_sequence: account.as_of_sequence,
        total_corrections: Some(money_to_proto(account.total_corrections)),
        outstanding: Some(money_to_proto(account.outstanding()?)),
        advance: Some(money_to_proto(account.advance()?)),
    })
}

/// The cursor and page size of a feed request.
pub fn ledger_query(request: &pb::ListLedgerEntriesRequest) -> Result<(i64, u32), FieldViolations> {
    let mut violations = FieldViolations::new();
    violations.require(
        request.after_sequence >= 0,
        "after_sequence",
        "must not be negative",
    );
    let page_size = violations.check("page_size", ledger_page_size(request.page_size));
    match page_size {
        Some(page_size) if violations.is_empty() => Ok((request.after_sequence, page_size)),
        _ => Err(violations),
    }
}

pub(super) fn ledger_kind_to_proto(kind: LedgerEntryKind) -> pb::LedgerEntryKind {
    match kind {
        LedgerEntryKind::Charge => pb::LedgerEntryKind::Charge,
        LedgerEntryKind::Payment => pb::LedgerEntryKind::Payment,
        LedgerEntryKind::Refund => pb::LedgerEntryKind::Refund,
        LedgerEntryKind::Correction(CorrectionKind::Adjustment) => pb::LedgerEntryKind::Adjustment,
        LedgerEntryKind::Correction(CorrectionKind::CreditNote) => pb::LedgerEntryKind::CreditNote,
        LedgerEntryKind::Correction(CorrectionKind::WriteOff) => pb::LedgerEntryKind::WriteOff,
    }
}

fn ledger_entry_to_proto(entry: &LedgerEntry) -> pb::LedgerEntry {
    pb::LedgerEntry {
        sequence: entry.sequence,
        patient_id: entry.patient_id.to_string(),
        kind: ledger_kind_to_proto(entry.source.kind()).into(),
        amount: Some(money_to_proto(entry.amount)),
        source_id: entry.source.id(),
        service_date: Some(date_to_proto(entry.service_date)),
        create_time: Some(timestamp_to_proto(entry.created_at)),
        related_source_id: entry.source.related_id().unwrap_or_default(),
    }
}

pub fn ledger_page_to_proto(page: &LedgerPage) -> pb::ListLedgerEntriesResponse {
    pb::ListLedgerEntriesResponse {
        entries: page.entries.iter().map(ledger_entry_to_proto).collect(),
        last_sequence: page.last_sequence,
        head_sequence: page.head_sequence,
    }
}
