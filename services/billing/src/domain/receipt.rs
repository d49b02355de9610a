//! A payment receipt as text lines: what is printed, laid out once for a 42-column thermal
//! printer, so that the ESC/POS ticket and the PDF carry exactly the same content. Labels are
//! Spanish, the clinic's language.

use chrono::NaiveDateTime;
use clinic_common::Money;

use super::{Charge, Payment, PaymentMethod};

/// Characters per line of an 80 mm thermal printer in its standard font.
pub const RECEIPT_WIDTH: usize = 42;

/// How a line is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    /// The clinic's name: centred, emphasised.
    Title,
    /// Centred.
    Centered,
    Plain,
    /// Totals: emphasised.
    Bold,
    /// A rule across the width.
    Rule,
}

/// One printed line, at most [`RECEIPT_WIDTH`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub style: LineStyle,
    pub text: String,
}

/// What a receipt is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptFormat {
    /// Bytes for a thermal printer.
    Escpos,
    Pdf,
}

impl ReceiptFormat {
    /// The media type of the rendered bytes. ESC/POS has no registered one; this vendor-style
    /// name is what the counter client matches on.
    pub fn content_type(&self) -> &'static str {
        match self {
            ReceiptFormat::Escpos => "application/vnd.escpos",
            ReceiptFormat::Pdf => "application/pdf",
        }
    }
}

/// Everything a receipt shows.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub clinic_name: String,
    pub payment: Payment,
    /// When the payment was taken, in the clinic's time zone.
    pub local_time: NaiveDateTime,
    /// The patient's charges on the payment's service day.
    pub charges: Vec<Charge>,
}

impl Receipt {
    /// The receipt number, also encoded in the ticket's QR code.
    pub fn number(&self) -> String {
        self.payment.receipt_number.to_string()
    }

    /// The receipt laid out line by line.
    pub fn lines(&self) -> Vec<ReceiptLine> {
        let mut lines = self.header_lines();
        if !self.charges.is_empty() {
            lines.push(rule());
            lines.push(plain("Cargos del día".to_owned()));
            for charge in &self.charges {
                lines.extend(charge_lines(charge));
            }
        }
        lines.push(rule());
        // One method: "Forma de pago" and its details. Split: each part with its amount.
        let split = self.payment.parts.len() > 1;
        for part in &self.payment.parts {
            lines.extend(part_lines(&part.method, part.amount, split));
        }
        lines.extend(self.balance_lines());
        lines
    }

    /// The clinic, the receipt's number and date, the patient and who took the payment.
    fn header_lines(&self) -> Vec<ReceiptLine> {
        let payment = &self.payment;
        // The patient's short id: billing holds no names (and a receipt left on the counter
        // should not carry one).
        let date = self.local_time.format("%d/%m/%Y %H:%M").to_string();
        vec![
            line(LineStyle::Title, fit(&self.clinic_name)),
            line(LineStyle::Centered, "RECIBO DE PAGO".to_owned()),
            rule(),
            plain(columns("Recibo", &self.number())),
            plain(columns("Fecha", &date)),
            plain(columns("Paciente", &payment.patient_id.short())),
            plain(columns("Atendió", &payment.received_by)),
        ]
    }

    /// What was paid, and the balance it left (owed, or in the patient's favour).
    fn balance_lines(&self) -> Vec<ReceiptLine> {
        let payment = &self.payment;
        let balance = if payment.balance_after.is_negative() {
            columns("Saldo a favor", &money(payment.balance_after.negated()))
        } else {
            columns("Saldo pendiente", &money(payment.balance_after))
        };
        vec![
            line(
                LineStyle::Bold,
                columns("Importe pagado", &money(payment.amount)),
            ),
            line(LineStyle::Bold, balance),
            rule(),
            line(LineStyle::Centered, "Gracias por su pago".to_owned()),
        ]
    }
}

fn line(style: LineStyle, text: String) -> ReceiptLine {
    ReceiptLine { style, text }
}

fn plain(text: String) -> ReceiptLine {
    line(LineStyle::Plain, text)
}

fn rule() -> ReceiptLine {
    line(LineStyle::Rule, "-".repeat(RECEIPT_WIDTH))
}

/// A charge of the day: its code, quantity, description and amount, less what a package
/// covered and its discount.
fn charge_lines(charge: &Charge) -> Vec<ReceiptLine> {
    let left = format!(
        "{} x{} {}",
        charge.price_code.as_str(),
        charge.quantity.get(),
        charge.description.as_str()
    );
    let mut lines = vec![plain(columns(&left, &money(charge.amount)))];
    if let Some(cover) = charge.cover {
        let covered = charge
            .unit_price
            .checked_mul(i64::from(cover.quantity))
            .unwrap_or(charge.amount);
        lines.push(plain(columns(
            &format!("  Paquete ({} sesión(es))", cover.quantity),
            &money(covered.negated()),
        )));
    }
    if let Some(discount) = &charge.discount {
        lines.push(plain(columns(
            "  Descuento",
            &money(discount.amount.negated()),
        )));
    }
    lines
}

/// A part of the payment: its method (with its amount when the payment was split) and the
/// method's details.
fn part_lines(method: &PaymentMethod, amount: Money, split: bool) -> Vec<ReceiptLine> {
    let kind = method_label(method);
    let mut lines = vec![if split {
        plain(columns(kind, &money(amount)))
    } else {
        plain(columns("Forma de pago", kind))
    }];
    match method {
        PaymentMethod::Cash { tendered, change } => {
            lines.push(plain(columns("  Recibido", &money(*tendered))));
            lines.push(plain(columns("  Cambio", &money(*change))));
        }
        PaymentMethod::Card {
            authorization_code,
            last_four,
            ..
        } => {
            lines.push(plain(columns(
                "  Tarjeta",
                &format!("**** {}", last_four.as_str()),
            )));
            lines.push(plain(columns(
                "  Autorización",
                authorization_code.as_str(),
            )));
        }
        PaymentMethod::BankTransfer { reference } => {
            lines.push(plain(columns("  Referencia", reference.as_str())));
        }
        PaymentMethod::Advance => {}
    }
    lines
}

/// How a method reads on the receipt.
fn method_label(method: &PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Cash { .. } => "Efectivo",
        PaymentMethod::Card {
            card_type: super::CardType::Credit,
            ..
        } => "Tarjeta de crédito",
        PaymentMethod::Card {
            card_type: super::CardType::Debit,
            ..
        } => "Tarjeta de débito",
        PaymentMethod::BankTransfer { .. } => "Transferencia",
        PaymentMethod::Advance => "Saldo a favor aplicado",
    }
}

/// `text` cut to the receipt's width.
fn fit(text: &str) -> String {
    text.chars().take(RECEIPT_WIDTH).collect()
}

/// `left` and `right` on one line, `right` flush right; `left` is shortened to make room.
fn columns(left: &str, right: &str) -> String {
    let right: String = right.chars().take(RECEIPT_WIDTH - 2).collect();
    let room = RECEIPT_WIDTH - right.chars().count() - 1;
    let left: String = left.chars().take(room).collect();
    let padding = RECEIPT_WIDTH - left.chars().count() - right.chars().count();
    format!("{left}{}{right}", " ".repeat(padding))
}

/// `$1,234.50`: a dollar sign, thousands separated by commas, the currency's minor digits.
pub fn money(amount: Money) -> String {
    let digits = amount.currency().minor_unit_digits();
    let minor = amount.minor_units().unsigned_abs();
    let scale = 10_u64.pow(digits);
    let whole = (minor / scale).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if amount.is_negative() { "-" } else { "" };
    if digits == 0 {
        format!("{sign}${grouped}")
    } else {
        let fraction = minor % scale;
        format!(
            "{sign}${grouped}.{fraction:0width$}",
            width = digits as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use clinic_common::Currency;
    use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId};

    use super::*;
    use crate::domain::{
        AuthorizationCode, CardLastFour, CardType, ItemDescription, PriceCode, Quantity,
        ReceiptNumber, StoredPart,
    };

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    fn receipt(method: PaymentMethod, balance_after: i64) -> Receipt {
        receipt_in_parts(vec![(45_000, method)], balance_after)
    }

    fn receipt_in_parts(parts: Vec<(i64, PaymentMethod)>, balance_after: i64) -> Receipt {
        let patient_id = PatientId::new();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
        Receipt {
            clinic_name: "Clínica Dental Sonrisa".into(),
            payment: Payment {
                payment_id: PaymentId::new(),
                patient_id,
                amount: mxn(parts.iter().map(|(minor, _)| minor).sum()),
                received: mxn(parts
                    .iter()
                    .filter(|(_, method)| method.brings_money())
                    .map(|(minor, _)| minor)
                    .sum()),
                parts: (1..)
                    .zip(parts)
                    .map(|(position, (minor, method))| StoredPart {
                        position,
                        amount: mxn(minor),
                        method,
                        drawer_session_id: None,
                    })
                    .collect(),
                receipt_number: ReceiptNumber::new(7),
                service_date: day,
                created_at: Utc::now(),
                received_by: "reception:maria".into(),
                request_id: RequestId::parse("pay-1").expect("valid"),
                balance_after: mxn(balance_after),
                allocations: Vec::new(),
                advance_after: None,
            },
            local_time: day.and_hms_opt(12, 5, 0).expect("a time"),
            charges: vec![Charge {
                charge_id: ChargeId::new(),
                patient_id,
                appointment_id: None,
                price_code: PriceCode::parse("LIMP-01").expect("valid"),
                description: ItemDescription::parse("Limpieza dental").expect("valid"),
                quantity: Quantity::parse(2).expect("valid"),
                unit_price: mxn(45_000),
                amount: mxn(90_000),
                cover: None,
                discount: None,
                net: mxn(90_000),
                origin: crate::domain::ChargeOrigin::Counter,
                service_date: day,
                created_at: Utc::now(),
                posted_by: "reception:maria".into(),
                request_id: RequestId::parse("charge-1").expect("valid"),
            }],
        }
    }

    fn text(receipt: &Receipt) -> Vec<String> {
        receipt.lines().into_iter().map(|line| line.text).collect()
    }

    #[test]
    fn patients_registered_in_the_same_minute_print_different_short_ids() {
        let mut first = receipt(
            PaymentMethod::cash(mxn(45_000), mxn(45_000)).expect("valid"),
            0,
        );
        let mut second = first.clone();
        first.payment.patient_id =
            PatientId::parse("019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6071").expect("valid");
        second.payment.patient_id =
            PatientId::parse("019a2b3c-4d5e-7f61-9b2c-3d4e5f607182").expect("valid");

        let patient_line = |receipt: &Receipt| {
            text(receipt)
                .into_iter()
                .find(|line| line.starts_with("Paciente"))
                .expect("a patient line")
        };

        assert!(
            patient_line(&first).ends_with("4E5F6071"),
            "{}",
            patient_line(&first)
        );
        assert!(patient_line(&second).ends_with("5F607182"));
    }

    #[test]
    fn money_is_grouped_by_thousands_with_two_decimals() {
        assert_eq!(money(mxn(0)), "$0.00");
        assert_eq!(money(mxn(5)), "$0.05");
        assert_eq!(money(mxn(123_456_789)), "$1,234,567.89");
        assert_eq!(money(mxn(-100_000)), "-$1,000.00");
    }

    #[test]
    fn a_cash_receipt_shows_the_day_tendered_change_and_what_is_still_owed() {
        let receipt = receipt(
            PaymentMethod::cash(mxn(45_000), mxn(50_000)).expect("valid"),
            45_000,
        );
        let lines = text(&receipt);
        assert_eq!(lines[0], "Clínica Dental Sonrisa");
        assert!(lines.contains(&columns("Recibo", "R-000007")));
        assert!(lines.contains(&columns("Fecha", "22/11/2026 12:05")));
        assert!(lines.contains(&columns("LIMP-01 x2 Limpieza dental", "$900.00")));
        assert!(lines.contains(&columns("  Recibido", "$500.00")));
        assert!(lines.contains(&columns("  Cambio", "$50.00")));
        assert!(lines.contains(&columns("Importe pagado", "$450.00")));
        assert!(lines.contains(&columns("Saldo pendiente", "$450.00")));
        for line in &lines {
            assert!(
                line.chars().count() <= RECEIPT_WIDTH,
                "{line:?} is too wide"
            );
        }
    }

    #[test]
    fn a_card_receipt_masks_the_card_and_a_credit_balance_reads_as_such() {
        let receipt = receipt(
            PaymentMethod::Card {
                authorization_code: AuthorizationCode::parse("A1B2C3").expect("valid"),
                last_four: CardLastFour::parse("4242").expect("valid"),
                card_type: CardType::Credit,
            },
            -5_000,
        );
        let lines = text(&receipt);
        assert!(lines.contains(&columns("Forma de pago", "Tarjeta de crédito")));
        assert!(lines.contains(&columns("  Tarjeta", "**** 4242")));
        assert!(lines.contains(&columns("  Autorización", "A1B2C3")));
        assert!(lines.contains(&columns("Saldo a favor", "$50.00")));
    }

    #[test]
    fn a_split_payment_lists_each_part_with_its_amount() {
        let receipt = receipt_in_parts(
            vec![
                (20_000, PaymentMethod::Advance),
                (
                    25_000,
                    PaymentMethod::cash(mxn(25_000), mxn(30_000)).expect("valid"),
                ),
            ],
            0,
        );
        let lines = text(&receipt);
        assert!(lines.contains(&columns("Saldo a favor aplicado", "$200.00")));
        assert!(lines.contains(&columns("Efectivo", "$250.00")));
        assert!(lines.contains(&columns("  Cambio", "$50.00")));
        assert!(lines.contains(&columns("Importe pagado", "$450.00")));
        assert!(!lines.iter().any(|line| line.starts_with("Forma de pago")));
    }

    #[test]
    fn long_text_is_shortened_to_keep_the_amount_on_the_line() {
        let line = columns(&"x".repeat(60), "$1,000.00");
        assert_eq!(line.chars().count(), RECEIPT_WIDTH);
        assert!(line.ends_with(" $1,000.00"));
    }
}
