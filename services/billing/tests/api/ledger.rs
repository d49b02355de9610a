//! The ledger feed and balances: gap-free under concurrent writers, paged in order.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use clinic_common::auth::Role;
use clinic_common::ids::PatientId;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, balance, cash, charge, mxn, whole_ledger};

backend_tests!(
    concurrent_writers_leave_a_gap_free_feed_that_pages_in_order,
    the_feed_resumes_after_a_cursor_with_signed_amounts,
    the_feed_refuses_a_negative_cursor_and_caps_the_page_size,
    a_patient_billing_has_never_seen_has_a_zero_balance,
);

/// Follows the feed seven entries at a time, as collections does, until it has read `until`
/// entries, checking that every page continues exactly where the last one ended.
async fn follow_feed(mut client: Client, until: usize) -> Vec<pb::LedgerEntry> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut entries: Vec<pb::LedgerEntry> = Vec::new();
    let mut cursor = 0;
    while entries.len() < until {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the follower saw only {} entries",
            entries.len()
        );
        let page = client
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                after_sequence: cursor,
                page_size: 7,
            })
            .await
            .expect("a page is read")
            .into_inner();
        assert!(page.entries.len() <= 7);
        assert!(page.head_sequence >= page.last_sequence);
        for (offset, entry) in page.entries.iter().enumerate() {
            assert_eq!(
                entry.sequence,
                cursor + 1 + offset as i64,
                "the page continues the feed without a gap"
            );
        }
        if page.entries.is_empty() {
            assert_eq!(page.last_sequence, cursor, "an empty page keeps the cursor");
            tokio::time::sleep(Duration::from_millis(5)).await;
        } else {
            assert_eq!(
                page.last_sequence,
                page.entries.last().expect("not empty").sequence
            );
        }
        cursor = page.last_sequence;
        entries.extend(page.entries);
    }
    entries
}

async fn concurrent_writers_leave_a_gap_free_feed_that_pages_in_order(database: TestDatabase) {
    // Arrange: four patients, one consultation price, and a follower reading the feed while it
    // is being written.
    let clinic = TestClinic::start(database).await;
    let mut patients = Vec::new();
    for _ in 0..4 {
        patients.push(clinic.register_patient().await);
    }
    clinic.add_item("CONS-01", 50_000).await;
    let reception = clinic.client(Role::Reception).await;
    let follower = tokio::spawn(follow_feed(clinic.client(Role::Service).await, 40));

    // Act: 40 charges and payments at once, spread over the patients.
    let mut calls = Vec::new();
    for index in 0..40 {
        let mut client = reception.clone();
        // Each patient gets five charges and five payments.
        let patient_id = patients[(index / 2) % patients.len()].clone();
        let request_id = format!("concurrent-{index}");
        calls.push(tokio::spawn(async move {
            if index % 2 == 0 {
                client
                    .post_charge(charge(&patient_id, "CONS-01", &request_id))
                    .await
                    .map(|charge| charge.into_inner().charge_id)
            } else {
                client
                    .post_payment(cash(&patient_id, 20_000, 20_000, &request_id))
                    .await
                    .map(|payment| payment.into_inner().payment_id)
            }
        }));
    }
    let mut posted = BTreeSet::new();
    for call in calls {
        posted.insert(
            call.await
                .expect("the call task ran")
                .expect("every write succeeds"),
        );
    }
    let followed = follower.await.expect("the follower kept up");
    let after_the_end = clinic
        .client(Role::Service)
        .await
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            after_sequence: 40,
            page_size: 7,
        })
        .await
        .expect("read")
        .into_inner();

    // Assert: sequences 1..=40, each charge and payment exactly once, nothing after.
    let sequences: Vec<i64> = followed.iter().map(|entry| entry.sequence).collect();
    assert_eq!(sequences, (1..=40).collect::<Vec<i64>>());
    let sources: BTreeSet<String> = followed
        .iter()
        .map(|entry| entry.source_id.clone())
        .collect();
    assert_eq!(sources.len(), 40, "no source appears twice");
    assert_eq!(sources, posted);
    assert!(after_the_end.entries.is_empty());
    assert_eq!(
        (after_the_end.last_sequence, after_the_end.head_sequence),
        (40, 40)
    );

    // And every balance is the sum of that patient's entries.
    let mut sums: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for entry in &followed {
        let sum = sums.entry(entry.patient_id.as_str()).or_default();
        sum.0 += entry.amount.as_ref().expect("an amount").minor_units;
        sum.1 = sum.1.max(entry.sequence);
    }
    let mut reception = reception.clone();
    for patient_id in &patients {
        let account = balance(&mut reception, patient_id).await;
        let (sum, last_sequence) = sums[patient_id.as_str()];
        assert_eq!(account.balance, Some(mxn(sum)));
        assert_eq!(sum, 5 * 50_000 - 5 * 20_000);
        assert_eq!(account.as_of_sequence, last_sequence);
    }
}

async fn the_feed_resumes_after_a_cursor_with_signed_amounts(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("CONS-01", 50_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let first = reception
        .post_charge(charge(&patient_id, "CONS-01", "feed-1"))
        .await
        .expect("charged")
        .into_inner();
    let payment = reception
        .post_payment(cash(&patient_id, 20_000, 20_000, "feed-2"))
        .await
        .expect("paid")
        .into_inner();
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let everything = manager
        .list_ledger_entries(pb::ListLedgerEntriesRequest::default())
        .await
        .expect("read")
        .into_inner();
    let after_first = manager
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            after_sequence: 1,
            page_size: 0,
        })
        .await
        .expect("read")
        .into_inner();
    let past_the_head = manager
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            after_sequence: 99,
            page_size: 10,
        })
        .await
        .expect("read")
        .into_inner();

    // Assert
    assert_eq!(everything.entries.len(), 2);
    assert_eq!(everything.entries[0].source_id, first.charge_id);
    assert_eq!(everything.entries[0].amount, Some(mxn(50_000)));
    assert_eq!(everything.entries[0].patient_id, patient_id);
    assert_eq!(everything.entries[1].kind(), pb::LedgerEntryKind::Payment);
    assert_eq!(everything.entries[1].amount, Some(mxn(-20_000)));
    assert_eq!(everything.entries[1].create_time, payment.create_time);
    assert_eq!(everything.entries[1].service_date, first.service_date);
    assert_eq!((everything.last_sequence, everything.head_sequence), (2, 2));
    assert_eq!(after_first.entries, everything.entries[1..]);
    assert!(past_the_head.entries.is_empty());
    assert_eq!(
        (past_the_head.last_sequence, past_the_head.head_sequence),
        (99, 2)
    );
}

async fn the_feed_refuses_a_negative_cursor_and_caps_the_page_size(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut service = clinic.client(Role::Service).await;

    // Act
    let negative = service
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            after_sequence: -1,
            page_size: -5,
        })
        .await
        .expect_err("refused");
    let huge = service
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            after_sequence: 0,
            page_size: 1_000_000,
        })
        .await
        .expect("capped, not refused")
        .into_inner();

    // Assert
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&negative), ["after_sequence", "page_size"]);
    assert!(huge.entries.is_empty());
    assert_eq!((huge.last_sequence, huge.head_sequence), (0, 0));
    assert!(whole_ledger(&mut service).await.is_empty());
}

async fn a_patient_billing_has_never_seen_has_a_zero_balance(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut collections = clinic.client(Role::Collections).await;

    // Act
    let unknown = balance(&mut collections, &PatientId::new().to_string()).await;
    let malformed = collections
        .get_account_balance(pb::GetAccountBalanceRequest {
            patient_id: "not-a-patient".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(unknown.balance, Some(mxn(0)));
    assert_eq!(unknown.total_charged, Some(mxn(0)));
    assert_eq!(unknown.total_paid, Some(mxn(0)));
    assert_eq!(unknown.as_of_sequence, 0);
    assert_eq!(violated_fields(&malformed), ["patient_id"]);
}
