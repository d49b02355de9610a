//! The daily close as a file: CSV (UTF-8, a header row, amounts as plain decimals with the
//! currency's places) or XLSX (one sheet, a bold header, amounts as numbers formatted
//! `#,##0.00`). Both are laid out from [`DailyClose::rows`], so they always agree with each
//! other and with the report over gRPC. Written values are computed numbers, never formulas: a
//! formula's cached value is 0 until a spreadsheet recalculates, which naive readers never do.

use crate::domain::{DailyClose, DrawerView, ReportLanguage, ReportRow, decimal};

/// The formats the daily close is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn content_type(&self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    /// e.g. `daily-close-2026-11-22.csv`.
    pub fn file_name(&self, close: &DailyClose) -> String {
        let extension = match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        };
        format!("daily-close-{}.{extension}", close.day.format("%Y-%m-%d"))
    }
}

/// Renders the report in `language`, the drawers as `view` shows them. CPU work: call it from
/// `spawn_blocking`.
pub fn render(
    close: &DailyClose,
    format: ExportFormat,
    language: ReportLanguage,
    view: DrawerView,
) -> anyhow::Result<Vec<u8>> {
    let rows = close.rows(language, view)?;
    let words = language.words();
    match format {
        ExportFormat::Csv => Ok(render_csv(&rows, &words.columns).into_bytes()),
        ExportFormat::Xlsx => render_xlsx(&rows, &words.columns, words.sheet),
    }
}

fn render_csv(rows: &[ReportRow], columns: &[&str; 5]) -> String {
    let mut csv = String::new();
    csv.push_str(&columns.join(","));
    csv.push_str("\r\n");
    for row in rows {
        let fields = [
            csv_field(row.section),
            csv_field(&text_cell(&row.item)),
            csv_field(&text_cell(&row.description)),
            row.count.map(|count| count.to_string()).unwrap_or_default(),
            row.amount.map(decimal).unwrap_or_default(),
        ];
        csv.push_str(&fields.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Free text (price-list descriptions, staff subjects) that a spreadsheet would take for a
/// formula is prefixed with `'`, so opening the export never runs what someone typed.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn render_xlsx(
    rows: &[ReportRow],
    columns: &[&str; 5],
    sheet_name: &str,
) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};

    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name)?;
    for (column, title) in (0_u16..).zip(columns) {
        sheet.write_string_with_format(0, column, *title, &bold)?;
    }
    for (row_number, row) in (1_u32..).zip(rows) {
        sheet.write_string(row_number, 0, row.section)?;
        sheet.write_string(row_number, 1, text_cell(&row.item))?;
        sheet.write_string(row_number, 2, text_cell(&row.description))?;
        if let Some(count) = row.count {
            // Counts are far below 2^53, so a spreadsheet number holds them exactly.
            sheet.write_number(row_number, 3, count as f64)?;
        }
        if let Some(amount) = row.amount {
            // A spreadsheet number is a double: the one place money becomes one, for display.
            let scale = 10_f64.powi(amount.currency().minor_unit_digits() as i32);
            sheet.write_number_with_format(
                row_number,
                4,
                amount.minor_units() as f64 / scale,
                &money,
            )?;
        }
    }
    sheet.set_column_width(0, 20)?;
    sheet.set_column_width(1, 38)?;
    sheet.set_column_width(2, 60)?;
    sheet.set_column_width(4, 16)?;
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close() -> DailyClose {
        use crate::domain::{DayFigures, IncomeMethod, Tally};
        use clinic_common::{Currency, Money};
        DailyClose::assemble(DayFigures {
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("a valid day"),
            currency: Currency::MXN,
            payments_by_method: vec![(
                IncomeMethod::Cash,
                Tally {
                    count: 1,
                    amount: Money::from_minor(123_456, Currency::MXN),
                },
            )],
            refunds_by_method: Vec::new(),
            services: Vec::new(),
            payments_by_staff: Vec::new(),
            refunds_by_staff: Vec::new(),
            outstanding: Vec::new(),
            drawers: Vec::new(),
            payments: Tally {
                count: 1,
                amount: Money::from_minor(123_456, Currency::MXN),
            },
            providers: Vec::new(),
            packages_sold: Vec::new(),
            corrections: Vec::new(),
            advance_applied: Tally::zero(Currency::MXN),
            discounts: Tally::zero(Currency::MXN),
            closed: None,
        })
        .expect("in range")
    }

    #[test]
    fn both_formats_render_the_same_rows() {
        let csv = String::from_utf8(
            render(
                &close(),
                ExportFormat::Csv,
                ReportLanguage::En,
                DrawerView::Full,
            )
            .expect("rendered"),
        )
        .expect("UTF-8");
        assert!(csv.starts_with("section,item,description,count,amount\r\n"));
        assert!(
            csv.contains("income_by_method,cash,\"Cash: 1 payments, 0 refunds\",1,1234.56\r\n")
        );
        let xlsx = render(
            &close(),
            ExportFormat::Xlsx,
            ReportLanguage::En,
            DrawerView::Full,
        )
        .expect("rendered");
        assert!(xlsx.starts_with(b"PK\x03\x04"));
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("Limpieza, profunda"), "\"Limpieza, profunda\"");
        assert_eq!(
            csv_field("Corona \"zirconia\""),
            "\"Corona \"\"zirconia\"\"\""
        );
        assert_eq!(csv_field("CONS-01"), "CONS-01");
    }

    #[test]
    fn text_that_looks_like_a_formula_is_defused() {
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("Consulta"), "Consulta");
    }
}
