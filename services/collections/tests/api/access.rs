//! Who may call what, and what a caller learns when something fails.

use clinic_common::auth::Role;
use clinic_common::db::Database;
use clinic_common::status::violated_fields;
use clinic_common::with_db;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::common::v1::PageRequest;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::TestCollections;

backend_tests!(
    calls_without_a_token_are_unauthenticated,
    only_collections_staff_and_managers_see_receivables,
    collections_staff_managers_and_services_see_the_sync_status,
    a_page_token_this_service_did_not_issue_is_an_invalid_page,
    internal_errors_tell_the_caller_nothing,
);

fn list() -> pb::ListReceivablesRequest {
    pb::ListReceivablesRequest { page: None }
}

async fn calls_without_a_token_are_unauthenticated(database: TestDatabase) {
    let collections = TestCollections::alone(database).await;
    let mut anonymous = CollectionsServiceClient::new(collections.service.channel().await);

    let listed = anonymous.list_receivables(list()).await;
    let status = anonymous
        .get_ledger_sync_status(pb::GetLedgerSyncStatusRequest {})
        .await;

    assert_eq!(listed.expect_err("refused").code(), Code::Unauthenticated);
    assert_eq!(status.expect_err("refused").code(), Code::Unauthenticated);
}

async fn only_collections_staff_and_managers_see_receivables(database: TestDatabase) {
    let collections = TestCollections::alone(database).await;

    for role in [Role::Collections, Role::Manager] {
        let listed = collections
            .client(role)
            .await
            .list_receivables(list())
            .await;
        assert!(listed.is_ok(), "{role} may list receivables");
    }
    for role in [Role::Kiosk, Role::Reception, Role::Service] {
        let status = collections
            .client(role)
            .await
            .list_receivables(list())
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role} may not");
    }
}

async fn collections_staff_managers_and_services_see_the_sync_status(database: TestDatabase) {
    let collections = TestCollections::alone(database).await;

    for role in [Role::Collections, Role::Manager, Role::Service] {
        let status = collections
            .client(role)
            .await
            .get_ledger_sync_status(pb::GetLedgerSyncStatusRequest {})
            .await
            .expect("answered")
            .into_inner();
        assert_eq!(
            status.applied_sequence, 0,
            "nothing applied without billing"
        );
        assert_eq!(status.last_sync_time, None, "billing never answered");
    }
    for role in [Role::Kiosk, Role::Reception] {
        let status = collections
            .client(role)
            .await
            .get_ledger_sync_status(pb::GetLedgerSyncStatusRequest {})
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role} may not");
    }
}

async fn a_page_token_this_service_did_not_issue_is_an_invalid_page(database: TestDatabase) {
    let collections = TestCollections::alone(database).await;
    let mut desk = collections.client(Role::Collections).await;

    let status = desk
        .list_receivables(pb::ListReceivablesRequest {
            page: Some(PageRequest {
                page_size: 10,
                page_token: "page-2".into(),
            }),
        })
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["page"]);
}

async fn internal_errors_tell_the_caller_nothing(database: TestDatabase) {
    let collections = TestCollections::alone(database).await;
    // Sabotage: the table the list reads disappears behind the service's back.
    let db = Database::connect(collections.database.url())
        .await
        .expect("connects");
    with_db!(&db, |pool| {
        sqlx::query("ALTER TABLE receivable_accounts RENAME TO receivable_accounts_gone")
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
    .expect("sabotaged");
    db.close().await;

    let status = collections
        .client(Role::Manager)
        .await
        .list_receivables(list())
        .await
        .expect_err("fails");

    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "internal error");
}
