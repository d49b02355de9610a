//! Receipts to the counter's printer. Billing renders them (ESC/POS bytes for an 80 mm thermal
//! printer, or a PDF); this sends the bytes to the printer over TCP (port 9100, as network
//! thermal printers take them) or writes the PDF into the configured directory.

use std::path::Path;
use std::time::Duration;

use clinic_proto::billing::v1 as billing;
use tokio::io::AsyncWriteExt;

use crate::backend::{Backend, CallError, answer};
use crate::config::PrinterConfig;
use crate::i18n::{Lang, T, fill};

/// How long a printer may take to accept a connection and the bytes.
const PRINTER_TIMEOUT: Duration = Duration::from_secs(5);

/// Renders the receipt of `payment_id` and prints or saves it; answers what to tell staff.
pub async fn print_receipt(
    backend: Backend,
    printer: PrinterConfig,
    payment_id: String,
    receipt_number: String,
    lang: Lang,
) -> Result<String, CallError> {
    let format = match printer {
        PrinterConfig::Escpos { .. } => billing::ReceiptFormat::Escpos,
        PrinterConfig::Pdf { .. } => billing::ReceiptFormat::Pdf,
    };
    let mut client = backend.billing.clone();
    let rendered = answer(
        client
            .render_receipt(billing::RenderReceiptRequest {
                payment_id,
                format: format as i32,
            })
            .await,
    )?;
    let printer_error = |error: std::io::Error| {
        CallError::Refused(fill(
            T::PrinterDown.get(lang),
            &[("error", &error.to_string())],
        ))
    };
    match printer {
        PrinterConfig::Escpos { address } => {
            send_to_printer(address, &rendered.content)
                .await
                .map_err(printer_error)?;
            Ok(fill(
                T::ReceiptPrinted.get(lang),
                &[("receipt", &receipt_number)],
            ))
        }
        PrinterConfig::Pdf { directory } => {
            let path = save_pdf(&directory, &rendered.receipt_number, &rendered.content)
                .await
                .map_err(printer_error)?;
            Ok(fill(
                T::ReceiptSaved.get(lang),
                &[("path", &path.display().to_string())],
            ))
        }
    }
}

/// Sends raw ESC/POS bytes to a network printer and waits until they are handed over.
pub async fn send_to_printer(address: std::net::SocketAddr, bytes: &[u8]) -> std::io::Result<()> {
    let timed_out = || {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the printer did not answer in time",
        )
    };
    let mut stream = tokio::time::timeout(PRINTER_TIMEOUT, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| timed_out())??;
    tokio::time::timeout(PRINTER_TIMEOUT, async {
        stream.write_all(bytes).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await
    .map_err(|_| timed_out())?
}

async fn save_pdf(
    directory: &Path,
    receipt_number: &str,
    bytes: &[u8],
) -> std::io::Result<std::path::PathBuf> {
    tokio::fs::create_dir_all(directory).await?;
    let name: String = receipt_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = directory.join(format!("{name}.pdf"));
    tokio::fs::write(&path, bytes).await?;
    Ok(path)
}
