//! The collections KPIs as a file: CSV (UTF-8, header `kpi,item,value`) or XLSX (one sheet,
//! "Collections KPIs", a bold header). Both are laid out from the same rows, so they agree with
//! each other and with `GetCollectionsKpis`. Values are written as computed numbers, never
//! formulas (a formula's cached value is 0 until a spreadsheet recalculates).

use chrono::NaiveDate;
use clinic_common::Money;

use crate::domain::{Kpis, Period};

pub const SHEET_NAME: &str = "Collections KPIs";
const COLUMNS: [&str; 3] = ["kpi", "item", "value"];

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

    /// e.g. `collections-kpis-month-2026-11-01.csv`.
    pub fn file_name(&self, period: Period, start: NaiveDate) -> String {
        let extension = match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        };
        format!(
            "collections-kpis-{}-{}.{extension}",
            period.as_str(),
            start.format("%Y-%m-%d")
        )
    }
}

/// A value in a row: a plain number (money as a decimal, percentages with two places).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    /// A number with `places` decimals, held as an integer scaled by 10^places.
    Scaled {
        units: i64,
        places: u32,
    },
    Empty,
}

struct Row {
    kpi: &'static str,
    item: String,
    value: Value,
}

fn money(amount: Money) -> Value {
    Value::Scaled {
        units: amount.minor_units(),
        places: amount.currency().minor_unit_digits(),
    }
}

fn percent(basis_points: Option<i64>) -> Value {
    basis_points.map_or(Value::Empty, |units| Value::Scaled { units, places: 2 })
}

fn rows(kpis: &Kpis, period: Period, start: NaiveDate, end: NaiveDate) -> Vec<Row> {
    let row = |kpi, value| Row {
        kpi,
        item: String::new(),
        value,
    };
    let mut rows = vec![
        row("period", Value::Text(period.as_str().to_owned())),
        row(
            "period_start",
            Value::Text(start.format("%Y-%m-%d").to_string()),
        ),
        row(
            "period_end",
            Value::Text(end.format("%Y-%m-%d").to_string()),
        ),
        row("collected", money(kpis.collected)),
        row("collectible", money(kpis.collectible)),
        row("recovery_rate_percent", percent(kpis.recovery_rate_bp)),
        row("receivables", money(kpis.receivables)),
        row("current_receivables_percent", percent(kpis.current_bp)),
        row("overdue_receivables_percent", percent(kpis.overdue_bp)),
        row(
            "dso_days",
            kpis.dso_centidays
                .map_or(Value::Empty, |units| Value::Scaled { units, places: 2 }),
        ),
        row("promises_kept_percent", percent(kpis.promises_kept_bp)),
        row(
            "promises_judged",
            Value::Scaled {
                units: kpis.promises_judged,
                places: 0,
            },
        ),
        row(
            "follow_ups_on_time_percent",
            percent(kpis.follow_ups_on_time_bp),
        ),
        row(
            "follow_ups_due",
            Value::Scaled {
                units: kpis.follow_ups_due,
                places: 0,
            },
        ),
    ];
    for (collector, collected, _) in &kpis.by_collector {
        rows.push(Row {
            kpi: "collected_by_collector",
            item: collector.clone(),
            value: money(*collected),
        });
    }
    rows
}

fn decimal(units: i64, places: u32) -> String {
    if places == 0 {
        return units.to_string();
    }
    let scale = 10_i64.pow(places);
    let sign = if units < 0 { "-" } else { "" };
    let magnitude = units.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale.unsigned_abs(),
        magnitude % scale.unsigned_abs(),
        width = places as usize
    )
}

/// Free text (collectors' subjects) a spreadsheet would take for a formula is prefixed with `'`.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Renders the KPIs. CPU work: call it from `spawn_blocking`.
pub fn render(
    kpis: &Kpis,
    period: Period,
    start: NaiveDate,
    end: NaiveDate,
    format: ExportFormat,
) -> anyhow::Result<Vec<u8>> {
    let rows = rows(kpis, period, start, end);
    match format {
        ExportFormat::Csv => {
            let mut csv = COLUMNS.join(",");
            csv.push_str("\r\n");
            for row in &rows {
                let value = match &row.value {
                    Value::Text(text) => csv_field(text),
                    Value::Scaled { units, places } => decimal(*units, *places),
                    Value::Empty => String::new(),
                };
                csv.push_str(&format!(
                    "{},{},{}\r\n",
                    row.kpi,
                    csv_field(&text_cell(&row.item)),
                    value
                ));
            }
            Ok(csv.into_bytes())
        }
        ExportFormat::Xlsx => {
            use rust_xlsxwriter::{Format, Workbook};
            let mut workbook = Workbook::new();
            let bold = Format::new().set_bold();
            let sheet = workbook.add_worksheet();
            sheet.set_name(SHEET_NAME)?;
            for (column, title) in (0_u16..).zip(COLUMNS) {
                sheet.write_string_with_format(0, column, title, &bold)?;
            }
            for (number, row) in (1_u32..).zip(&rows) {
                sheet.write_string(number, 0, row.kpi)?;
                sheet.write_string(number, 1, text_cell(&row.item))?;
                match &row.value {
                    Value::Text(text) => {
                        sheet.write_string(number, 2, text)?;
                    }
                    Value::Scaled { units, places } => {
                        // A spreadsheet number is a double: the one place a figure becomes one.
                        let format = Format::new().set_num_format(if *places == 0 {
                            "0"
                        } else {
                            "#,##0.00"
                        });
                        let value = *units as f64 / 10_f64.powi(*places as i32);
                        sheet.write_number_with_format(number, 2, value, &format)?;
                    }
                    Value::Empty => {}
                }
            }
            sheet.set_column_width(0, 30)?;
            sheet.set_column_width(1, 30)?;
            sheet.set_column_width(2, 16)?;
            Ok(workbook.save_to_buffer()?)
        }
    }
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    #[test]
    fn the_csv_has_one_row_per_kpi_with_plain_decimals() {
        let mxn = |minor| Money::from_minor(minor, Currency::MXN);
        let kpis = Kpis {
            collected: mxn(95_000),
            collectible: mxn(100_000),
            recovery_rate_bp: Some(9_500),
            receivables: mxn(5_000),
            current_bp: Some(10_000),
            overdue_bp: Some(0),
            dso_centidays: None,
            promises_kept_bp: Some(5_000),
            promises_judged: 2,
            follow_ups_on_time_bp: None,
            follow_ups_due: 0,
            by_collector: vec![("collections:ana".into(), mxn(40_000), 2)],
        };
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid");

        let csv = String::from_utf8(
            render(&kpis, Period::Month, day, day, ExportFormat::Csv).expect("renders"),
        )
        .expect("UTF-8");

        assert!(csv.starts_with("kpi,item,value\r\n"));
        assert!(csv.contains("recovery_rate_percent,,95.00\r\n"));
        assert!(csv.contains("collected,,950.00\r\n"));
        assert!(csv.contains("dso_days,,\r\n"));
        assert!(csv.contains("collected_by_collector,collections:ana,400.00\r\n"));
        assert_eq!(decimal(-5, 2), "-0.05");
    }
}
