//! Upgrading a database that an earlier version wrote: the refunds and corrections migrations
//! rebuild the ledger on SQLite (and widen its checks on PostgreSQL) without losing or unlocking
//! anything, and payments made before allocations existed pay their charges oldest first.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::Role;
use clinic_common::db::Database;
use clinic_common::ids::{ChargeId, PatientId, PaymentId};
use clinic_proto::billing::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};

use crate::{TestClinic, balance, mxn, whole_ledger};

backend_tests!(a_ledger_written_before_refunds_is_carried_over_and_stays_append_only);

/// The last migration before refunds existed.
const BEFORE_REFUNDS: i64 = 2;

async fn a_ledger_written_before_refunds_is_carried_over_and_stays_append_only(
    database: TestDatabase,
) {
    // Arrange: the previous version's schema, with a charge paid in cash on it.
    let patient_id = PatientId::new();
    let charge_id = ChargeId::new();
    let payment_id = PaymentId::new();
    let day = NaiveDate::from_ymd_opt(2026, 11, 21).expect("a date");
    let at: DateTime<Utc> = "2026-11-21T17:00:00Z".parse().expect("an instant");
    let old = Database::connect(database.url()).await.expect("connects");
    match &old {
        Database::Sqlite(pool) => sqlx::migrate!("migrations/sqlite")
            .run_to(BEFORE_REFUNDS, pool)
            .await
            .expect("old schema"),
        Database::Postgres(pool) => sqlx::migrate!("migrations/postgres")
            .run_to(BEFORE_REFUNDS, pool)
            .await
            .expect("old schema"),
    }
    clinic_common::with_db!(&old, |pool| {
        async {
            sqlx::query(
                "INSERT INTO price_list_items (code, description, unit_price_minor, currency, \
                 kind, created_at) VALUES ('OLD-01', 'Consulta', 90000, 'MXN', 'service', $1)",
            )
            .bind(at)
            .execute(pool)
            .await?;
            sqlx::query("UPDATE ledger_head SET last_sequence = 2")
                .execute(pool)
                .await?;
            sqlx::query("UPDATE receipt_counter SET last_number = 1")
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO ledger_entries (sequence, patient_id, kind, amount_minor, currency, \
                 source_id, service_date, created_at) VALUES \
                 (1, $1, 'charge', 90000, 'MXN', $2, $4, $5), \
                 (2, $1, 'payment', -90000, 'MXN', $3, $4, $5)",
            )
            .bind(patient_id.to_string())
            .bind(charge_id.to_string())
            .bind(payment_id.to_string())
            .bind(day)
            .bind(at)
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO charges (charge_id, patient_id, price_code, description, quantity, \
                 unit_price_minor, amount_minor, currency, service_date, posted_by, request_id, \
                 ledger_sequence, created_at) VALUES ($1, $2, 'OLD-01', 'Consulta', 1, 90000, \
                 90000, 'MXN', $3, 'reception:old', 'old-charge', 1, $4)",
            )
            .bind(charge_id.to_string())
            .bind(patient_id.to_string())
            .bind(day)
            .bind(at)
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO payments (payment_id, patient_id, amount_minor, currency, method, \
                 tendered_minor, change_minor, receipt_number, balance_after_minor, \
                 service_date, received_by, request_id, ledger_sequence, created_at) \
                 VALUES ($1, $2, 90000, 'MXN', 'cash', 100000, 10000, 1, 0, $3, \
                 'reception:old', 'old-payment', 2, $4)",
            )
            .bind(payment_id.to_string())
            .bind(patient_id.to_string())
            .bind(day)
            .bind(at)
            .execute(pool)
            .await?;
            Ok::<_, sqlx::Error>(())
        }
        .await
    })
    .expect("the old rows are written");
    old.close().await;

    // Act: the current version starts on it, applying the later migrations.
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;
    let before = whole_ledger(&mut clinic.client(Role::Service).await).await;
    let settled = manager
        .list_open_charges(pb::ListOpenChargesRequest {
            patient_id: patient_id.to_string(),
        })
        .await
        .expect("open charges")
        .into_inner();
    let refunded = manager
        .refund_payment(pb::RefundPaymentRequest {
            payment_id: payment_id.to_string(),
            amount: Some(mxn(10_000)),
            reason: "Descuento aplicado después".into(),
            terminal_id: String::new(),
            request_id: "refund-old".into(),
            ..Default::default()
        })
        .await
        .expect("an old payment can be refunded")
        .into_inner();
    let sabotage = Database::connect(clinic.billing_database_url())
        .await
        .expect("connects");
    let deleted = clinic_common::with_db!(&sabotage, |pool| {
        sqlx::query("DELETE FROM ledger_entries")
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    });
    sabotage.close().await;

    // Assert
    let kinds: Vec<pb::LedgerEntryKind> = before.iter().map(|entry| entry.kind()).collect();
    assert_eq!(
        kinds,
        [pb::LedgerEntryKind::Charge, pb::LedgerEntryKind::Payment]
    );
    assert_eq!(before[1].source_id, payment_id.to_string());
    assert_eq!(refunded.balance_after, Some(mxn(10_000)));
    assert_eq!(refunded.method(), pb::PaymentMethod::Cash);
    assert!(deleted.is_err(), "the ledger is still append-only");
    let after = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(after.len(), 3);
    assert_eq!(after[2].sequence, 3);
    let account = balance(&mut manager, &patient_id.to_string()).await;
    assert_eq!(account.balance, Some(mxn(10_000)));
    assert!(
        settled.charges.is_empty(),
        "the old payment paid the old charge"
    );
    assert_eq!(settled.advance, Some(mxn(0)));
    assert_eq!(
        account.outstanding,
        Some(mxn(10_000)),
        "the refund reopened it"
    );
    assert_eq!(account.advance, Some(mxn(0)));
    assert_eq!(after[2].related_source_id, payment_id.to_string());
}
