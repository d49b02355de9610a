//! Balances for people: who was treated today and still owes, and a patient's statement with
//! its opening balance, running balance and closing balance.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::{Date, PageRequest};
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, balance, card, cash, charge, mxn};

backend_tests!(
    unpaid_today_lists_patients_treated_today_who_still_owe_largest_balance_first,
    unpaid_today_pages_through_the_list,
    a_statement_runs_the_balance_from_the_opening_balance_to_the_closing_balance,
    a_statement_without_dates_covers_the_whole_account_and_ends_at_the_balance,
    a_statement_refuses_a_bad_patient_id_and_a_span_ending_before_it_starts,
    a_patient_billing_has_never_seen_has_an_empty_statement_at_zero,
);

fn november(day: i32) -> Date {
    Date {
        year: 2026,
        month: 11,
        day,
    }
}

/// A charge of `code` for `patient_id` with an explicit service day.
fn charge_on(patient_id: &str, code: &str, day: Date, request_id: &str) -> pb::PostChargeRequest {
    pb::PostChargeRequest {
        service_date: Some(day),
        ..charge(patient_id, code, request_id)
    }
}

async fn unpaid_today(
    clinic: &TestClinic,
    page: Option<PageRequest>,
) -> pb::ListUnpaidTodayResponse {
    clinic
        .client(Role::Reception)
        .await
        .list_unpaid_today(pb::ListUnpaidTodayRequest { page })
        .await
        .expect("the list is read")
        .into_inner()
}

async fn unpaid_today_lists_patients_treated_today_who_still_owe_largest_balance_first(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    clinic.add_item("CONS", 50_000).await;
    clinic.add_item("XRAY", 30_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let part_paid = clinic.register_patient().await;
    let unpaid = clinic.register_patient().await;
    let paid_up = clinic.register_patient().await;
    let treated_yesterday = clinic.register_patient().await;
    // Owes 200.00 today, plus 300.00 left over from yesterday: 500.00 in all.
    reception
        .post_charge(charge_on(&part_paid, "XRAY", november(21), "c-1"))
        .await
        .expect("charged");
    reception
        .post_charge(charge(&part_paid, "CONS", "c-2"))
        .await
        .expect("charged");
    reception
        .post_payment(cash(&part_paid, 30_000, 30_000, "p-1"))
        .await
        .expect("paid");
    // Owes 800.00, all of it for today.
    reception
        .post_charge(charge(&unpaid, "CONS", "c-3"))
        .await
        .expect("charged");
    reception
        .post_charge(charge(&unpaid, "XRAY", "c-4"))
        .await
        .expect("charged");
    // Paid in full.
    reception
        .post_charge(charge(&paid_up, "CONS", "c-5"))
        .await
        .expect("charged");
    reception
        .post_payment(card(&paid_up, 50_000, "p-2"))
        .await
        .expect("paid");
    // Owes, but was not treated today.
    reception
        .post_charge(charge_on(&treated_yesterday, "CONS", november(21), "c-6"))
        .await
        .expect("charged");

    // Act
    let list = unpaid_today(&clinic, None).await;

    // Assert
    assert_eq!(list.day, Some(november(22)));
    let patients: Vec<&str> = list
        .patients
        .iter()
        .map(|p| p.patient_id.as_str())
        .collect();
    assert_eq!(patients, vec![unpaid.as_str(), part_paid.as_str()]);
    let first = &list.patients[0];
    assert_eq!(first.balance, Some(mxn(80_000)));
    assert_eq!(first.charged_today, Some(mxn(80_000)));
    let codes: Vec<&str> = first
        .charges_today
        .iter()
        .map(|c| c.price_code.as_str())
        .collect();
    assert_eq!(codes, vec!["CONS", "XRAY"]);
    let second = &list.patients[1];
    assert_eq!(second.balance, Some(mxn(50_000)));
    assert_eq!(second.charged_today, Some(mxn(50_000)));
    assert_eq!(
        second.charges_today.len(),
        1,
        "only today's charge is listed"
    );
    assert_eq!(list.next_page_token, "");
}

async fn unpaid_today_pages_through_the_list(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    clinic.add_item("CONS", 50_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut expected = Vec::new();
    for number in 0..3 {
        let patient_id = clinic.register_patient().await;
        reception
            .post_charge(charge(&patient_id, "CONS", &format!("c-{number}")))
            .await
            .expect("charged");
        // Different balances, so the order is known: 500.00, 400.00, 300.00.
        if number > 0 {
            let paid = 10_000 * number;
            reception
                .post_payment(cash(&patient_id, paid, paid, &format!("p-{number}")))
                .await
                .expect("paid");
        }
        expected.push(patient_id);
    }

    // Act
    let first = unpaid_today(
        &clinic,
        Some(PageRequest {
            page_size: 2,
            page_token: String::new(),
        }),
    )
    .await;
    let second = unpaid_today(
        &clinic,
        Some(PageRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
        }),
    )
    .await;

    // Assert
    let seen: Vec<String> = first
        .patients
        .iter()
        .chain(&second.patients)
        .map(|p| p.patient_id.clone())
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(first.patients.len(), 2);
    assert_ne!(first.next_page_token, "");
    assert_eq!(second.next_page_token, "");
}

async fn a_statement_runs_the_balance_from_the_opening_balance_to_the_closing_balance(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    clinic.add_item("CONS", 50_000).await;
    clinic.add_item("CLEAN", 20_000).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .post_charge(charge_on(&patient_id, "CONS", november(20), "c-1"))
        .await
        .expect("charged");
    let payment = reception
        .post_payment(cash(&patient_id, 30_000, 50_000, "p-1"))
        .await
        .expect("paid")
        .into_inner();
    clinic
        .client(Role::Manager)
        .await
        .refund_payment(pb::RefundPaymentRequest {
            payment_id: payment.payment_id.clone(),
            amount: Some(mxn(10_000)),
            reason: "Cobro duplicado".into(),
            terminal_id: String::new(),
            request_id: "r-1".into(),
            ..Default::default()
        })
        .await
        .expect("refunded");
    reception
        .post_charge(pb::PostChargeRequest {
            quantity: 2,
            ..charge(&patient_id, "CLEAN", "c-2")
        })
        .await
        .expect("charged");

    // Act: the days from the 21st on; the 20th's charge is the opening balance.
    let statement = clinic
        .client(Role::Collections)
        .await
        .get_statement(pb::GetStatementRequest {
            patient_id: patient_id.clone(),
            from_date: Some(november(21)),
            to_date: Some(november(22)),
        })
        .await
        .expect("the statement is read")
        .into_inner();

    // Assert
    assert_eq!(statement.opening_balance, Some(mxn(50_000)));
    let lines: Vec<(i32, &str, Option<pb::PaymentMethod>, i64, i64)> = statement
        .lines
        .iter()
        .map(|line| {
            (
                line.kind,
                line.description.as_str(),
                (line.payment_method != 0).then(|| line.payment_method()),
                line.amount.as_ref().expect("amount").minor_units,
                line.running_balance.as_ref().expect("running").minor_units,
            )
        })
        .collect();
    let receipt = &payment.receipt_number;
    assert_eq!(
        lines,
        vec![
            (
                pb::LedgerEntryKind::Payment.into(),
                format!("Payment {receipt} (cash)").as_str(),
                Some(pb::PaymentMethod::Cash),
                -30_000,
                20_000
            ),
            (
                pb::LedgerEntryKind::Refund.into(),
                format!("Refund on {receipt} (cash)").as_str(),
                Some(pb::PaymentMethod::Cash),
                10_000,
                30_000
            ),
            (
                pb::LedgerEntryKind::Charge.into(),
                "CLEAN Servicio CLEAN x2",
                None,
                40_000,
                70_000
            ),
        ]
    );
    assert_eq!(statement.lines[0].receipt_number, *receipt);
    assert_eq!(statement.lines[0].source_id, payment.payment_id);
    assert_eq!(statement.lines[2].price_code, "CLEAN");
    assert_eq!(statement.lines[2].quantity, 2);
    assert_eq!(statement.closing_balance, Some(mxn(70_000)));
    assert_eq!(statement.from_date, Some(november(21)));
}

async fn a_statement_without_dates_covers_the_whole_account_and_ends_at_the_balance(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    clinic.add_item("CONS", 50_000).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .post_charge(charge(&patient_id, "CONS", "c-today"))
        .await
        .expect("charged");
    reception
        .post_payment(card(&patient_id, 20_000, "p-1"))
        .await
        .expect("paid");
    // Posted last, but dated earlier: listed first.
    reception
        .post_charge(charge_on(&patient_id, "CONS", november(19), "c-earlier"))
        .await
        .expect("charged");

    // Act
    let whole = reception
        .get_statement(pb::GetStatementRequest {
            patient_id: patient_id.clone(),
            ..Default::default()
        })
        .await
        .expect("the statement is read")
        .into_inner();
    let until_the_19th = reception
        .get_statement(pb::GetStatementRequest {
            patient_id: patient_id.clone(),
            from_date: None,
            to_date: Some(november(19)),
        })
        .await
        .expect("the statement is read")
        .into_inner();

    // Assert
    assert_eq!(whole.opening_balance, Some(mxn(0)));
    let dates: Vec<Option<Date>> = whole.lines.iter().map(|l| l.service_date).collect();
    assert_eq!(
        dates,
        vec![Some(november(19)), Some(november(22)), Some(november(22))]
    );
    let account = balance(&mut reception, &patient_id).await;
    assert_eq!(whole.closing_balance, account.balance);
    assert_eq!(whole.closing_balance, Some(mxn(80_000)));
    assert_eq!(until_the_19th.lines.len(), 1);
    assert_eq!(until_the_19th.closing_balance, Some(mxn(50_000)));
}

async fn a_statement_refuses_a_bad_patient_id_and_a_span_ending_before_it_starts(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;

    // Act
    let status = clinic
        .client(Role::Reception)
        .await
        .get_statement(pb::GetStatementRequest {
            patient_id: "not-a-uuid".into(),
            from_date: Some(november(22)),
            to_date: Some(november(21)),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["patient_id", "to_date"]);
}

async fn a_patient_billing_has_never_seen_has_an_empty_statement_at_zero(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let stranger = clinic_common::ids::PatientId::new().to_string();

    // Act
    let statement = clinic
        .client(Role::Manager)
        .await
        .get_statement(pb::GetStatementRequest {
            patient_id: stranger.clone(),
            ..Default::default()
        })
        .await
        .expect("the statement is read")
        .into_inner();

    // Assert
    assert_eq!(statement.patient_id, stranger);
    assert!(statement.lines.is_empty());
    assert_eq!(statement.opening_balance, Some(mxn(0)));
    assert_eq!(statement.closing_balance, Some(mxn(0)));
}
