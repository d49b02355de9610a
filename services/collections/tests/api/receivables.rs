//! Receivables kept from a real billing service's ledger, with names from a real registry.

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::clock::Clock;
use clinic_proto::collections::v1 as pb;
use clinic_proto::common::v1::PageRequest;
use clinic_proto::timestamp_to_proto;
use clinic_test_support::{TestDatabase, backend_tests};

use crate::{TestClinic, date, eventually, mxn};

backend_tests!(
    receivables_list_only_patients_who_still_owe_with_name_balance_and_oldest_charge,
    receivables_page_largest_balance_first_with_the_total_over_every_page,
    a_retried_payment_is_applied_once,
    collections_keeps_answering_while_billing_is_down_and_catches_up_after,
    a_backlog_longer_than_a_page_is_fetched_without_waiting_between_pages,
);

async fn list(clinic: &TestClinic, page: Option<PageRequest>) -> pb::ListReceivablesResponse {
    clinic
        .collections()
        .client(Role::Collections)
        .await
        .list_receivables(pb::ListReceivablesRequest { page })
        .await
        .expect("listed")
        .into_inner()
}

/// The receivables once every listed account has its holder's name.
async fn named_receivables(clinic: &TestClinic) -> pb::ListReceivablesResponse {
    eventually("every account holder is named", || async move {
        let listed = list(clinic, None).await;
        listed
            .accounts
            .iter()
            .all(|account| !account.patient_name.is_empty())
            .then_some(listed)
    })
    .await
}

async fn receivables_list_only_patients_who_still_owe_with_name_balance_and_oldest_charge(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let ana = clinic.register("Ana", "Ruiz", "+525511110001").await;
    let luis = clinic.register("Luis", "Pérez", "+525511110002").await;
    clinic.price_consultation().await;
    clinic.charge(&ana, 1, date(2026, 11, 18)).await;
    clinic.charge(&luis, 1, date(2026, 11, 19)).await;
    clinic.charge(&luis, 2, date(2026, 11, 21)).await;

    // Act: Ana pays her consultation in full.
    clinic.pay(&ana, 50_000, "pay-ana-1").await;
    let status = clinic.caught_up().await;
    let listed = named_receivables(&clinic).await;

    // Assert
    assert_eq!(status.applied_sequence, 4);
    assert_eq!(
        status.last_sync_time,
        Some(timestamp_to_proto(clinic.clock.now()))
    );
    assert_eq!(listed.as_of_sequence, 4);
    assert_eq!(listed.total_open, Some(mxn(150_000)));
    assert_eq!(listed.next_page_token, "");
    let [owing] = &listed.accounts[..] else {
        panic!("only Luis owes, got {:?}", listed.accounts);
    };
    assert_eq!(owing.patient_id, luis);
    assert_eq!(owing.patient_name, "Luis Pérez");
    assert_eq!(owing.balance, Some(mxn(150_000)));
    assert_eq!(owing.oldest_open_charge_date, Some(date(2026, 11, 19)));
    assert_eq!(owing.last_payment_time, None);
    assert!(owing.last_activity_time.is_some());
}

async fn receivables_page_largest_balance_first_with_the_total_over_every_page(
    database: TestDatabase,
) {
    // Arrange: balances of 1, 3 and 2 consultations.
    let clinic = TestClinic::start(database).await;
    clinic.price_consultation().await;
    let mut patients = Vec::new();
    for (index, quantity) in [1, 3, 2].into_iter().enumerate() {
        let patient = clinic
            .register(
                "Paciente",
                &format!("Número{index}"),
                &format!("+52551111000{index}"),
            )
            .await;
        clinic.charge(&patient, quantity, date(2026, 11, 20)).await;
        patients.push(patient);
    }
    clinic.caught_up().await;

    // Act
    let first = list(
        &clinic,
        Some(PageRequest {
            page_size: 2,
            page_token: String::new(),
        }),
    )
    .await;
    let second = list(
        &clinic,
        Some(PageRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
        }),
    )
    .await;

    // Assert
    let ids = |page: &pb::ListReceivablesResponse| -> Vec<String> {
        page.accounts
            .iter()
            .map(|account| account.patient_id.clone())
            .collect()
    };
    assert_eq!(ids(&first), [patients[1].clone(), patients[2].clone()]);
    assert_eq!(ids(&second), [patients[0].clone()]);
    assert_eq!(second.next_page_token, "");
    assert_eq!(first.total_open, Some(mxn(300_000)));
    assert_eq!(second.total_open, Some(mxn(300_000)));
}

async fn a_retried_payment_is_applied_once(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let ana = clinic.register("Ana", "Ruiz", "+525511110001").await;
    clinic.price_consultation().await;
    clinic.charge(&ana, 2, date(2026, 11, 20)).await;

    // Act: the desk's terminal times out and sends the same payment again.
    clinic.pay(&ana, 30_000, "pay-ana-retried").await;
    clinic.pay(&ana, 30_000, "pay-ana-retried").await;
    clinic.caught_up().await;

    // Assert
    let listed = list(&clinic, None).await;
    assert_eq!(listed.accounts.len(), 1);
    assert_eq!(listed.accounts[0].balance, Some(mxn(70_000)));
    assert_eq!(listed.as_of_sequence, 2);
}

async fn collections_keeps_answering_while_billing_is_down_and_catches_up_after(
    database: TestDatabase,
) {
    // Arrange: one charge applied, then billing goes down.
    let mut clinic = TestClinic::start(database).await;
    let ana = clinic.register("Ana", "Ruiz", "+525511110001").await;
    clinic.price_consultation().await;
    clinic.charge(&ana, 2, date(2026, 11, 20)).await;
    let before = clinic.caught_up().await;
    clinic.stop_billing().await;
    clinic.advance(TimeDelta::minutes(5));

    // Act: collections is asked while billing is away, for longer than several polls.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut desk = clinic.collections().client(Role::Collections).await;
    let during = desk
        .get_ledger_sync_status(pb::GetLedgerSyncStatusRequest {})
        .await
        .expect("the status still answers")
        .into_inner();
    let listed_during = list(&clinic, None).await;

    // Assert: the last good state, and the last sync is still the one before the outage.
    assert_eq!(during, before);
    assert_eq!(listed_during.accounts[0].balance, Some(mxn(100_000)));

    // Act: billing returns and a payment is posted.
    clinic.restart_billing().await;
    clinic.pay(&ana, 40_000, "pay-after-outage").await;
    let after = clinic.caught_up().await;

    // Assert
    assert_eq!(after.applied_sequence, 2);
    assert_eq!(
        after.last_sync_time,
        Some(timestamp_to_proto(clinic.clock.now()))
    );
    let listed_after = list(&clinic, None).await;
    assert_eq!(listed_after.accounts[0].balance, Some(mxn(60_000)));
    assert!(listed_after.accounts[0].last_payment_time.is_some());
}

async fn a_backlog_longer_than_a_page_is_fetched_without_waiting_between_pages(
    database: TestDatabase,
) {
    // Arrange: 501 ledger entries (one more than a page) before collections first starts.
    let mut clinic = TestClinic::start_upstream(database).await;
    let ana = clinic.register("Ana", "Ruiz", "+525511110001").await;
    clinic.price_consultation().await;
    // Posted eight at a time: one by one, the commits alone take most of the test's time.
    for _ in 0..(501 / 8) {
        let batch: Vec<_> = (0..8)
            .map(|_| clinic.charge(&ana, 1, date(2026, 11, 20)))
            .collect();
        futures::future::join_all(batch).await;
    }
    for _ in 0..(501 % 8) {
        clinic.charge(&ana, 1, date(2026, 11, 20)).await;
    }

    // Act: collections would wait a minute between polls once caught up.
    clinic.start_collections(60_000).await;
    let status = clinic.caught_up().await;

    // Assert: both pages arrived well within the minute, so the second came straight away.
    assert_eq!(status.applied_sequence, 501);
    let listed = list(&clinic, None).await;
    assert_eq!(listed.accounts[0].balance, Some(mxn(501 * 50_000)));
}
