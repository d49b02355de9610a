//! Payments: money received from a patient by cash, card or bank transfer, or drawn from their
//! advance, in one part or split across methods, each payment with a receipt.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId, request_fingerprint};

use super::{AllocationMode, ChosenAllocation, DrawerSessionId, TerminalId};

/// The card terminal's authorisation code: 1 to 32 letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode(String);

impl AuthorizationCode {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let code = text.trim();
        if code.is_empty() {
            return Err("is required");
        }
        if code.len() > 32 {
            return Err("must be at most 32 characters");
        }
        if !code.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err("may contain only letters and digits");
        }
        Ok(AuthorizationCode(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The last four digits of the card, as printed on the terminal slip. Never more: billing does
/// not hold card numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardLastFour(String);

impl CardLastFour {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let digits = text.trim();
        if digits.len() == 4 && digits.bytes().all(|byte| byte.is_ascii_digit()) {
            Ok(CardLastFour(digits.to_owned()))
        } else {
            Err("must be exactly four digits")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Credit or debit: they map to different CFDI payment forms (04 and 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardType {
    Credit,
    Debit,
}

impl CardType {
    pub fn as_str(&self) -> &'static str {
        match self {
            CardType::Credit => "credit",
            CardType::Debit => "debit",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "credit" => Some(CardType::Credit),
            "debit" => Some(CardType::Debit),
            _ => None,
        }
    }
}

/// The bank's reference for a transfer: trimmed, 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferReference(String);

impl TransferReference {
    pub fn parse(text: &str) -> Result<Self, String> {
        clinic_common::validation::single_line_text(text, 64).map(TransferReference)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a payment was made, with what each method must record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMethod {
    Cash {
        /// What the patient handed over.
        tendered: Money,
        /// What was handed back: `tendered - amount`. The cash drawer's expected total counts it.
        change: Money,
    },
    Card {
        authorization_code: AuthorizationCode,
        last_four: CardLastFour,
        card_type: CardType,
    },
    BankTransfer {
        reference: TransferReference,
    },
    /// From the patient's advance: money paid earlier that no charge holds. No new money.
    Advance,
}

impl PaymentMethod {
    /// Cash for `amount`, out of `tendered`: at least the amount, the rest given back as change.
    pub fn cash(amount: Money, tendered: Money) -> Result<Self, &'static str> {
        let change = tendered
            .checked_sub(amount)
            .map_err(|_| "must be in the same currency as the amount")?;
        if change.is_negative() {
            return Err("must be at least the amount paid");
        }
        Ok(PaymentMethod::Cash { tendered, change })
    }

    /// The name stored and reported for the method.
    pub fn name(&self) -> &'static str {
        match self {
            PaymentMethod::Cash { .. } => "cash",
            PaymentMethod::Card { .. } => "card",
            PaymentMethod::BankTransfer { .. } => "bank_transfer",
            PaymentMethod::Advance => "advance",
        }
    }

    /// Whether the part brings new money (every method but the advance).
    pub fn brings_money(&self) -> bool {
        !matches!(self, PaymentMethod::Advance)
    }

    /// The digest parts of the method's details.
    fn fingerprint_parts(&self, parts: &mut Vec<String>) {
        match self {
            PaymentMethod::Cash { tendered, .. } => {
                parts.push(tendered.minor_units().to_string());
            }
            PaymentMethod::Card {
                authorization_code,
                last_four,
                card_type,
            } => {
                parts.push(authorization_code.as_str().to_owned());
                parts.push(last_four.as_str().to_owned());
                parts.push(card_type.as_str().to_owned());
            }
            PaymentMethod::BankTransfer { reference } => {
                parts.push(reference.as_str().to_owned());
            }
            PaymentMethod::Advance => {}
        }
    }
}

/// One method's share of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPart {
    pub amount: Money,
    pub method: PaymentMethod,
}

/// Checks the parts of one payment: at least one, at most one in cash and one from the advance
/// (cash is handed over once; the advance is drawn once), adding up to an amount that fits.
/// Returns the total.
pub fn payment_total(parts: &[PaymentPart]) -> Result<Money, &'static str> {
    let Some(first) = parts.first() else {
        return Err("at least one part is required");
    };
    let count = |name: &str| {
        parts
            .iter()
            .filter(|part| part.method.name() == name)
            .count()
    };
    if count("cash") > 1 {
        return Err("at most one part may be cash");
    }
    if count("advance") > 1 {
        return Err("at most one part may be from the advance");
    }
    let mut total = Money::zero(first.amount.currency());
    for part in parts {
        total = total
            .checked_add(part.amount)
            .map_err(|_| "add up to more than can be recorded")?;
    }
    Ok(total)
}

/// A request to record a payment.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub patient_id: PatientId,
    /// Every part: positive, in the clinic's currency.
    pub amount: Money,
    /// At least one, checked by [`payment_total`].
    pub parts: Vec<PaymentPart>,
    pub request_id: RequestId,
    /// The counter terminal taking it; a cash payment is then counted in that terminal's open
    /// drawer. Meaningless for card and transfer payments, which never touch a drawer.
    pub terminal_id: Option<TerminalId>,
    /// Charges the payer chose to pay first.
    pub allocations: Vec<ChosenAllocation>,
    pub allocation_mode: AllocationMode,
}

impl NewPayment {
    /// A digest of everything the client sent, to tell a retry from a reused key: another
    /// amount, patient, method or method detail is a different payment.
    pub fn fingerprint(&self) -> String {
        let amount = self.amount.minor_units().to_string();
        let mut parts = vec![
            self.patient_id.to_string(),
            amount,
            self.amount.currency().code().to_owned(),
        ];
        // One part digests as payments did before they could be split, so a retry of one made
        // before still matches.
        if let [only] = self.parts.as_slice() {
            parts.push(only.method.name().to_owned());
            only.method.fingerprint_parts(&mut parts);
        } else {
            for part in &self.parts {
                parts.push(format!("part:{}", part.method.name()));
                parts.push(part.amount.minor_units().to_string());
                part.method.fingerprint_parts(&mut parts);
            }
        }
        // Appended only when given, so payments posted before terminals existed keep their
        // fingerprint.
        if let Some(terminal_id) = &self.terminal_id {
            parts.push(format!("terminal:{terminal_id}"));
        }
        // Likewise allocation choices, appended only when made.
        for choice in &self.allocations {
            parts.push(format!("allocate:{}:{}", choice.charge_id, choice.amount));
        }
        if self.allocation_mode == AllocationMode::AsChosen {
            parts.push("as_chosen".into());
        }
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        request_fingerprint(&parts)
    }
}

/// A receipt's number: sequential per clinic, shown as `R-000123`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReceiptNumber(i64);

impl ReceiptNumber {
    pub fn new(number: i64) -> Self {
        ReceiptNumber(number)
    }
}

impl NewPayment {
    /// New money: every part but the advance.
    pub fn received(&self) -> Money {
        self.sum(|method| method.brings_money())
    }

    /// What the payment draws from the patient's advance.
    pub fn drawn_from_advance(&self) -> Money {
        self.sum(|method| !method.brings_money())
    }

    fn sum(&self, which: impl Fn(&PaymentMethod) -> bool) -> Money {
        // The total fits (checked by `payment_total`), so every partial sum does.
        let minor = self
            .parts
            .iter()
            .filter(|part| which(&part.method))
            .map(|part| part.amount.minor_units())
            .sum();
        Money::from_minor(minor, self.amount.currency())
    }

    /// The cash part, if any.
    pub fn cash(&self) -> Option<&PaymentPart> {
        self.parts
            .iter()
            .find(|part| matches!(part.method, PaymentMethod::Cash { .. }))
    }
}

/// A recorded part of a payment.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPart {
    /// 1, 2, ... in the order given.
    pub position: i32,
    pub amount: Money,
    pub method: PaymentMethod,
    /// Cash taken at a terminal: the drawer session it was counted in.
    pub drawer_session_id: Option<DrawerSessionId>,
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R-{:06}", self.0)
    }
}

/// A recorded payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub payment_id: PaymentId,
    pub patient_id: PatientId,
    /// Every part.
    pub amount: Money,
    /// New money: every part but the advance.
    pub received: Money,
    /// In order; at least one.
    pub parts: Vec<StoredPart>,
    pub receipt_number: ReceiptNumber,
    /// The clinic-local day it was received.
    pub service_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Subject of the staff member who took it.
    pub received_by: String,
    pub request_id: RequestId,
    /// The patient's balance right after this payment; negative when it left them in credit.
    pub balance_after: Money,
    /// The charges the payment paid, in order; empty for payments from before allocations.
    pub allocations: Vec<(ChargeId, Money)>,
    /// The patient's advance right after; `None` for payments from before allocations.
    pub advance_after: Option<Money>,
}

impl Payment {
    /// The drawer session its cash was counted in, if any.
    pub fn drawer_session_id(&self) -> Option<DrawerSessionId> {
        self.parts.iter().find_map(|part| part.drawer_session_id)
    }

    /// The cash part, if any.
    pub fn cash(&self) -> Option<&StoredPart> {
        self.parts
            .iter()
            .find(|part| matches!(part.method, PaymentMethod::Cash { .. }))
    }
}

#[cfg(test)]
mod tests {
    use clinic_common::Currency;

    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    #[test]
    fn cash_gives_back_the_difference_and_refuses_too_little() {
        assert_eq!(
            PaymentMethod::cash(mxn(45_000), mxn(50_000)),
            Ok(PaymentMethod::Cash {
                tendered: mxn(50_000),
                change: mxn(5_000)
            })
        );
        assert!(PaymentMethod::cash(mxn(45_000), mxn(45_000)).is_ok());
        assert_eq!(
            PaymentMethod::cash(mxn(45_000), mxn(44_999)),
            Err("must be at least the amount paid")
        );
    }

    #[test]
    fn parts_are_checked_and_added_up() {
        let cash = |minor| PaymentPart {
            amount: mxn(minor),
            method: PaymentMethod::cash(mxn(minor), mxn(minor)).expect("valid"),
        };
        let advance = |minor| PaymentPart {
            amount: mxn(minor),
            method: PaymentMethod::Advance,
        };
        assert_eq!(payment_total(&[cash(100), advance(50)]), Ok(mxn(150)));
        assert!(payment_total(&[]).is_err());
        assert!(payment_total(&[cash(100), cash(50)]).is_err());
        assert!(payment_total(&[advance(100), advance(50)]).is_err());
        assert!(payment_total(&[cash(i64::MAX), advance(1)]).is_err());
    }

    #[test]
    fn card_details_are_alphanumeric_codes_and_four_digits() {
        assert!(AuthorizationCode::parse("A1B2C3").is_ok());
        assert!(AuthorizationCode::parse("").is_err());
        assert!(AuthorizationCode::parse("12-34").is_err());
        assert!(AuthorizationCode::parse(&"9".repeat(33)).is_err());
        assert!(CardLastFour::parse("0042").is_ok());
        for bad in ["42", "12345", "12a4", ""] {
            assert!(CardLastFour::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn transfer_references_are_1_to_64_characters() {
        assert!(TransferReference::parse("SPEI 0123456789").is_ok());
        assert!(TransferReference::parse("  ").is_err());
        assert!(TransferReference::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn receipt_numbers_are_zero_padded_to_six_digits() {
        assert_eq!(ReceiptNumber::new(1).to_string(), "R-000001");
        assert_eq!(ReceiptNumber::new(123_456).to_string(), "R-123456");
        assert_eq!(ReceiptNumber::new(1_234_567).to_string(), "R-1234567");
    }

    #[test]
    fn payments_differing_in_any_detail_fingerprint_differently() {
        let part = |method| {
            vec![PaymentPart {
                amount: mxn(10_000),
                method,
            }]
        };
        let base = NewPayment {
            patient_id: PatientId::new(),
            amount: mxn(10_000),
            parts: part(PaymentMethod::cash(mxn(10_000), mxn(20_000)).expect("valid")),
            request_id: RequestId::parse("pay-1").expect("valid"),
            terminal_id: None,
            allocations: Vec::new(),
            allocation_mode: AllocationMode::OldestFirst,
        };
        let more_tendered = NewPayment {
            parts: part(PaymentMethod::cash(mxn(10_000), mxn(50_000)).expect("valid")),
            ..base.clone()
        };
        let by_transfer = NewPayment {
            parts: part(PaymentMethod::BankTransfer {
                reference: TransferReference::parse("REF1").expect("valid"),
            }),
            ..base.clone()
        };
        let split = NewPayment {
            parts: vec![
                PaymentPart {
                    amount: mxn(4_000),
                    method: PaymentMethod::Advance,
                },
                PaymentPart {
                    amount: mxn(6_000),
                    method: PaymentMethod::cash(mxn(6_000), mxn(10_000)).expect("valid"),
                },
            ],
            ..base.clone()
        };
        assert_ne!(base.fingerprint(), split.fingerprint());
        assert_eq!(split.received(), mxn(6_000));
        assert_eq!(split.drawn_from_advance(), mxn(4_000));
        assert_eq!(base.fingerprint(), base.clone().fingerprint());
        assert_ne!(base.fingerprint(), more_tendered.fingerprint());
        assert_ne!(base.fingerprint(), by_transfer.fingerprint());
        let chosen = NewPayment {
            allocations: vec![ChosenAllocation {
                charge_id: ChargeId::new(),
                amount: 10_000,
            }],
            ..base.clone()
        };
        assert_ne!(base.fingerprint(), chosen.fingerprint());
    }
}
