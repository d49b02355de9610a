//! Who may call what, and what a caller learns when something breaks inside.

use clinic_common::auth::Role;
use clinic_common::db::Database;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::{Code, Status};

use crate::{Client, TestClinic, cash, whole_ledger};

backend_tests!(
    calls_without_a_valid_token_are_unauthenticated,
    each_rpc_admits_only_its_roles,
    an_internal_failure_tells_the_caller_nothing_and_writes_nothing,
);

#[derive(Debug, Clone, Copy)]
enum Rpc {
    CreatePriceListItem,
    ListPriceListItems,
    PostCharge,
    PostPayment,
    GetAccountBalance,
    ListLedgerEntries,
    OpenCashDrawer,
    RecordCashMovement,
    GetCashDrawer,
    CloseCashDrawer,
    ApproveCashDrawerClose,
    RenderReceipt,
    RefundPayment,
    ListUnpaidToday,
    GetStatement,
    GetDailyClose,
    ExportDailyClose,
    PostAdjustment,
    IssueCreditNote,
    WriteOffCharge,
    ListOpenCharges,
    CloseDay,
    PostAppointmentCharge,
    ListPatientPackages,
    CreatePromotion,
    ListPromotions,
    IssueInvoice,
    IssueGlobalInvoice,
    GetInvoice,
    IssueChargesInvoice,
    IssueCreditNoteInvoice,
    IssuePaymentComplement,
    ListPendingPaymentComplements,
}

/// Each RPC with the roles its contract admits.
const ADMITTED: [(Rpc, &[Role]); 33] = [
    (Rpc::CreatePriceListItem, &[Role::Manager, Role::Service]),
    (
        Rpc::ListPriceListItems,
        &[
            Role::Reception,
            Role::Manager,
            Role::Collections,
            Role::Service,
            Role::Kiosk,
        ],
    ),
    (
        Rpc::PostCharge,
        &[Role::Reception, Role::Manager, Role::Service],
    ),
    (
        Rpc::PostPayment,
        &[
            Role::Reception,
            Role::Manager,
            Role::Collections,
            Role::Kiosk,
        ],
    ),
    (
        Rpc::GetAccountBalance,
        &[
            Role::Reception,
            Role::Manager,
            Role::Collections,
            Role::Service,
            Role::Kiosk,
        ],
    ),
    (Rpc::ListLedgerEntries, &[Role::Service, Role::Manager]),
    (Rpc::OpenCashDrawer, &[Role::Reception, Role::Manager]),
    (Rpc::RecordCashMovement, &[Role::Reception, Role::Manager]),
    (Rpc::GetCashDrawer, &[Role::Reception, Role::Manager]),
    (Rpc::CloseCashDrawer, &[Role::Reception, Role::Manager]),
    (Rpc::ApproveCashDrawerClose, &[Role::Manager]),
    (
        Rpc::RenderReceipt,
        &[Role::Reception, Role::Manager, Role::Collections],
    ),
    (Rpc::RefundPayment, &[Role::Manager]),
    (Rpc::ListUnpaidToday, &[Role::Reception, Role::Manager]),
    (
        Rpc::GetStatement,
        &[Role::Reception, Role::Manager, Role::Collections],
    ),
    (Rpc::GetDailyClose, &[Role::Reception, Role::Manager]),
    (Rpc::ExportDailyClose, &[Role::Reception, Role::Manager]),
    (Rpc::PostAdjustment, &[Role::Manager, Role::Service]),
    (Rpc::IssueCreditNote, &[Role::Manager, Role::Service]),
    (Rpc::WriteOffCharge, &[Role::Manager, Role::Service]),
    (
        Rpc::ListOpenCharges,
        &[
            Role::Reception,
            Role::Manager,
            Role::Collections,
            Role::Service,
        ],
    ),
    (Rpc::CloseDay, &[Role::Reception, Role::Manager]),
    (
        Rpc::PostAppointmentCharge,
        &[Role::Reception, Role::Manager, Role::Service],
    ),
    (
        Rpc::ListPatientPackages,
        &[
            Role::Reception,
            Role::Manager,
            Role::Collections,
            Role::Service,
        ],
    ),
    (Rpc::CreatePromotion, &[Role::Manager]),
    (
        Rpc::ListPromotions,
        &[Role::Reception, Role::Manager, Role::Service],
    ),
    (Rpc::IssueInvoice, &[Role::Reception, Role::Manager]),
    (Rpc::IssueGlobalInvoice, &[Role::Reception, Role::Manager]),
    (
        Rpc::GetInvoice,
        &[Role::Reception, Role::Manager, Role::Collections],
    ),
    (Rpc::IssueChargesInvoice, &[Role::Reception, Role::Manager]),
    (
        Rpc::IssueCreditNoteInvoice,
        &[Role::Reception, Role::Manager],
    ),
    (
        Rpc::IssuePaymentComplement,
        &[Role::Reception, Role::Manager],
    ),
    (
        Rpc::ListPendingPaymentComplements,
        &[Role::Reception, Role::Manager],
    ),
];

/// Calls `rpc` with an empty request: enough to pass or fail the role check, never enough to
/// write anything.
async fn call(client: &mut Client, rpc: Rpc) -> Result<(), Status> {
    match rpc {
        Rpc::CreatePriceListItem => client
            .create_price_list_item(pb::CreatePriceListItemRequest::default())
            .await
            .map(drop),
        Rpc::ListPriceListItems => client
            .list_price_list_items(pb::ListPriceListItemsRequest::default())
            .await
            .map(drop),
        Rpc::PostCharge => client
            .post_charge(pb::PostChargeRequest::default())
            .await
            .map(drop),
        Rpc::PostPayment => client
            .post_payment(pb::PostPaymentRequest::default())
            .await
            .map(drop),
        Rpc::GetAccountBalance => client
            .get_account_balance(pb::GetAccountBalanceRequest::default())
            .await
            .map(drop),
        Rpc::ListLedgerEntries => client
            .list_ledger_entries(pb::ListLedgerEntriesRequest::default())
            .await
            .map(drop),
        Rpc::OpenCashDrawer => client
            .open_cash_drawer(pb::OpenCashDrawerRequest::default())
            .await
            .map(drop),
        Rpc::RecordCashMovement => client
            .record_cash_movement(pb::RecordCashMovementRequest::default())
            .await
            .map(drop),
        Rpc::GetCashDrawer => client
            .get_cash_drawer(pb::GetCashDrawerRequest::default())
            .await
            .map(drop),
        Rpc::CloseCashDrawer => client
            .close_cash_drawer(pb::CloseCashDrawerRequest::default())
            .await
            .map(drop),
        Rpc::ApproveCashDrawerClose => client
            .approve_cash_drawer_close(pb::ApproveCashDrawerCloseRequest::default())
            .await
            .map(drop),
        Rpc::RenderReceipt => client
            .render_receipt(pb::RenderReceiptRequest::default())
            .await
            .map(drop),
        Rpc::RefundPayment => client
            .refund_payment(pb::RefundPaymentRequest::default())
            .await
            .map(drop),
        Rpc::ListUnpaidToday => client
            .list_unpaid_today(pb::ListUnpaidTodayRequest::default())
            .await
            .map(drop),
        Rpc::GetStatement => client
            .get_statement(pb::GetStatementRequest::default())
            .await
            .map(drop),
        Rpc::GetDailyClose => client
            .get_daily_close(pb::GetDailyCloseRequest::default())
            .await
            .map(drop),
        Rpc::ExportDailyClose => client
            .export_daily_close(pb::ExportDailyCloseRequest::default())
            .await
            .map(drop),
        Rpc::PostAdjustment => client
            .post_adjustment(pb::PostAdjustmentRequest::default())
            .await
            .map(drop),
        Rpc::IssueCreditNote => client
            .issue_credit_note(pb::IssueCreditNoteRequest::default())
            .await
            .map(drop),
        Rpc::WriteOffCharge => client
            .write_off_charge(pb::WriteOffChargeRequest::default())
            .await
            .map(drop),
        Rpc::ListOpenCharges => client
            .list_open_charges(pb::ListOpenChargesRequest::default())
            .await
            .map(drop),
        Rpc::PostAppointmentCharge => client
            .post_appointment_charge(pb::PostAppointmentChargeRequest::default())
            .await
            .map(drop),
        Rpc::ListPatientPackages => client
            .list_patient_packages(pb::ListPatientPackagesRequest::default())
            .await
            .map(drop),
        Rpc::CreatePromotion => client
            .create_promotion(pb::CreatePromotionRequest::default())
            .await
            .map(drop),
        Rpc::ListPromotions => client
            .list_promotions(pb::ListPromotionsRequest::default())
            .await
            .map(drop),
        Rpc::IssueInvoice => client
            .issue_invoice(pb::IssueInvoiceRequest::default())
            .await
            .map(drop),
        Rpc::IssueGlobalInvoice => client
            .issue_global_invoice(pb::IssueGlobalInvoiceRequest::default())
            .await
            .map(drop),
        Rpc::GetInvoice => client
            .get_invoice(pb::GetInvoiceRequest::default())
            .await
            .map(drop),
        Rpc::IssueChargesInvoice => client
            .issue_charges_invoice(pb::IssueChargesInvoiceRequest::default())
            .await
            .map(drop),
        Rpc::IssueCreditNoteInvoice => client
            .issue_credit_note_invoice(pb::IssueCreditNoteInvoiceRequest::default())
            .await
            .map(drop),
        Rpc::IssuePaymentComplement => client
            .issue_payment_complement(pb::IssuePaymentComplementRequest::default())
            .await
            .map(drop),
        Rpc::ListPendingPaymentComplements => client
            .list_pending_payment_complements(pb::ListPendingPaymentComplementsRequest::default())
            .await
            .map(drop),
        // A day in the future: refused as invalid after the role check, so nothing is closed.
        Rpc::CloseDay => client
            .close_day(pb::CloseDayRequest {
                day: Some(clinic_proto::common::v1::Date {
                    year: 2999,
                    month: 1,
                    day: 1,
                }),
            })
            .await
            .map(drop),
    }
}

async fn calls_without_a_valid_token_are_unauthenticated(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut anonymous = BillingServiceClient::new(clinic.billing.channel().await);
    let forged_token = clinic_common::auth::TokenKey::from_secret(
        &"another-deployment's-key-32-bytes-long!".to_owned().into(),
    )
    .expect("long enough")
    .issue("manager:mallory", Role::Manager, chrono::Utc::now(), None);
    let mut forger = BillingServiceClient::with_interceptor(
        clinic.billing.channel().await,
        clinic_common::auth::BearerToken::new(&forged_token).expect("ascii"),
    );

    // Act
    let without_token = anonymous
        .get_account_balance(pb::GetAccountBalanceRequest::default())
        .await
        .expect_err("refused");
    let with_forged_token = forger
        .post_payment(pb::PostPaymentRequest::default())
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(without_token.code(), Code::Unauthenticated);
    assert_eq!(with_forged_token.code(), Code::Unauthenticated);
}

async fn each_rpc_admits_only_its_roles(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;

    for (rpc, admitted) in ADMITTED {
        for role in Role::ALL {
            // Act
            let outcome = call(&mut clinic.client(role).await, rpc).await;

            // Assert
            let code = outcome.err().map(|status| status.code());
            if admitted.contains(&role) {
                assert_ne!(
                    code,
                    Some(Code::PermissionDenied),
                    "{rpc:?} should admit {role}"
                );
            } else {
                assert_eq!(
                    code,
                    Some(Code::PermissionDenied),
                    "{rpc:?} should refuse {role}"
                );
            }
        }
    }
}

async fn an_internal_failure_tells_the_caller_nothing_and_writes_nothing(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    // Sabotage: receipts can no longer be numbered. The payment's ledger entry is appended
    // before the receipt number is taken, so this also shows the transaction rolls back whole.
    let sabotage = Database::connect(clinic.billing_database_url())
        .await
        .expect("billing's database is reachable");
    clinic_common::with_db!(&sabotage, |pool| {
        sqlx::query("DROP TABLE receipt_counter")
            .execute(pool)
            .await
            .map(drop)
    })
    .expect("the table is dropped");
    sabotage.close().await;

    // Act
    let status = clinic
        .client(Role::Reception)
        .await
        .post_payment(cash(&patient_id, 10_000, 10_000, "pay-sabotaged"))
        .await
        .expect_err("the payment fails");

    // Assert
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "internal error");
    assert!(
        whole_ledger(&mut clinic.client(Role::Service).await)
            .await
            .is_empty()
    );
}
