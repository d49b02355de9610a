//! The daily close: income by method, service and staff, totals, the accounts owing at the end
//! of the day and the drawers closed that day, checked against what the test posted; and its
//! CSV and XLSX exports.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Date;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, card, cash, charge, mxn, transfer};
use clinic_proto::billing::v1::payment_part_request::Method as PartMethod;

backend_tests!(
    the_close_adds_up_the_day_by_method_service_and_staff,
    a_manager_reads_an_earlier_day_with_what_was_owed_at_its_end,
    reception_may_close_today_only,
    the_csv_export_has_a_header_and_the_report_figures,
    the_xlsx_export_is_a_workbook_with_the_daily_close_sheet,
    bad_close_requests_name_every_bad_field,
    the_close_reports_providers_packages_corrections_advances_and_discounts,
    the_export_speaks_the_language_asked_for_and_stays_blind_to_reception,
);

fn november(day: i32) -> Date {
    Date {
        year: 2026,
        month: 11,
        day,
    }
}

fn note(value_minor: i64, pieces: i32) -> pb::DenominationCount {
    pb::DenominationCount {
        kind: pb::DenominationKind::Note.into(),
        value: Some(mxn(value_minor)),
        count: pieces,
    }
}

/// The day the tests post, with these patients at the end of it:
/// - `paid_less_refund`: CONS 500.00, paid 500.00 cash at counter-1 by reception:ana, 100.00
///   refunded in cash by the manager: owes 100.00.
/// - `part_paid`: CONS 500.00 + XRAY 2 x 300.00, paid 400.00 by debit card (reception:ana) and
///   200.00 by transfer (reception:beto): owes 500.00.
/// - `from_yesterday`: XRAY 300.00 dated the 21st, paid 100.00 by credit card today
///   (reception:beto): owes 200.00.
///
/// counter-1 opened with 500.00 and was counted at 900.00 against 1,000.00 expected: a
/// difference of -100.00, over the limit, so it awaits approval.
struct PostedDay {
    paid_less_refund: String,
    part_paid: String,
    from_yesterday: String,
    session_id: String,
}

async fn post_the_day(clinic: &TestClinic) -> PostedDay {
    clinic.add_item("CONS", 50_000).await;
    clinic.add_item("XRAY", 30_000).await;
    let mut ana = clinic.client_as(Role::Reception, "reception:ana").await;
    let mut beto = clinic.client_as(Role::Reception, "reception:beto").await;
    let mut manager = clinic.client(Role::Manager).await;
    let paid_less_refund = clinic.register_patient().await;
    let part_paid = clinic.register_patient().await;
    let from_yesterday = clinic.register_patient().await;

    let session = ana
        .open_cash_drawer(pb::OpenCashDrawerRequest {
            terminal_id: "counter-1".into(),
            opening_count: vec![note(50_000, 1)],
            opening_difference_reason: String::new(),
            request_id: "open-1".into(),
        })
        .await
        .expect("the drawer opens")
        .into_inner();
    ana.post_charge(charge(&paid_less_refund, "CONS", "c-1"))
        .await
        .expect("charged");
    let cash_payment = ana
        .post_payment(pb::PostPaymentRequest {
            terminal_id: "counter-1".into(),
            ..cash(&paid_less_refund, 50_000, 50_000, "p-1")
        })
        .await
        .expect("paid")
        .into_inner();
    manager
        .refund_payment(pb::RefundPaymentRequest {
            payment_id: cash_payment.payment_id,
            amount: Some(mxn(10_000)),
            reason: "Descuento no aplicado".into(),
            terminal_id: String::new(),
            request_id: "r-1".into(),
            ..Default::default()
        })
        .await
        .expect("refunded");

    ana.post_charge(charge(&part_paid, "CONS", "c-2"))
        .await
        .expect("charged");
    ana.post_charge(pb::PostChargeRequest {
        quantity: 2,
        ..charge(&part_paid, "XRAY", "c-3")
    })
    .await
    .expect("charged");
    ana.post_payment(card(&part_paid, 40_000, "p-2"))
        .await
        .expect("paid");
    beto.post_payment(transfer(&part_paid, 20_000, "p-3"))
        .await
        .expect("paid");

    beto.post_charge(pb::PostChargeRequest {
        service_date: Some(november(21)),
        ..charge(&from_yesterday, "XRAY", "c-4")
    })
    .await
    .expect("charged");
    beto.post_payment(pb::PostPaymentRequest {
        method: Some(pb::post_payment_request::Method::Card(pb::CardPayment {
            authorization_code: "CR3D1T".into(),
            last_four: "1111".into(),
            card_type: pb::CardType::Credit.into(),
        })),
        ..card(&from_yesterday, 10_000, "p-4")
    })
    .await
    .expect("paid");

    ana.close_cash_drawer(pb::CloseCashDrawerRequest {
        terminal_id: "counter-1".into(),
        closing_count: vec![note(50_000, 1), note(10_000, 4)],
        difference_reason: "Faltante en caja".into(),
        request_id: "close-1".into(),
    })
    .await
    .expect("the drawer is counted");

    PostedDay {
        paid_less_refund,
        part_paid,
        from_yesterday,
        session_id: session.session_id,
    }
}

async fn the_close_adds_up_the_day_by_method_service_and_staff(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let day = post_the_day(&clinic).await;

    // Act
    let close = clinic
        .client(Role::Reception)
        .await
        .get_daily_close(pb::GetDailyCloseRequest { day: None })
        .await
        .expect("the close is read")
        .into_inner();

    // Assert
    assert_eq!(close.day, Some(november(22)));
    let by_method: Vec<(pb::IncomeMethod, i64, i64, i64, i64, i64)> = close
        .income_by_method
        .iter()
        .map(|income| {
            let flow = income.flow.as_ref().expect("a flow");
            (
                income.method(),
                flow.payment_count,
                flow.received.as_ref().expect("received").minor_units,
                flow.refund_count,
                flow.refunded.as_ref().expect("refunded").minor_units,
                flow.net.as_ref().expect("net").minor_units,
            )
        })
        .collect();
    assert_eq!(
        by_method,
        vec![
            (pb::IncomeMethod::Cash, 1, 50_000, 1, 10_000, 40_000),
            (pb::IncomeMethod::CardCredit, 1, 10_000, 0, 0, 10_000),
            (pb::IncomeMethod::CardDebit, 1, 40_000, 0, 0, 40_000),
            (pb::IncomeMethod::BankTransfer, 1, 20_000, 0, 0, 20_000),
        ]
    );
    let by_service: Vec<(&str, i64, i64, i64)> = close
        .income_by_service
        .iter()
        .map(|service| {
            (
                service.price_code.as_str(),
                service.charge_count,
                service.quantity,
                service.amount.as_ref().expect("amount").minor_units,
            )
        })
        .collect();
    assert_eq!(
        by_service,
        vec![("CONS", 2, 2, 100_000), ("XRAY", 1, 2, 60_000)],
        "yesterday's charge is not today's income"
    );
    let by_staff: Vec<(&str, i64, i64)> = close
        .income_by_staff
        .iter()
        .map(|staff| {
            let flow = staff.flow.as_ref().expect("a flow");
            (
                staff.staff.as_str(),
                flow.payment_count,
                flow.net.as_ref().expect("net").minor_units,
            )
        })
        .collect();
    assert_eq!(
        by_staff,
        vec![
            ("manager:tester", 0, -10_000),
            ("reception:ana", 2, 90_000),
            ("reception:beto", 2, 30_000),
        ]
    );
    assert_eq!(
        (close.charge_count, close.total_charged),
        (3, Some(mxn(160_000)))
    );
    assert_eq!(
        (close.payment_count, close.total_received),
        (4, Some(mxn(120_000)))
    );
    assert_eq!(
        (close.refund_count, close.total_refunded),
        (1, Some(mxn(10_000)))
    );
    assert_eq!(close.net_income, Some(mxn(110_000)));
    let owing: Vec<(&str, i64)> = close
        .outstanding_accounts
        .iter()
        .map(|account| {
            (
                account.patient_id.as_str(),
                account.balance.as_ref().expect("balance").minor_units,
            )
        })
        .collect();
    assert_eq!(
        owing,
        vec![
            (day.part_paid.as_str(), 50_000),
            (day.from_yesterday.as_str(), 20_000),
            (day.paid_less_refund.as_str(), 10_000),
        ]
    );
    assert_eq!(close.total_outstanding, Some(mxn(80_000)));
    assert_eq!(close.drawer_closes.len(), 1);
    let drawer = &close.drawer_closes[0];
    assert_eq!(drawer.session_id, day.session_id);
    assert_eq!(drawer.terminal_id, "counter-1");
    assert_eq!(drawer.state(), pb::CashDrawerState::PendingApproval);
    // Reception's close is blind: what was counted, not what was expected.
    assert_eq!(drawer.expected, None);
    assert_eq!(drawer.counted, Some(mxn(90_000)));
    assert_eq!(drawer.difference, None);
    assert_eq!(drawer.closed_by, "reception:ana");
    let managers = clinic
        .client(Role::Manager)
        .await
        .get_daily_close(pb::GetDailyCloseRequest { day: None })
        .await
        .expect("the close is read")
        .into_inner();
    let drawer = &managers.drawer_closes[0];
    assert_eq!(drawer.expected, Some(mxn(100_000)));
    assert_eq!(drawer.counted, Some(mxn(90_000)));
    assert_eq!(drawer.difference, Some(mxn(-10_000)));
}

async fn a_manager_reads_an_earlier_day_with_what_was_owed_at_its_end(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let day = post_the_day(&clinic).await;

    // Act
    let close = clinic
        .client(Role::Manager)
        .await
        .get_daily_close(pb::GetDailyCloseRequest {
            day: Some(november(21)),
        })
        .await
        .expect("the close is read")
        .into_inner();

    // Assert: on the 21st only the back-dated X-ray had been given, and nothing paid.
    assert_eq!(close.day, Some(november(21)));
    assert_eq!(close.charge_count, 1);
    assert_eq!(close.total_charged, Some(mxn(30_000)));
    assert_eq!(close.payment_count, 0);
    assert_eq!(close.net_income, Some(mxn(0)));
    assert!(close.income_by_staff.is_empty());
    assert_eq!(close.income_by_method.len(), 4, "every method is listed");
    let owing: Vec<&str> = close
        .outstanding_accounts
        .iter()
        .map(|account| account.patient_id.as_str())
        .collect();
    assert_eq!(owing, vec![day.from_yesterday.as_str()]);
    assert_eq!(close.total_outstanding, Some(mxn(30_000)));
    assert!(close.drawer_closes.is_empty());
}

async fn reception_may_close_today_only(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let today = reception
        .get_daily_close(pb::GetDailyCloseRequest {
            day: Some(november(22)),
        })
        .await;
    let yesterday = reception
        .get_daily_close(pb::GetDailyCloseRequest {
            day: Some(november(21)),
        })
        .await
        .expect_err("refused");
    let export_yesterday = reception
        .export_daily_close(pb::ExportDailyCloseRequest {
            day: Some(november(21)),
            format: pb::ReportFormat::Csv.into(),
            language: String::new(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert!(today.is_ok());
    assert_eq!(yesterday.code(), Code::PermissionDenied);
    assert_eq!(export_yesterday.code(), Code::PermissionDenied);
}

/// RFC 4180 records: fields split on commas outside quotes, `""` inside quotes is one quote.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    for line in text.split("\r\n").filter(|line| !line.is_empty()) {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        fields.push(field);
        records.push(fields);
    }
    records
}

async fn the_csv_export_has_a_header_and_the_report_figures(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let day = post_the_day(&clinic).await;

    // Act
    let export = clinic
        .client(Role::Manager)
        .await
        .export_daily_close(pb::ExportDailyCloseRequest {
            day: None,
            format: pb::ReportFormat::Csv.into(),
            language: String::new(),
        })
        .await
        .expect("exported")
        .into_inner();

    // Assert
    assert_eq!(export.content_type, "text/csv; charset=utf-8");
    assert_eq!(export.file_name, "daily-close-2026-11-22.csv");
    let text = String::from_utf8(export.content).expect("UTF-8");
    let records = parse_csv(&text);
    assert_eq!(
        records[0],
        vec!["section", "item", "description", "count", "amount"]
    );
    let amount_of = |section: &str, item: &str| -> (String, String) {
        let record = records
            .iter()
            .find(|record| record[0] == section && record[1] == item)
            .unwrap_or_else(|| panic!("a {section} row for {item}"));
        (record[3].clone(), record[4].clone())
    };
    assert_eq!(
        amount_of("income_by_method", "cash"),
        ("1".into(), "400.00".into())
    );
    assert_eq!(
        amount_of("income_by_method", "card_credit"),
        ("1".into(), "100.00".into())
    );
    assert_eq!(
        amount_of("income_by_method", "card_debit"),
        ("1".into(), "400.00".into())
    );
    assert_eq!(
        amount_of("income_by_method", "bank_transfer"),
        ("1".into(), "200.00".into())
    );
    assert_eq!(
        amount_of("income_by_service", "XRAY"),
        ("1".into(), "600.00".into())
    );
    assert_eq!(
        amount_of("income_by_staff", "manager:tester"),
        ("0".into(), "-100.00".into())
    );
    assert_eq!(
        amount_of("total", "net_income"),
        ("4".into(), "1100.00".into())
    );
    assert_eq!(
        amount_of("total", "outstanding"),
        ("3".into(), "800.00".into())
    );
    assert_eq!(
        amount_of("outstanding", &day.part_paid),
        (String::new(), "500.00".into())
    );
    assert_eq!(
        amount_of("drawer_difference", "counter-1"),
        (String::new(), "-100.00".into())
    );
    assert!(
        records.iter().all(|record| record.len() == 5),
        "every record has the header's five fields"
    );
}

async fn the_xlsx_export_is_a_workbook_with_the_daily_close_sheet(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    post_the_day(&clinic).await;

    // Act
    let export = clinic
        .client(Role::Reception)
        .await
        .export_daily_close(pb::ExportDailyCloseRequest {
            day: Some(november(22)),
            format: pb::ReportFormat::Xlsx.into(),
            language: String::new(),
        })
        .await
        .expect("exported")
        .into_inner();

    // Assert: a zip (local file header signature) holding a workbook with one worksheet. Entry
    // names are stored uncompressed, so they can be found without unzipping.
    assert_eq!(
        export.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(export.file_name, "daily-close-2026-11-22.xlsx");
    assert!(export.content.starts_with(b"PK\x03\x04"));
    let contains = |needle: &[u8]| {
        export
            .content
            .windows(needle.len())
            .any(|window| window == needle)
    };
    assert!(contains(b"xl/workbook.xml"));
    assert!(contains(b"xl/worksheets/sheet1.xml"));
    assert!(!contains(b"xl/worksheets/sheet2.xml"));
}

async fn bad_close_requests_name_every_bad_field(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.client(Role::Manager).await;

    // Act
    let tomorrow = manager
        .get_daily_close(pb::GetDailyCloseRequest {
            day: Some(november(23)),
        })
        .await
        .expect_err("refused");
    let both_wrong = manager
        .export_daily_close(pb::ExportDailyCloseRequest {
            day: Some(Date {
                year: 2026,
                month: 2,
                day: 30,
            }),
            format: pb::ReportFormat::Unspecified.into(),
            language: String::new(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(tomorrow.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&tomorrow), vec!["day"]);
    assert_eq!(both_wrong.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&both_wrong), vec!["day", "format"]);
}

async fn the_close_reports_providers_packages_corrections_advances_and_discounts(
    database: TestDatabase,
) {
    let clinic = TestClinic::start_with_scheduling(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    let mut manager = clinic.client(Role::Manager).await;
    manager
        .create_price_list_item(pb::CreatePriceListItemRequest {
            item: Some(pb::PriceListItem {
                code: "PAQ-LIMP".into(),
                description: "Tres limpiezas".into(),
                unit_price: Some(mxn(200_000)),
                kind: pb::PriceListItemKind::Package.into(),
                package_sessions: 3,
                package_covers: "LIMP-01".into(),
                ..Default::default()
            }),
            request_id: "item-PAQ-LIMP".into(),
        })
        .await
        .expect("the package is listed");
    let mut reception = clinic.client(Role::Reception).await;
    // Ana's visit with the dentist, charged from scheduling with 10% off: 720.00.
    let ana = clinic.register_patient().await;
    let appointment_id = crate::appointments::visit(&clinic, &ana, true).await;
    let visit = reception
        .post_appointment_charge(pb::PostAppointmentChargeRequest {
            appointment_id,
            discount: Some(pb::AdHocDiscount {
                discount: Some(pb::ad_hoc_discount::Discount::Percent(10)),
                reason: "Paciente frecuente".into(),
            }),
            request_id: "visit".into(),
            ..Default::default()
        })
        .await
        .expect("charged")
        .into_inner();
    manager
        .write_off_charge(pb::WriteOffChargeRequest {
            charge_id: visit.charge_id,
            amount: Some(mxn(2_000)),
            reason: "Redondeo".into(),
            request_id: "write-off".into(),
        })
        .await
        .expect("written off");
    // Beto buys the package and pays 2,500.00 by card, 500.00 left as advance; a credit note of
    // 100.00 on the package adds to it; a cleaning charged in full is paid 600.00 from the
    // advance and 200.00 in cash.
    let beto = clinic.register_patient().await;
    let package = reception
        .post_charge(charge(&beto, "PAQ-LIMP", "sell-package"))
        .await
        .expect("sold")
        .into_inner();
    reception
        .post_payment(card(&beto, 250_000, "pay-package"))
        .await
        .expect("paid");
    manager
        .issue_credit_note(pb::IssueCreditNoteRequest {
            charge_id: package.charge_id,
            amount: Some(mxn(10_000)),
            reason: "Promoción no aplicada".into(),
            request_id: "credit".into(),
        })
        .await
        .expect("credited");
    reception
        .post_charge(pb::PostChargeRequest {
            skip_package: true,
            ..charge(&beto, "LIMP-01", "cleaning-apart")
        })
        .await
        .expect("charged");
    reception
        .post_payment(pb::PostPaymentRequest {
            patient_id: beto.clone(),
            parts: vec![
                pb::PaymentPartRequest {
                    amount: Some(mxn(60_000)),
                    method: Some(PartMethod::Advance(pb::AdvancePayment {})),
                },
                pb::PaymentPartRequest {
                    amount: Some(mxn(20_000)),
                    method: Some(PartMethod::Cash(pb::CashPayment {
                        tendered: Some(mxn(20_000)),
                    })),
                },
            ],
            request_id: "pay-advance-and-cash".into(),
            ..Default::default()
        })
        .await
        .expect("paid");
    reception
        .close_day(pb::CloseDayRequest { day: None })
        .await
        .expect("closed");

    // Act
    let close = reception
        .get_daily_close(pb::GetDailyCloseRequest { day: None })
        .await
        .expect("the close")
        .into_inner();
    let csv = reception
        .export_daily_close(pb::ExportDailyCloseRequest {
            day: None,
            format: pb::ReportFormat::Csv.into(),
            language: String::new(),
        })
        .await
        .expect("the export")
        .into_inner();

    // Assert
    let providers: Vec<(&str, i64, i64)> = close
        .income_by_provider
        .iter()
        .map(|provider| {
            (
                provider.provider_name.as_str(),
                provider.charge_count,
                provider
                    .amount
                    .as_ref()
                    .map_or(0, |money| money.minor_units),
            )
        })
        .collect();
    assert_eq!(providers, [("Dra. Ana Ruiz", 1, 72_000), ("", 2, 280_000)]);
    assert_eq!(close.packages_sold.len(), 1);
    assert_eq!(close.packages_sold[0].package_code, "PAQ-LIMP");
    assert_eq!(close.packages_sold[0].amount, Some(mxn(200_000)));
    let corrections: Vec<(pb::CorrectionKind, i64, i64)> = close
        .corrections
        .iter()
        .map(|total| {
            (
                total.kind(),
                total.count,
                total.amount.as_ref().map_or(0, |money| money.minor_units),
            )
        })
        .collect();
    assert_eq!(
        corrections,
        [
            (pb::CorrectionKind::Adjustment, 0, 0),
            (pb::CorrectionKind::CreditNote, 1, -10_000),
            (pb::CorrectionKind::WriteOff, 1, -2_000),
        ]
    );
    assert_eq!(close.advance_applied_count, 1);
    assert_eq!(close.advance_applied, Some(mxn(60_000)));
    assert_eq!(close.discount_count, 1);
    assert_eq!(close.total_discounts, Some(mxn(8_000)));
    assert_eq!(close.payment_count, 2);
    assert_eq!(close.total_received, Some(mxn(270_000)));
    assert_eq!(
        close.closed.as_ref().map(|closed| closed.day),
        Some(Some(november(22)))
    );
    let csv = String::from_utf8(csv.content).expect("UTF-8");
    assert!(csv.contains("income_by_provider,"), "{csv}");
    assert!(
        csv.contains("packages_sold,PAQ-LIMP,Tres limpiezas,1,2000.00"),
        "{csv}"
    );
    assert!(csv.contains("corrections,credit_note,"), "{csv}");
    assert!(csv.contains("total,advance_applied,"), "{csv}");
    assert!(csv.contains("day_closed,reception:tester,"), "{csv}");
}

async fn the_export_speaks_the_language_asked_for_and_stays_blind_to_reception(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    post_the_day(&clinic).await;
    let export = |role: Role, language: &'static str| {
        let clinic = &clinic;
        async move {
            clinic
                .client(role)
                .await
                .export_daily_close(pb::ExportDailyCloseRequest {
                    day: None,
                    format: pb::ReportFormat::Csv.into(),
                    language: language.into(),
                })
                .await
        }
    };

    // Act
    let spanish = export(Role::Reception, "es-MX").await.expect("exported");
    let chinese = export(Role::Manager, "zh").await.expect("exported");
    let unknown = export(Role::Manager, "fr").await.expect_err("refused");

    // Assert: the header and descriptions in the language asked for; the keys unchanged.
    let spanish = parse_csv(&String::from_utf8(spanish.into_inner().content).expect("UTF-8"));
    assert_eq!(
        spanish[0],
        vec!["sección", "concepto", "descripción", "cantidad", "importe"]
    );
    let row = |records: &[Vec<String>], section: &str, item: &str| {
        records
            .iter()
            .find(|record| record[0] == section && record[1] == item)
            .cloned()
            .unwrap_or_else(|| panic!("a {section} row for {item}"))
    };
    assert!(row(&spanish, "income_by_method", "cash")[2].starts_with("Efectivo: "));
    // Reception's file is blind: what was counted, no expected amount, no difference.
    let drawer = row(&spanish, "drawer_difference", "counter-1");
    assert!(drawer[2].contains("contado 900.00"), "{drawer:?}");
    assert!(!drawer[2].contains("esperado"), "{drawer:?}");
    assert_eq!(drawer[4], "");
    let chinese = parse_csv(&String::from_utf8(chinese.into_inner().content).expect("UTF-8"));
    assert_eq!(chinese[0], vec!["类别", "项目", "说明", "数量", "金额"]);
    let drawer = row(&chinese, "drawer_difference", "counter-1");
    assert!(drawer[2].contains("应有 1000.00"), "{drawer:?}");
    assert_eq!(drawer[4], "-100.00");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&unknown), ["language"]);
}
