//! Billing's ledger entries, from protobuf into the domain. An entry that breaks the feed's
//! contract is reported, not guessed at: the follower stops before it.

use clinic_common::Currency;
use clinic_common::ids::PatientId;
use clinic_proto::billing::v1 as pb;
use clinic_proto::{date_from_proto, money_from_proto, timestamp_from_proto};

use crate::domain::{EntryKind, LedgerEntry};

/// A ledger entry collections cannot read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub sequence: i64,
    pub reason: String,
}

/// The entries of a page up to the first malformed one, and that one if there is one.
pub fn entries(
    page: Vec<pb::LedgerEntry>,
    currency: Currency,
) -> (Vec<LedgerEntry>, Option<Malformed>) {
    let mut entries = Vec::with_capacity(page.len());
    for entry in page {
        let sequence = entry.sequence;
        match ledger_entry(entry, currency) {
            Ok(entry) => entries.push(entry),
            Err(reason) => return (entries, Some(Malformed { sequence, reason })),
        }
    }
    (entries, None)
}

fn ledger_entry(entry: pb::LedgerEntry, currency: Currency) -> Result<LedgerEntry, String> {
    let patient_id = PatientId::parse(&entry.patient_id)
        .map_err(|_| "patient_id is not a patient id".to_owned())?;
    let amount = money_from_proto(entry.amount.as_ref(), currency)
        .map_err(|reason| format!("amount {reason}"))?;
    let kind = match pb::LedgerEntryKind::try_from(entry.kind) {
        Ok(pb::LedgerEntryKind::Charge) => EntryKind::Charge,
        Ok(pb::LedgerEntryKind::Payment) => EntryKind::Payment,
        Ok(pb::LedgerEntryKind::Refund) => EntryKind::Refund,
        Ok(pb::LedgerEntryKind::Adjustment) => EntryKind::Adjustment,
        Ok(pb::LedgerEntryKind::CreditNote) => EntryKind::CreditNote,
        Ok(pb::LedgerEntryKind::WriteOff) => EntryKind::WriteOff,
        Ok(pb::LedgerEntryKind::Unspecified) => return Err("kind is unspecified".into()),
        // A kind added to billing after this version: applied by the sign of its amount.
        Err(_) => EntryKind::Other,
    };
    let sign_matches = match kind {
        EntryKind::Charge | EntryKind::Refund => !amount.is_negative(),
        EntryKind::Payment | EntryKind::CreditNote | EntryKind::WriteOff => !amount.is_positive(),
        EntryKind::Adjustment | EntryKind::Other => true,
    };
    let related_source_id = Some(entry.related_source_id.clone()).filter(|id| !id.is_empty());
    if kind.corrects_a_charge() && related_source_id.is_none() {
        return Err(format!("a {} names no charge", kind.as_str()));
    }
    if !sign_matches {
        return Err(format!("amount has the wrong sign for a {}", kind.as_str()));
    }
    if entry.source_id.is_empty() {
        return Err("source_id is empty".into());
    }
    let service_date = date_from_proto(entry.service_date.as_ref())
        .map_err(|reason| format!("service_date {reason}"))?;
    let created_at = timestamp_from_proto(entry.create_time.as_ref())
        .map_err(|reason| format!("create_time {reason}"))?;
    Ok(LedgerEntry {
        sequence: entry.sequence,
        patient_id,
        kind,
        amount,
        source_id: entry.source_id,
        service_date,
        created_at,
        related_source_id,
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use clinic_common::Money;
    use clinic_proto::{date_to_proto, money_to_proto, timestamp_to_proto};

    use super::*;

    fn entry(sequence: i64, kind: pb::LedgerEntryKind, minor: i64) -> pb::LedgerEntry {
        pb::LedgerEntry {
            sequence,
            patient_id: PatientId::new().to_string(),
            kind: kind as i32,
            amount: Some(money_to_proto(Money::from_minor(minor, Currency::MXN))),
            source_id: format!("source-{sequence}"),
            service_date: Some(date_to_proto(
                NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid"),
            )),
            create_time: Some(timestamp_to_proto(
                "2026-11-20T17:00:00Z".parse().expect("valid"),
            )),
            ..Default::default()
        }
    }

    #[test]
    fn a_page_is_read_up_to_its_first_malformed_entry() {
        let mut unsigned = entry(2, pb::LedgerEntryKind::Payment, 500);
        unsigned.amount = Some(money_to_proto(Money::from_minor(500, Currency::MXN)));
        let page = vec![
            entry(1, pb::LedgerEntryKind::Charge, 1_000),
            unsigned,
            entry(3, pb::LedgerEntryKind::Charge, 1_000),
        ];

        let (entries, malformed) = entries(page, Currency::MXN);

        assert_eq!(entries.len(), 1);
        assert_eq!(
            malformed,
            Some(Malformed {
                sequence: 2,
                reason: "amount has the wrong sign for a payment".into()
            })
        );
    }

    #[test]
    fn entries_break_the_contract_when_a_field_is_missing_or_foreign() {
        let mut no_date = entry(1, pb::LedgerEntryKind::Charge, 1_000);
        no_date.service_date = None;
        let mut dollars = entry(1, pb::LedgerEntryKind::Charge, 1_000);
        dollars.amount = Some(money_to_proto(Money::from_minor(
            1_000,
            "USD".parse().expect("known"),
        )));
        let unspecified = entry(1, pb::LedgerEntryKind::Unspecified, 1_000);
        let mut nobody = entry(1, pb::LedgerEntryKind::Charge, 1_000);
        nobody.patient_id = "someone".into();

        for bad in [no_date, dollars, unspecified, nobody] {
            assert!(ledger_entry(bad, Currency::MXN).is_err());
        }
    }

    #[test]
    fn corrections_name_the_charge_they_correct() {
        let mut credit_note = entry(1, pb::LedgerEntryKind::CreditNote, -1_000);
        let without_charge = ledger_entry(credit_note.clone(), Currency::MXN);
        credit_note.related_source_id = "charge-7".into();

        let read = ledger_entry(credit_note, Currency::MXN).expect("readable");

        assert!(without_charge.is_err());
        assert_eq!(read.kind, EntryKind::CreditNote);
        assert_eq!(read.related_source_id.as_deref(), Some("charge-7"));
        assert!(
            ledger_entry(entry(2, pb::LedgerEntryKind::WriteOff, 500), Currency::MXN).is_err(),
            "a write-off takes off"
        );
    }

    #[test]
    fn kinds_this_version_does_not_know_are_applied_by_sign() {
        let mut future = entry(1, pb::LedgerEntryKind::Charge, 1_000);
        future.kind = 99;

        let read = ledger_entry(future, Currency::MXN).expect("readable");

        assert_eq!(read.kind, EntryKind::Other);
    }
}
