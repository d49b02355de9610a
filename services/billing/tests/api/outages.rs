//! Billing's database going away under a payment, as in a PostgreSQL restart or a network fault:
//! the caller is told to retry, and the retry posts the payment once.

use clinic_common::auth::Role;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_test_support::proxy::{TcpProxy, server_of, url_through};
use clinic_test_support::{TestDatabase, postgres_tests};
use tonic::Code;

use crate::{TestClinic, card, charge, whole_ledger};

postgres_tests!(a_payment_while_the_database_is_away_answers_unavailable_and_its_retry_posts_once);

async fn a_payment_while_the_database_is_away_answers_unavailable_and_its_retry_posts_once(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("C-OUTAGE", 90_000).await;
    clinic
        .client(Role::Reception)
        .await
        .post_charge(charge(&patient_id, "C-OUTAGE", "charge-outage"))
        .await
        .expect("charged");
    // A second billing reaches the same database through a proxy the test can cut.
    let url = clinic.billing_database_url().to_owned();
    let proxy = TcpProxy::start(server_of(&url).await).await;
    let behind = clinic.billing_on(&url_through(&url, proxy.addr())).await;
    let mut reception =
        BillingServiceClient::new(behind.channel_as(Role::Reception, "reception:tester").await);

    // Act: the database goes away, then comes back.
    proxy.cut();
    let refused = reception
        .post_payment(card(&patient_id, 30_000, "pay-outage"))
        .await
        .expect_err("no database to post to");
    proxy.restore();
    let retried = reception
        .post_payment(card(&patient_id, 30_000, "pay-outage"))
        .await
        .expect("posted once the database is back")
        .into_inner();

    // Assert: told to retry, in words that name no server; the retry posted one payment.
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("try again"), "{refused:?}");
    assert!(!refused.message().contains("127.0.0.1"), "{refused:?}");
    let again = reception
        .post_payment(card(&patient_id, 30_000, "pay-outage"))
        .await
        .expect("a further retry answers")
        .into_inner();
    assert_eq!(again, retried);
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    let payments = ledger
        .iter()
        .filter(|entry| entry.kind() == pb::LedgerEntryKind::Payment)
        .count();
    assert_eq!(payments, 1);
}
