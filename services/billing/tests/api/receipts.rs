//! Receipts: ESC/POS bytes and PDF for a payment, and the bytes reaching a printer stand-in on
//! loopback.

use std::time::Duration;

use clinic_billing::printing::{send_to_network_printer, write_to_device};
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tokio::io::AsyncReadExt;
use tonic::Code;

use crate::{Client, TestClinic, card, cash, charge, transfer};

backend_tests!(
    an_escpos_receipt_carries_the_payment_and_the_days_charges,
    a_pdf_receipt_holds_the_same_text,
    a_card_receipt_shows_the_card_and_a_transfer_receipt_its_reference,
    the_receipt_reaches_a_network_printer_byte_for_byte,
    sending_to_a_printer_that_is_not_there_fails,
    the_receipt_can_be_written_to_a_file,
    receipts_need_a_known_payment_and_a_format,
);

const ESC_INIT: &[u8] = &[0x1b, b'@'];
/// `ESC t 19`: code page PC858.
const PC858: &[u8] = &[0x1b, b't', 19];
/// `GS V A 0`: full cut.
const CUT: &[u8] = &[0x1d, b'V', b'A', 0];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A patient charged for a cleaning ($900.00) and a check-up ($350.00) today.
async fn patient_with_two_charges(clinic: &TestClinic) -> String {
    let patient_id = clinic.register_patient().await;
    clinic.add_item("LIMP-01", 90_000).await;
    clinic.add_item("REV-01", 35_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    for (code, request_id) in [("LIMP-01", "charge-1"), ("REV-01", "charge-2")] {
        reception
            .post_charge(charge(&patient_id, code, request_id))
            .await
            .expect("charged");
    }
    patient_id
}

async fn render(
    client: &mut Client,
    payment_id: &str,
    format: pb::ReceiptFormat,
) -> pb::RenderedReceipt {
    client
        .render_receipt(pb::RenderReceiptRequest {
            payment_id: payment_id.into(),
            format: format.into(),
        })
        .await
        .expect("the receipt renders")
        .into_inner()
}

/// The text of every page of a PDF, as printpdf reads it back.
fn pdf_text(bytes: &[u8]) -> String {
    let mut warnings = Vec::new();
    let document =
        printpdf::PdfDocument::parse(bytes, &printpdf::PdfParseOptions::default(), &mut warnings)
            .expect("a readable PDF");
    let mut text = String::new();
    for page in &document.pages {
        for chunk in page.extract_text(&document.resources) {
            text.push_str(&chunk);
            text.push('\n');
        }
    }
    text
}

async fn an_escpos_receipt_carries_the_payment_and_the_days_charges(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_with_two_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;
    let payment = reception
        .post_payment(cash(&patient_id, 100_000, 120_000, "pay-1"))
        .await
        .expect("paid")
        .into_inner();

    // Act
    let receipt = render(
        &mut reception,
        &payment.payment_id,
        pb::ReceiptFormat::Escpos,
    )
    .await;

    // Assert
    let bytes = &receipt.content;
    assert_eq!(receipt.content_type, "application/vnd.escpos");
    assert_eq!(receipt.receipt_number, "R-000001");
    assert!(bytes.starts_with(ESC_INIT));
    assert!(contains(bytes, PC858));
    assert!(bytes.ends_with(CUT));
    // "Clínica Dental": í is 0xA1 in PC858.
    assert!(contains(bytes, b"Cl\xa1nica Dental"));
    // Printed (after the label's padding), and again as the QR code's payload.
    assert!(contains(bytes, b" R-000001"));
    assert!(contains(bytes, b"22/11/2026 12:00"), "local time, not UTC");
    assert!(contains(
        bytes,
        patient_id[patient_id.len() - 8..]
            .to_ascii_uppercase()
            .as_bytes()
    ));
    assert!(contains(bytes, b"LIMP-01 x1 Servicio LIMP-01"));
    assert!(contains(bytes, b"$900.00"));
    assert!(contains(bytes, b"REV-01 x1 Servicio REV-01"));
    assert!(contains(bytes, b"$350.00"));
    assert!(contains(bytes, b"Efectivo"));
    assert!(contains(bytes, b"$1,200.00"), "tendered");
    assert!(contains(bytes, b"$200.00"), "change");
    assert!(contains(bytes, b"$1,000.00"), "amount");
    assert!(contains(bytes, b"Saldo pendiente"));
    assert!(contains(bytes, b"$250.00"), "balance remaining");
}

async fn a_pdf_receipt_holds_the_same_text(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_with_two_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;
    let payment = reception
        .post_payment(cash(&patient_id, 100_000, 120_000, "pay-1"))
        .await
        .expect("paid")
        .into_inner();

    // Act
    let receipt = render(&mut reception, &payment.payment_id, pb::ReceiptFormat::Pdf).await;

    // Assert
    assert_eq!(receipt.content_type, "application/pdf");
    assert!(receipt.content.starts_with(b"%PDF-"));
    let text = pdf_text(&receipt.content);
    for expected in [
        "R-000001",
        "22/11/2026 12:00",
        "LIMP-01 x1 Servicio LIMP-01",
        "REV-01 x1 Servicio REV-01",
        "$1,200.00",
        "$200.00",
        "Saldo pendiente",
        "$250.00",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from {text:?}"
        );
    }
}

async fn a_card_receipt_shows_the_card_and_a_transfer_receipt_its_reference(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_with_two_charges(&clinic).await;
    let mut collections = clinic.client(Role::Collections).await;
    let by_card = collections
        .post_payment(card(&patient_id, 25_000, "pay-1"))
        .await
        .expect("paid")
        .into_inner();
    let by_transfer = collections
        .post_payment(transfer(&patient_id, 150_000, "pay-2"))
        .await
        .expect("paid")
        .into_inner();

    // Act
    let card_receipt = render(
        &mut collections,
        &by_card.payment_id,
        pb::ReceiptFormat::Escpos,
    )
    .await;
    let transfer_receipt = render(
        &mut collections,
        &by_transfer.payment_id,
        pb::ReceiptFormat::Escpos,
    )
    .await;

    // Assert
    let card_bytes = &card_receipt.content;
    assert!(contains(card_bytes, b"**** 4242"));
    assert!(contains(card_bytes, b"A1B2C3"));
    assert!(contains(card_bytes, b"Tarjeta de d\x82bito"), "é is 0x82");
    assert!(!contains(card_bytes, b"Efectivo"));
    let transfer_bytes = &transfer_receipt.content;
    assert_eq!(transfer_receipt.receipt_number, "R-000002");
    assert!(contains(transfer_bytes, b"SPEI 20261122 0001"));
    // 1250 charged, 250 + 1500 paid: 500 in the patient's favour.
    assert!(contains(transfer_bytes, b"Saldo a favor"));
    assert!(contains(transfer_bytes, b"$500.00"));
}

async fn the_receipt_reaches_a_network_printer_byte_for_byte(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = patient_with_two_charges(&clinic).await;
    let mut reception = clinic.client(Role::Reception).await;
    let payment = reception
        .post_payment(cash(&patient_id, 125_000, 125_000, "pay-1"))
        .await
        .expect("paid")
        .into_inner();
    let receipt = render(
        &mut reception,
        &payment.payment_id,
        pb::ReceiptFormat::Escpos,
    )
    .await;
    // The printer stand-in: takes one connection and keeps everything sent until it closes.
    let printer = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let printer_address = printer.local_addr().expect("an address");
    let received = tokio::spawn(async move {
        let (mut connection, _) = printer.accept().await.expect("a connection");
        let mut bytes = Vec::new();
        connection
            .read_to_end(&mut bytes)
            .await
            .expect("the job is read");
        bytes
    });

    // Act
    send_to_network_printer(printer_address, &receipt.content, Duration::from_secs(5))
        .await
        .expect("the job is sent");

    // Assert
    let bytes = received.await.expect("the stand-in ran");
    assert_eq!(bytes, receipt.content);
    assert!(bytes.starts_with(ESC_INIT));
    assert!(contains(&bytes, payment.receipt_number.as_bytes()));
    assert!(bytes.ends_with(CUT));
}

async fn sending_to_a_printer_that_is_not_there_fails(_database: TestDatabase) {
    // A port that was just free and is no longer listened on.
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = gone.local_addr().expect("an address");
    drop(gone);

    // Act
    let sent = send_to_network_printer(address, b"\x1b@", Duration::from_secs(2)).await;

    // Assert
    assert!(sent.is_err());
}

async fn the_receipt_can_be_written_to_a_file(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    let payment = reception
        .post_payment(cash(&patient_id, 10_000, 10_000, "pay-1"))
        .await
        .expect("paid")
        .into_inner();
    let receipt = render(
        &mut reception,
        &payment.payment_id,
        pb::ReceiptFormat::Escpos,
    )
    .await;
    let directory = tempfile::tempdir().expect("a directory");
    let path = directory.path().join("ticket.bin");

    // Act
    write_to_device(&path, &receipt.content).expect("written");

    // Assert
    assert_eq!(std::fs::read(&path).expect("readable"), receipt.content);
}

async fn receipts_need_a_known_payment_and_a_format(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let invalid = reception
        .render_receipt(pb::RenderReceiptRequest {
            payment_id: "R-000001".into(),
            format: 0,
        })
        .await
        .expect_err("refused");
    let unknown = reception
        .render_receipt(pb::RenderReceiptRequest {
            payment_id: clinic_common::ids::PaymentId::new().to_string(),
            format: pb::ReceiptFormat::Pdf.into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&invalid), ["payment_id", "format"]);
    assert_eq!(unknown.code(), Code::NotFound);
}
