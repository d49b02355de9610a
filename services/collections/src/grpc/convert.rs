//! Domain ⇄ protobuf conversions for the collections service. Nothing past this module sees a
//! protobuf type.

use clinic_proto::collections::v1 as pb;
use clinic_proto::{date_to_proto, money_to_proto, timestamp_to_proto};

use crate::domain::{LedgerSyncStatus, Receivable};

pub fn receivable_to_proto(receivable: &Receivable) -> pb::ReceivableAccount {
    pb::ReceivableAccount {
        patient_id: receivable.patient_id.to_string(),
        patient_name: receivable.patient_name.clone().unwrap_or_default(),
        balance: Some(money_to_proto(receivable.balance)),
        oldest_open_charge_date: receivable.oldest_open_charge_date.map(date_to_proto),
        last_payment_time: receivable.last_payment_at.map(timestamp_to_proto),
        last_activity_time: receivable.last_activity_at.map(timestamp_to_proto),
    }
}

pub fn sync_status_to_proto(status: &LedgerSyncStatus) -> pb::LedgerSyncStatus {
    pb::LedgerSyncStatus {
        applied_sequence: status.applied_sequence,
        billing_head_sequence: status.billing_head_sequence,
        last_sync_time: status.last_sync_at.map(timestamp_to_proto),
    }
}
