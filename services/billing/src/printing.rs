//! Receipts on paper: rendering a receipt's lines as ESC/POS bytes for a thermal printer or as a
//! PDF, and sending ESC/POS bytes to a network printer or writing them to a file or device.
//!
//! [`send_to_network_printer`] and [`write_to_device`] are public so that the counter client
//! prints the bytes `RenderReceipt` returns without knowing ESC/POS itself.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{JustifyMode, PageCode, Protocol};
use tokio::io::AsyncWriteExt;

use crate::domain::{LineStyle, RECEIPT_WIDTH, Receipt};

/// The port raw-printing network printers listen on (JetDirect / "port 9100").
pub const RAW_PRINTING_PORT: u16 = 9100;

/// Sends `bytes` (an ESC/POS job) to the printer at `address` (`host:port`, usually port
/// [`RAW_PRINTING_PORT`]) and closes the connection. Connecting and writing each give up after
/// `timeout`, so a printer that is off or out of paper never hangs the counter.
pub async fn send_to_network_printer(
    address: SocketAddr,
    bytes: &[u8],
    timeout: Duration,
) -> anyhow::Result<()> {
    let mut stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address))
        .await
        .with_context(|| format!("the printer at {address} did not answer in time"))?
        .with_context(|| format!("failed to connect to the printer at {address}"))?;
    tokio::time::timeout(timeout, async {
        stream.write_all(bytes).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await
    .with_context(|| format!("the printer at {address} did not take the job in time"))?
    .with_context(|| format!("failed to send the job to the printer at {address}"))?;
    Ok(())
}

/// Writes `bytes` (an ESC/POS job) to a file or a printer device such as `/dev/usb/lp0`,
/// creating a regular file when none exists.
pub fn write_to_device(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .with_context(|| format!("failed to write to {}", path.display()))
}

/// Collects what the printer would be sent.
#[derive(Clone, Default)]
struct MemoryDriver {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl Driver for MemoryDriver {
    fn name(&self) -> String {
        "memory".to_owned()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// The receipt as an ESC/POS job: initialise, select code page PC858 (which has the Spanish
/// accents and ñ), the lines, a QR code of the receipt number, feed and cut.
pub(crate) fn render_escpos(receipt: &Receipt) -> anyhow::Result<Vec<u8>> {
    let driver = MemoryDriver::default();
    let options = PrinterOptions::new(Some(PageCode::PC858), None, RECEIPT_WIDTH as u8);
    let mut printer = Printer::new(driver.clone(), Protocol::default(), Some(options));
    let escpos = |error: escpos::errors::PrinterError| anyhow::anyhow!("escpos: {error}");
    printer.init().map_err(escpos)?;
    for line in receipt.lines() {
        match line.style {
            LineStyle::Title => {
                printer
                    .justify(JustifyMode::CENTER)
                    .and_then(|printer| printer.bold(true))
                    .and_then(|printer| printer.size(1, 2))
                    .and_then(|printer| printer.custom(&pc858(&line.text)))
                    .and_then(|printer| printer.feed())
                    .and_then(|printer| printer.reset_size())
                    .and_then(|printer| printer.bold(false))
                    .and_then(|printer| printer.justify(JustifyMode::LEFT))
                    .map_err(escpos)?;
            }
            LineStyle::Centered => {
                printer
                    .justify(JustifyMode::CENTER)
                    .and_then(|printer| printer.custom(&pc858(&line.text)))
                    .and_then(|printer| printer.feed())
                    .and_then(|printer| printer.justify(JustifyMode::LEFT))
                    .map_err(escpos)?;
            }
            LineStyle::Bold => {
                printer
                    .bold(true)
                    .and_then(|printer| printer.custom(&pc858(&line.text)))
                    .and_then(|printer| printer.feed())
                    .and_then(|printer| printer.bold(false))
                    .map_err(escpos)?;
            }
            LineStyle::Plain | LineStyle::Rule => {
                printer
                    .custom(&pc858(&line.text))
                    .and_then(|printer| printer.feed())
                    .map_err(escpos)?;
            }
        }
    }
    printer
        .justify(JustifyMode::CENTER)
        .and_then(|printer| printer.qrcode(&receipt.number()))
        .and_then(|printer| printer.feeds(3))
        .and_then(|printer| printer.print_cut())
        .map_err(escpos)?;
    let bytes = std::mem::take(&mut *driver.bytes.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(bytes)
}

/// The receipt as a one-page PDF the width of a thermal roll (80 mm), in the builtin Courier so
/// that the columns line up as on paper and no font file is needed.
pub(crate) fn render_pdf(receipt: &Receipt) -> Vec<u8> {
    use printpdf::{
        BuiltinFont, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
        TextItem,
    };

    const FONT_SIZE: f32 = 8.0;
    const LINE_HEIGHT_MM: f32 = 4.0;
    const MARGIN_MM: f32 = 5.0;
    let lines = receipt.lines();
    let height = MARGIN_MM * 2.0 + LINE_HEIGHT_MM * (lines.len() as f32 + 1.0);
    let regular = PdfFontHandle::Builtin(BuiltinFont::Courier);
    let bold = PdfFontHandle::Builtin(BuiltinFont::CourierBold);
    let mut ops = vec![
        Op::StartTextSection,
        Op::SetLineHeight {
            lh: Mm(LINE_HEIGHT_MM).into_pt(),
        },
        Op::SetTextCursor {
            pos: Point {
                x: Mm(MARGIN_MM).into_pt(),
                y: Mm(height - MARGIN_MM - LINE_HEIGHT_MM).into_pt(),
            },
        },
    ];
    for line in lines {
        let (font, text) = match line.style {
            LineStyle::Title => (bold.clone(), centred(&line.text)),
            LineStyle::Centered => (regular.clone(), centred(&line.text)),
            LineStyle::Bold => (bold.clone(), line.text),
            LineStyle::Plain | LineStyle::Rule => (regular.clone(), line.text),
        };
        ops.push(Op::SetFont {
            font,
            size: Pt(FONT_SIZE),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text)],
        });
        ops.push(Op::AddLineBreak);
    }
    ops.push(Op::EndTextSection);
    let page = PdfPage::new(Mm(80.0), Mm(height), ops);
    let mut document = PdfDocument::new(&format!("Recibo {}", receipt.number()));
    document.with_pages(vec![page]);
    let mut warnings = Vec::new();
    document.save(&PdfSaveOptions::default(), &mut warnings)
}

/// `text` in code page PC858, the one `init` selects. Encoded here rather than by the escpos
/// crate: its PC858 table (0.20.1) maps ASCII `-` to 0xF0 (the soft hyphen), which would garble
/// every receipt number and rule. ASCII passes through; the accented letters and signs a Spanish
/// receipt uses are mapped; anything else prints as `?`.
fn pc858(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len());
    for character in text.chars() {
        let byte = match character {
            ' '..='~' => character as u8,
            'ü' => 0x81,
            'é' => 0x82,
            'É' => 0x90,
            'Ü' => 0x9a,
            'á' => 0xa0,
            'í' => 0xa1,
            'ó' => 0xa2,
            'ú' => 0xa3,
            'ñ' => 0xa4,
            'Ñ' => 0xa5,
            '¿' => 0xa8,
            '¡' => 0xad,
            'Á' => 0xb5,
            'Í' => 0xd6,
            '€' => 0xd5,
            'Ó' => 0xe0,
            'Ú' => 0xe9,
            '°' => 0xf8,
            _ => b'?',
        };
        bytes.push(byte);
    }
    bytes
}

/// `text` padded on the left to sit in the middle of a receipt line (the font is monospaced).
fn centred(text: &str) -> String {
    let padding = RECEIPT_WIDTH.saturating_sub(text.chars().count()) / 2;
    format!("{}{text}", " ".repeat(padding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc858_keeps_ascii_and_maps_spanish_letters() {
        assert_eq!(pc858("R-000001 $1,000.00"), b"R-000001 $1,000.00");
        assert_eq!(pc858("Clínica Ñandú €"), b"Cl\xa1nica \xa5and\xa3 \xd5");
        assert_eq!(pc858("日\u{7}"), b"??");
    }
}
