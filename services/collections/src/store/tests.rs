//! The store on both backends, fed domain ledger entries directly: allocation as it is persisted,
//! exactly-once application, refused gaps, and the receivables list.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clinic_common::db::Database;
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money, with_db};
use clinic_test_support::{TestDatabase, backend_tests};

use super::{ContactToRecord, PageOutcome, PageStop, ReceivablesStore};
use crate::domain::{
    ApplyError, BillingIssue, Channel, CollectionsError, ContactKind, ContactProfile, ContactRule,
    ContactRules, Direction, EntryKind, LedgerEntry, NewContact, Notes, Outcome, Purpose,
    Receivable,
};

backend_tests!(
    payments_are_allocated_to_the_oldest_charges_first,
    a_credit_is_carried_forward_to_charges_in_later_pages,
    applying_the_same_page_again_changes_nothing,
    an_overlapping_page_applies_only_the_entries_after_the_cursor,
    a_gap_in_the_feed_is_refused_and_nothing_past_it_is_applied,
    an_entry_an_account_refuses_stops_the_page_before_it,
    a_page_that_fails_midway_leaves_nothing_applied,
    receivables_list_open_balances_largest_first_with_a_total_over_all_pages,
    the_sync_status_records_billing_s_head_and_when_it_last_answered,
    accounts_stay_unnamed_until_the_registry_answers,
    the_contact_log_is_append_only,
    concurrent_recordings_never_exceed_the_call_limit,
);

const MXN: Currency = Currency::MXN;

fn mxn(minor: i64) -> Money {
    Money::from_minor(minor, MXN)
}

fn day(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).expect("valid date")
}

fn now() -> DateTime<Utc> {
    "2026-11-22T18:00:00Z".parse().expect("valid instant")
}

async fn store(database: &TestDatabase) -> ReceivablesStore {
    let db = Database::connect(database.url()).await.expect("connects");
    super::migrate(&db).await.expect("migrates");
    ReceivablesStore::new(db, MXN)
}

/// Builds ledger entries with consecutive sequence numbers, as billing's feed would send them.
struct Feed {
    next_sequence: i64,
}

impl Feed {
    fn new() -> Self {
        Feed { next_sequence: 1 }
    }

    fn entry(
        &mut self,
        patient_id: PatientId,
        kind: EntryKind,
        minor: i64,
        service_day: u32,
    ) -> LedgerEntry {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        LedgerEntry {
            sequence,
            patient_id,
            kind,
            amount: mxn(minor),
            source_id: format!("source-{sequence}"),
            service_date: day(service_day),
            created_at: now() - TimeDelta::hours(100 - sequence),
            related_source_id: None,
        }
    }

    fn charge(&mut self, patient_id: PatientId, minor: i64, service_day: u32) -> LedgerEntry {
        self.entry(patient_id, EntryKind::Charge, minor, service_day)
    }

    fn payment(&mut self, patient_id: PatientId, minor: i64) -> LedgerEntry {
        self.entry(patient_id, EntryKind::Payment, -minor, 22)
    }
}

async fn apply(store: &ReceivablesStore, entries: &[LedgerEntry]) -> PageOutcome {
    let head = entries.last().map_or(0, |entry| entry.sequence);
    store
        .apply_page(entries, head, now())
        .await
        .expect("the page applies")
}

async fn receivables(store: &ReceivablesStore) -> Vec<Receivable> {
    store
        .list_receivables(100, 0)
        .await
        .expect("listed")
        .accounts
}

/// (charge sequence, remaining) of every stored charge.
async fn stored_charges(store: &ReceivablesStore) -> Vec<(i64, i64)> {
    with_db!(&store.db, |pool| {
        sqlx::query_as(
            "SELECT charge_sequence, remaining_minor FROM account_charges \
             ORDER BY charge_sequence",
        )
        .fetch_all(pool)
        .await
    })
    .expect("read")
}

async fn payments_are_allocated_to_the_oldest_charges_first(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let ana = PatientId::new();
    let mut feed = Feed::new();
    let page = [
        feed.charge(ana, 30_000, 5),
        feed.charge(ana, 50_000, 2),
        feed.charge(ana, 20_000, 9),
        feed.payment(ana, 60_000),
    ];

    // Act
    let outcome = apply(&store, &page).await;

    // Assert
    assert_eq!(outcome.applied, 4);
    assert_eq!(outcome.stopped, None);
    assert_eq!(
        stored_charges(&store).await,
        [(1, 20_000), (2, 0), (3, 20_000)],
        "the charge for the 2nd is paid, then the one for the 5th in part"
    );
    let listed = receivables(&store).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].balance, mxn(40_000));
    assert_eq!(listed[0].oldest_open_charge_date, Some(day(5)));
    assert_eq!(listed[0].last_payment_at, Some(page[3].created_at));
    assert_eq!(listed[0].last_activity_at, Some(page[3].created_at));

    // A later payment, in a page of its own, continues from what was stored.
    let next = [feed.payment(ana, 25_000)];
    apply(&store, &next).await;
    assert_eq!(stored_charges(&store).await, [(1, 0), (2, 0), (3, 15_000)]);
    let listed = receivables(&store).await;
    assert_eq!(listed[0].balance, mxn(15_000));
    assert_eq!(listed[0].oldest_open_charge_date, Some(day(9)));
}

async fn a_credit_is_carried_forward_to_charges_in_later_pages(database: TestDatabase) {
    // Arrange: an overpayment leaves the account in credit, so it owes nothing.
    let store = store(&database).await;
    let ana = PatientId::new();
    let mut feed = Feed::new();
    apply(
        &store,
        &[feed.charge(ana, 10_000, 3), feed.payment(ana, 15_000)],
    )
    .await;
    assert!(receivables(&store).await.is_empty());

    // Act: a smaller charge is covered by the credit, a larger one only in part.
    apply(&store, &[feed.charge(ana, 3_000, 10)]).await;
    let after_small = receivables(&store).await;
    apply(&store, &[feed.charge(ana, 4_000, 12)]).await;

    // Assert
    assert!(after_small.is_empty(), "the credit covered the charge");
    let listed = receivables(&store).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].balance, mxn(2_000));
    assert_eq!(listed[0].oldest_open_charge_date, Some(day(12)));
    assert_eq!(stored_charges(&store).await, [(1, 0), (3, 0), (4, 2_000)]);
}

async fn applying_the_same_page_again_changes_nothing(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let ana = PatientId::new();
    let mut feed = Feed::new();
    let page = [
        feed.charge(ana, 10_000, 3),
        feed.charge(ana, 5_000, 4),
        feed.payment(ana, 2_000),
    ];
    apply(&store, &page).await;
    let before = receivables(&store).await;

    // Act: the follower crashed after committing and re-reads the same page.
    let again = apply(&store, &page).await;

    // Assert
    assert_eq!(again.applied, 0);
    assert_eq!(again.applied_sequence, 3);
    assert_eq!(again.stopped, None);
    assert_eq!(receivables(&store).await, before);
    assert_eq!(before[0].balance, mxn(13_000));
}

async fn an_overlapping_page_applies_only_the_entries_after_the_cursor(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let ana = PatientId::new();
    let mut feed = Feed::new();
    let entries: Vec<LedgerEntry> = (0..5).map(|_| feed.charge(ana, 1_000, 1)).collect();
    apply(&store, &entries[..3]).await;

    // Act
    let outcome = apply(&store, &entries[1..]).await;

    // Assert
    assert_eq!(outcome.applied, 2);
    assert_eq!(outcome.applied_sequence, 5);
    assert_eq!(receivables(&store).await[0].balance, mxn(5_000));
}

async fn a_gap_in_the_feed_is_refused_and_nothing_past_it_is_applied(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let ana = PatientId::new();
    let mut feed = Feed::new();
    let entries: Vec<LedgerEntry> = (0..6).map(|_| feed.charge(ana, 1_000, 1)).collect();
    apply(&store, &entries[..2]).await;

    // Act: a page missing sequence 3, then one that has 3 but skips 5.
    let skipped_start = apply(&store, &entries[3..]).await;
    let skipped_middle = apply(&store, &[entries[2].clone(), entries[4].clone()]).await;

    // Assert
    assert_eq!(
        skipped_start,
        PageOutcome {
            applied: 0,
            applied_sequence: 2,
            stopped: Some(PageStop::Gap {
                expected: 3,
                found: 4
            }),
        }
    );
    assert_eq!(
        skipped_middle,
        PageOutcome {
            applied: 1,
            applied_sequence: 3,
            stopped: Some(PageStop::Gap {
                expected: 4,
                found: 5
            }),
        }
    );
    assert_eq!(receivables(&store).await[0].balance, mxn(3_000));
    let status = store.sync_status().await.expect("read");
    assert_eq!(status.applied_sequence, 3);
}

async fn an_entry_an_account_refuses_stops_the_page_before_it(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let ana = PatientId::new();
    let mut feed = Feed::new();
    let first = feed.charge(ana, 1_000, 1);
    let mut dollars = feed.charge(ana, 1_000, 1);
    dollars.amount = Money::from_minor(1_000, "USD".parse().expect("known"));
    let third = feed.charge(ana, 1_000, 1);

    // Act
    let outcome = apply(&store, &[first, dollars, third]).await;

    // Assert
    assert_eq!(outcome.applied, 1);
    assert_eq!(outcome.applied_sequence, 1);
    assert!(matches!(
        outcome.stopped,
        Some(PageStop::Refused(ApplyError::Currency { sequence: 2, .. }))
    ));
    assert_eq!(receivables(&store).await[0].balance, mxn(1_000));
    let luis = PatientId::new();
    let mut dollars_for_luis = feed.charge(luis, 1_000, 1);
    dollars_for_luis.sequence = 2;
    dollars_for_luis.amount = Money::from_minor(1_000, "USD".parse().expect("known"));
    apply(&store, &[dollars_for_luis]).await;
    assert_eq!(
        store.unnamed_accounts(10).await.expect("read"),
        [ana],
        "no account is opened for an entry that was refused"
    );
}

async fn a_page_that_fails_midway_leaves_nothing_applied(database: TestDatabase) {
    // Arrange: sabotage sequence 2 so that recording it fails inside the page's transaction.
    let store = store(&database).await;
    let ana = PatientId::new();
    let mut feed = Feed::new();
    let page = [
        feed.charge(ana, 1_000, 1),
        feed.charge(ana, 2_000, 2),
        feed.charge(ana, 3_000, 3),
    ];
    with_db!(&store.db, |pool| {
        sqlx::query(
            "INSERT INTO ledger_entries (sequence, patient_id, kind, amount_minor, source_id, \
             service_date, created_at, applied_at) VALUES (2, 'x', 'charge', 1, 'x', $1, $2, $2)",
        )
        .bind(day(1))
        .bind(now())
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })
    .expect("sabotaged");

    // Act
    let failed = store.apply_page(&page, 3, now()).await;

    // Assert
    assert!(failed.is_err());
    let status = store.sync_status().await.expect("read");
    assert_eq!(status.applied_sequence, 0);
    assert_eq!(status.last_sync_at, None, "not even the poll was recorded");
    assert!(receivables(&store).await.is_empty());
    assert!(stored_charges(&store).await.is_empty());
}

async fn receivables_list_open_balances_largest_first_with_a_total_over_all_pages(
    database: TestDatabase,
) {
    // Arrange: two equal balances, a larger one, one paid up and one in credit.
    let store = store(&database).await;
    let mut feed = Feed::new();
    let mut patients: Vec<PatientId> = (0..5).map(|_| PatientId::new()).collect();
    patients.sort();
    let [first_tied, second_tied, largest, paid_up, in_credit] = patients[..] else {
        unreachable!("five patients");
    };
    let page = [
        feed.charge(second_tied, 30_000, 1),
        feed.charge(first_tied, 30_000, 2),
        feed.charge(largest, 90_000, 3),
        feed.charge(paid_up, 10_000, 4),
        feed.payment(paid_up, 10_000),
        feed.payment(in_credit, 5_000),
    ];
    apply(&store, &page).await;

    // Act
    let first = store.list_receivables(2, 0).await.expect("listed");
    let second = store.list_receivables(2, 2).await.expect("listed");

    // Assert
    let ids = |page: &crate::domain::ReceivablesPage| -> Vec<PatientId> {
        page.accounts
            .iter()
            .map(|account| account.patient_id)
            .collect()
    };
    assert_eq!(ids(&first), [largest, first_tied]);
    assert_eq!(ids(&second), [second_tied]);
    assert_eq!(first.total_open, mxn(150_000));
    assert_eq!(second.total_open, mxn(150_000));
    assert_eq!(first.as_of_sequence, 6);
}

async fn the_sync_status_records_billing_s_head_and_when_it_last_answered(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let before = store.sync_status().await.expect("read");
    let mut feed = Feed::new();
    let page = [feed.charge(PatientId::new(), 1_000, 1)];

    // Act: billing has more than this page.
    store.apply_page(&page, 40, now()).await.expect("applied");
    let after = store.sync_status().await.expect("read");
    let later = now() + TimeDelta::seconds(5);
    store.apply_page(&[], 41, later).await.expect("applied");
    let after_empty_poll = store.sync_status().await.expect("read");

    // Assert
    assert_eq!(
        (
            before.applied_sequence,
            before.billing_head_sequence,
            before.last_sync_at
        ),
        (0, 0, None)
    );
    assert_eq!(
        (
            after.applied_sequence,
            after.billing_head_sequence,
            after.last_sync_at
        ),
        (1, 40, Some(now()))
    );
    assert_eq!(
        (
            after_empty_poll.applied_sequence,
            after_empty_poll.billing_head_sequence,
            after_empty_poll.last_sync_at
        ),
        (1, 41, Some(later))
    );
}

async fn accounts_stay_unnamed_until_the_registry_answers(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let mut feed = Feed::new();
    let (ana, luis) = (PatientId::new(), PatientId::new());
    apply(
        &store,
        &[feed.charge(ana, 2_000, 1), feed.charge(luis, 1_000, 1)],
    )
    .await;
    let mut unnamed = store.unnamed_accounts(10).await.expect("read");
    unnamed.sort();
    let mut both = vec![ana, luis];
    both.sort();
    assert_eq!(unnamed, both);

    // Act
    store
        .set_patient_name(ana, "Ana Ruiz")
        .await
        .expect("named");
    apply(&store, &[feed.payment(ana, 500)]).await;

    // Assert: a later entry does not forget the name.
    assert_eq!(store.unnamed_accounts(10).await.expect("read"), [luis]);
    let listed = receivables(&store).await;
    assert_eq!(listed[0].patient_name.as_deref(), Some("Ana Ruiz"));
    assert_eq!(listed[1].patient_name, None);
}

fn unanswered_call(patient_id: PatientId, request_id: &str) -> NewContact {
    NewContact {
        patient_id,
        channel: Channel::PhoneCall,
        direction: Direction::Outbound,
        kind: ContactKind::Attempt,
        purpose: Purpose::Outreach,
        outcome: Outcome::NoAnswer,
        notes: Notes::parse("sin respuesta").expect("short"),
        next_step: None,
        next_step_date: None,
        billing_issue: BillingIssue::NoIssue,
        request_id: clinic_common::ids::RequestId::parse(request_id).expect("valid"),
    }
}

fn reachable() -> ContactProfile {
    ContactProfile {
        time_zone: chrono_tz::America::Mexico_City,
        consent_sms: true,
        consent_whatsapp: true,
        consent_email: true,
        consent_phone_call: true,
        has_phone: true,
        has_email: true,
    }
}

async fn record(
    store: &ReceivablesStore,
    contact: &NewContact,
    rules: &ContactRules,
) -> Result<crate::domain::Contact, CollectionsError> {
    store
        .record_contact(&ContactToRecord {
            contact,
            profile: &reachable(),
            rules,
            recorded_by: "collections:tester",
            now: now(),
        })
        .await
}

async fn the_contact_log_is_append_only(database: TestDatabase) {
    // Arrange
    let store = store(&database).await;
    let rules = ContactRules::default();
    let recorded = record(&store, &unanswered_call(PatientId::new(), "call-1"), &rules)
        .await
        .expect("recorded");

    // Act
    let rewritten = with_db!(&store.db, |pool| {
        sqlx::query("UPDATE contacts SET notes = 'otra cosa' WHERE contact_id = $1")
            .bind(recorded.contact_id.as_str())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    });

    // Assert
    assert!(
        rewritten.is_err(),
        "the database refuses to rewrite history"
    );
    let log = store
        .list_contacts(recorded.patient_id, 10, 0)
        .await
        .expect("listed");
    assert_eq!(log, [recorded]);
}

async fn concurrent_recordings_never_exceed_the_call_limit(database: TestDatabase) {
    // Arrange: a limit of 3 calls, and 8 collectors calling at once.
    let store = store(&database).await;
    let rules = ContactRules {
        max_call_attempts: 3,
        ..ContactRules::default()
    };
    let patient_id = PatientId::new();

    // Act
    let mut calls = Vec::new();
    for caller in 0..8 {
        let store = store.clone();
        let contact = unanswered_call(patient_id, &format!("call-{caller}"));
        calls.push(tokio::spawn(async move {
            record(&store, &contact, &rules).await
        }));
    }
    let mut recorded = 0;
    let mut refused = 0;
    for call in calls {
        match call.await.expect("the task finishes") {
            Ok(_) => recorded += 1,
            Err(CollectionsError::ContactRefused(ContactRule::CallFrequency)) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    // Assert
    assert_eq!((recorded, refused), (3, 5));
    let log = store
        .list_contacts(patient_id, 10, 0)
        .await
        .expect("listed");
    assert_eq!(log.len(), 3);
}
