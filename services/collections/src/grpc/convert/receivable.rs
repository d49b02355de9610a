//! Receivable accounts and how far they have followed billing's ledger.

use chrono::NaiveDate;
use clinic_proto::collections::v1 as pb;
use clinic_proto::{date_to_proto, money_to_proto, timestamp_to_proto};

use super::days_to_proto;
use crate::domain::{LedgerSyncStatus, Receivable};

/// `days_past_due`: as of `today`, with the clinic's payment terms.
pub fn receivable_to_proto(
    receivable: &Receivable,
    today: NaiveDate,
    payment_terms_days: u32,
) -> pb::ReceivableAccount {
    pb::ReceivableAccount {
        patient_id: receivable.patient_id.to_string(),
        patient_name: receivable.patient_name.clone().unwrap_or_default(),
        balance: Some(money_to_proto(receivable.balance)),
        oldest_open_charge_date: receivable.oldest_open_charge_date.map(date_to_proto),
        last_payment_time: receivable.last_payment_at.map(timestamp_to_proto),
        last_activity_time: receivable.last_activity_at.map(timestamp_to_proto),
        days_past_due: receivable
            .days_past_due(today, payment_terms_days)
            .map_or(0, days_to_proto),
    }
}

pub fn sync_status_to_proto(status: &LedgerSyncStatus) -> pb::LedgerSyncStatus {
    pb::LedgerSyncStatus {
        applied_sequence: status.applied_sequence,
        billing_head_sequence: status.billing_head_sequence,
        last_sync_time: status.last_sync_at.map(timestamp_to_proto),
    }
}
