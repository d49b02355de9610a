//! The daily close: what reception and the manager reconcile at the end of a clinic day.
//! Income by method (payments less refunds), by service (charges by price code), by provider
//! (charges of the visits they gave) and by the staff member who took the money; packages sold,
//! discounts given, corrections posted and advances applied; the day's totals; the accounts
//! still owing at the end of the day; the cash drawers closed that day with their differences;
//! and whether the day is closed. The same report is exported as
//! CSV and XLSX, from the one table of rows [`DailyClose::rows`] lays out.

use super::drawer::DrawerView;
use super::report_words::{ReportLanguage, ReportWords, fill};
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money};

use super::{CorrectionKind, DrawerSessionId, DrawerState, TerminalId};

/// How money came in, as the close splits it: cards by credit and debit, as the card terminal's
/// own batch report does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IncomeMethod {
    Cash,
    CardCredit,
    CardDebit,
    BankTransfer,
}

impl IncomeMethod {
    /// Every method, in the order the report lists them.
    pub const ALL: [IncomeMethod; 4] = [
        IncomeMethod::Cash,
        IncomeMethod::CardCredit,
        IncomeMethod::CardDebit,
        IncomeMethod::BankTransfer,
    ];

    /// From a payment's stored method and card type.
    pub fn from_stored(method: &str, card_type: Option<&str>) -> Option<Self> {
        match (method, card_type) {
            ("cash", _) => Some(IncomeMethod::Cash),
            ("card", Some("credit")) => Some(IncomeMethod::CardCredit),
            ("card", Some("debit")) => Some(IncomeMethod::CardDebit),
            ("bank_transfer", _) => Some(IncomeMethod::BankTransfer),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            IncomeMethod::Cash => "cash",
            IncomeMethod::CardCredit => "card_credit",
            IncomeMethod::CardDebit => "card_debit",
            IncomeMethod::BankTransfer => "bank_transfer",
        }
    }

    /// Its place in [`IncomeMethod::ALL`] (and in a report's words).
    pub fn index(&self) -> usize {
        match self {
            IncomeMethod::Cash => 0,
            IncomeMethod::CardCredit => 1,
            IncomeMethod::CardDebit => 2,
            IncomeMethod::BankTransfer => 3,
        }
    }
}

/// A count of items and their sum, as read from the day's rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tally {
    pub count: i64,
    pub amount: Money,
}

impl Tally {
    pub fn zero(currency: Currency) -> Self {
        Tally {
            count: 0,
            amount: Money::zero(currency),
        }
    }

    fn plus(self, other: Tally) -> anyhow::Result<Tally> {
        Ok(Tally {
            count: self.count + other.count,
            amount: checked(self.amount.checked_add(other.amount))?,
        })
    }
}

/// Money received and given back through one channel (a method or a staff member).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    pub received: Tally,
    pub refunded: Tally,
}

impl Flow {
    pub fn zero(currency: Currency) -> Self {
        Flow {
            received: Tally::zero(currency),
            refunded: Tally::zero(currency),
        }
    }

    /// Payments less refunds: what the channel actually brought in.
    pub fn net(&self) -> anyhow::Result<Money> {
        checked(self.received.amount.checked_sub(self.refunded.amount))
    }
}

/// Charges of one price code on the day.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceIncome {
    pub price_code: String,
    pub description: String,
    pub charge_count: i64,
    /// Units given: the sum of the charges' quantities.
    pub quantity: i64,
    pub amount: Money,
}

/// Charges of the day by the provider who gave the service (visits charged from scheduling);
/// charges posted at the counter have no provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderIncome {
    /// `None` for charges posted at the counter.
    pub provider_id: Option<String>,
    pub provider_name: String,
    pub charge_count: i64,
    /// Net: what patients were charged.
    pub amount: Money,
}

/// Packages of one code sold on the day.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageSales {
    pub package_code: String,
    pub description: String,
    pub count: i64,
    pub amount: Money,
}

/// A patient owing at the end of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct OutstandingAccount {
    pub patient_id: PatientId,
    pub balance: Money,
}

/// A cash drawer counted and closed that day.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawerCloseSummary {
    pub session_id: DrawerSessionId,
    pub terminal_id: TerminalId,
    /// Closed, or still awaiting a manager's approval of its difference.
    pub state: DrawerState,
    pub expected: Money,
    pub counted: Money,
    /// counted − expected.
    pub difference: Money,
    pub closed_by: String,
    pub closed_at: DateTime<Utc>,
}

/// A closed clinic day: nothing more can be dated on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedDay {
    pub day: NaiveDate,
    pub closed_by: String,
    pub closed_at: DateTime<Utc>,
}

/// What the store reads for a day, before the report adds it up.
#[derive(Debug, Clone, PartialEq)]
pub struct DayFigures {
    pub day: NaiveDate,
    pub currency: Currency,
    pub payments_by_method: Vec<(IncomeMethod, Tally)>,
    pub refunds_by_method: Vec<(IncomeMethod, Tally)>,
    pub services: Vec<ServiceIncome>,
    /// Payments by `received_by`.
    pub payments_by_staff: Vec<(String, Tally)>,
    /// Refunds by `refunded_by`.
    pub refunds_by_staff: Vec<(String, Tally)>,
    pub outstanding: Vec<OutstandingAccount>,
    pub drawers: Vec<DrawerCloseSummary>,
    /// Payments that brought money: their count and the money.
    pub payments: Tally,
    pub providers: Vec<ProviderIncome>,
    pub packages_sold: Vec<PackageSales>,
    /// Corrections dated on the day, by kind: signed sums, as their ledger entries.
    pub corrections: Vec<(CorrectionKind, Tally)>,
    /// Payment parts drawn from patients' advances (money received on earlier days).
    pub advance_applied: Tally,
    /// Charges with a discount, and the discounts' sum.
    pub discounts: Tally,
    pub closed: Option<ClosedDay>,
}

/// The daily close report.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyClose {
    pub day: NaiveDate,
    /// Every method, in [`IncomeMethod::ALL`] order, zero where nothing came in.
    pub by_method: Vec<(IncomeMethod, Flow)>,
    /// By price code.
    pub by_service: Vec<ServiceIncome>,
    /// By staff subject, in order.
    pub by_staff: Vec<(String, Flow)>,
    pub charged: Tally,
    pub received: Tally,
    pub refunded: Tally,
    /// received − refunded.
    pub net_income: Money,
    /// Largest balance first.
    pub outstanding: Vec<OutstandingAccount>,
    pub total_outstanding: Money,
    /// In the order they were closed.
    pub drawers: Vec<DrawerCloseSummary>,
    /// By provider name; the counter's charges (no provider) last.
    pub by_provider: Vec<ProviderIncome>,
    pub packages_sold: Vec<PackageSales>,
    /// Every kind, zero where there were none.
    pub corrections: Vec<(CorrectionKind, Tally)>,
    pub advance_applied: Tally,
    pub discounts: Tally,
    pub closed: Option<ClosedDay>,
}

fn checked<T, E: std::fmt::Display>(result: Result<T, E>) -> anyhow::Result<T> {
    result.map_err(|error| anyhow::anyhow!("a daily close figure is out of range: {error}"))
}

impl DailyClose {
    /// Adds up the day's figures.
    pub fn assemble(figures: DayFigures) -> anyhow::Result<DailyClose> {
        let currency = figures.currency;
        let mut by_method: Vec<(IncomeMethod, Flow)> = IncomeMethod::ALL
            .iter()
            .map(|method| (*method, Flow::zero(currency)))
            .collect();
        let mut refunded = Tally::zero(currency);
        for (method, tally) in &figures.payments_by_method {
            for (listed, flow) in by_method.iter_mut() {
                if listed == method {
                    flow.received = flow.received.plus(*tally)?;
                }
            }
        }
        // A payment split across methods counts once here, and once per method above.
        let received = figures.payments;
        for (method, tally) in &figures.refunds_by_method {
            for (listed, flow) in by_method.iter_mut() {
                if listed == method {
                    flow.refunded = flow.refunded.plus(*tally)?;
                }
            }
            refunded = refunded.plus(*tally)?;
        }

        let mut by_staff: std::collections::BTreeMap<String, Flow> =
            std::collections::BTreeMap::new();
        for (staff, tally) in &figures.payments_by_staff {
            let flow = by_staff
                .entry(staff.clone())
                .or_insert_with(|| Flow::zero(currency));
            flow.received = flow.received.plus(*tally)?;
        }
        for (staff, tally) in &figures.refunds_by_staff {
            let flow = by_staff
                .entry(staff.clone())
                .or_insert_with(|| Flow::zero(currency));
            flow.refunded = flow.refunded.plus(*tally)?;
        }

        let mut charged = Tally::zero(currency);
        for service in &figures.services {
            charged = charged.plus(Tally {
                count: service.charge_count,
                amount: service.amount,
            })?;
        }
        let mut total_outstanding = Money::zero(currency);
        for account in &figures.outstanding {
            total_outstanding = checked(total_outstanding.checked_add(account.balance))?;
        }
        let corrections = [
            CorrectionKind::Adjustment,
            CorrectionKind::CreditNote,
            CorrectionKind::WriteOff,
        ]
        .into_iter()
        .map(|kind| {
            let tally = figures
                .corrections
                .iter()
                .find(|(listed, _)| *listed == kind)
                .map_or(Tally::zero(currency), |(_, tally)| *tally);
            (kind, tally)
        })
        .collect();
        let mut by_provider = figures.providers;
        // By name, the counter's charges last.
        by_provider.sort_by(|a, b| {
            (a.provider_id.is_none(), &a.provider_name, &a.provider_id).cmp(&(
                b.provider_id.is_none(),
                &b.provider_name,
                &b.provider_id,
            ))
        });
        Ok(DailyClose {
            day: figures.day,
            by_method,
            by_service: figures.services,
            by_staff: by_staff.into_iter().collect(),
            charged,
            received,
            refunded,
            net_income: checked(received.amount.checked_sub(refunded.amount))?,
            outstanding: figures.outstanding,
            total_outstanding,
            drawers: figures.drawers,
            by_provider,
            packages_sold: figures.packages_sold,
            corrections,
            advance_applied: figures.advance_applied,
            discounts: figures.discounts,
            closed: figures.closed,
        })
    }

    /// The report as one table, for CSV and XLSX: each row a section, an item, a description,
    /// a count and an amount. Nets are payments less refunds.
    pub fn rows(
        &self,
        language: ReportLanguage,
        view: DrawerView,
    ) -> anyhow::Result<Vec<ReportRow>> {
        let words = language.words();
        let mut rows = Vec::new();
        self.income_rows(&mut rows, words)?;
        self.package_and_correction_rows(&mut rows, words);
        self.total_rows(&mut rows, words);
        self.account_and_drawer_rows(&mut rows, words, view);
        Ok(rows)
    }

    /// Income by method, service, provider and staff member.
    fn income_rows(&self, rows: &mut Vec<ReportRow>, words: &ReportWords) -> anyhow::Result<()> {
        for (method, flow) in &self.by_method {
            rows.push(ReportRow {
                section: "income_by_method",
                item: method.as_str().to_owned(),
                description: format!(
                    "{}: {}",
                    words.methods[method.index()],
                    payments_and_refunds(words, flow)
                ),
                count: Some(flow.received.count),
                amount: Some(flow.net()?),
            });
        }
        for service in &self.by_service {
            rows.push(ReportRow {
                section: "income_by_service",
                item: service.price_code.clone(),
                description: service.description.clone(),
                count: Some(service.charge_count),
                amount: Some(service.amount),
            });
        }
        for provider in &self.by_provider {
            rows.push(ReportRow {
                section: "income_by_provider",
                item: provider.provider_id.clone().unwrap_or_default(),
                description: provider.provider_name.clone(),
                count: Some(provider.charge_count),
                amount: Some(provider.amount),
            });
        }
        for (staff, flow) in &self.by_staff {
            rows.push(ReportRow {
                section: "income_by_staff",
                item: staff.clone(),
                description: payments_and_refunds(words, flow),
                count: Some(flow.received.count),
                amount: Some(flow.net()?),
            });
        }
        Ok(())
    }

    /// Packages sold, and corrections posted by kind.
    fn package_and_correction_rows(&self, rows: &mut Vec<ReportRow>, words: &ReportWords) {
        for sale in &self.packages_sold {
            rows.push(ReportRow {
                section: "packages_sold",
                item: sale.package_code.clone(),
                description: sale.description.clone(),
                count: Some(sale.count),
                amount: Some(sale.amount),
            });
        }
        for (kind, tally) in &self.corrections {
            rows.push(ReportRow {
                section: "corrections",
                item: kind.as_str().to_owned(),
                description: words.corrections[kind.index()].to_owned(),
                count: Some(tally.count),
                amount: Some(tally.amount),
            });
        }
    }

    /// The day's totals.
    fn total_rows(&self, rows: &mut Vec<ReportRow>, words: &ReportWords) {
        let totals = [
            (
                "discounts",
                words.totals[0],
                self.discounts.count,
                self.discounts.amount,
            ),
            (
                "advance_applied",
                words.totals[1],
                self.advance_applied.count,
                self.advance_applied.amount,
            ),
            (
                "charged",
                words.totals[2],
                self.charged.count,
                self.charged.amount,
            ),
            (
                "received",
                words.totals[3],
                self.received.count,
                self.received.amount,
            ),
            (
                "refunded",
                words.totals[4],
                self.refunded.count,
                self.refunded.amount,
            ),
            (
                "net_income",
                words.totals[5],
                self.received.count,
                self.net_income,
            ),
            (
                "outstanding",
                words.totals[6],
                self.outstanding.len() as i64,
                self.total_outstanding,
            ),
        ];
        for (item, description, count, amount) in totals {
            rows.push(ReportRow {
                section: "total",
                item: item.to_owned(),
                description: description.to_owned(),
                count: Some(count),
                amount: Some(amount),
            });
        }
    }

    /// The accounts owing at the end of the day, whether the day is closed, and the drawers'
    /// differences.
    fn account_and_drawer_rows(
        &self,
        rows: &mut Vec<ReportRow>,
        words: &ReportWords,
        view: DrawerView,
    ) {
        for account in &self.outstanding {
            rows.push(ReportRow {
                section: "outstanding",
                item: account.patient_id.to_string(),
                description: String::new(),
                count: None,
                amount: Some(account.balance),
            });
        }
        if let Some(closed) = &self.closed {
            rows.push(ReportRow {
                section: "day_closed",
                item: closed.closed_by.clone(),
                description: fill(words.closed_at, &[("time", &closed.closed_at.to_rfc3339())]),
                count: None,
                amount: None,
            });
        }
        for drawer in &self.drawers {
            let (session, state) = (drawer.session_id.to_string(), drawer.state.as_str());
            let counted = decimal(drawer.counted);
            // A blind close stays blind in the file: what was counted, not what was expected.
            let (description, difference) = if view == DrawerView::Blind {
                let values = [
                    ("session", session.as_str()),
                    ("state", state),
                    ("counted", &counted),
                ];
                (fill(words.drawer_blind, &values), None)
            } else {
                let expected = decimal(drawer.expected);
                let values = [
                    ("session", session.as_str()),
                    ("state", state),
                    ("expected", &expected),
                    ("counted", &counted),
                ];
                (fill(words.drawer, &values), Some(drawer.difference))
            };
            rows.push(ReportRow {
                section: "drawer_difference",
                item: drawer.terminal_id.as_str().to_owned(),
                description,
                count: None,
                amount: difference,
            });
        }
    }
}

/// One row of the exported report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub section: &'static str,
    pub item: String,
    pub description: String,
    pub count: Option<i64>,
    pub amount: Option<Money>,
}

/// "3 payments, 1 refunds", in the report's language.
fn payments_and_refunds(words: &ReportWords, flow: &Flow) -> String {
    fill(
        words.payments_and_refunds,
        &[
            ("payments", &flow.received.count.to_string()),
            ("refunds", &flow.refunded.count.to_string()),
        ],
    )
}

/// An amount as a plain decimal with the currency's places, e.g. `-1234.50`: what a spreadsheet
/// or script reads back without guessing at grouping or symbols.
pub fn decimal(amount: Money) -> String {
    let digits = amount.currency().minor_unit_digits();
    let minor = amount.minor_units().unsigned_abs();
    let scale = 10_u64.pow(digits);
    let sign = if amount.is_negative() { "-" } else { "" };
    if digits == 0 {
        format!("{sign}{minor}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            minor / scale,
            minor % scale,
            width = digits as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    fn tally(count: i64, minor: i64) -> Tally {
        Tally {
            count,
            amount: mxn(minor),
        }
    }

    fn figures() -> DayFigures {
        DayFigures {
            day: NaiveDate::from_ymd_opt(2026, 11, 22).expect("a valid day"),
            currency: Currency::MXN,
            payments_by_method: vec![
                (IncomeMethod::Cash, tally(2, 70_000)),
                (IncomeMethod::CardDebit, tally(1, 50_000)),
            ],
            refunds_by_method: vec![(IncomeMethod::Cash, tally(1, 10_000))],
            services: vec![ServiceIncome {
                price_code: "CONS".into(),
                description: "Consulta".into(),
                charge_count: 3,
                quantity: 3,
                amount: mxn(150_000),
            }],
            payments_by_staff: vec![
                ("reception:ana".into(), tally(2, 70_000)),
                ("manager:luis".into(), tally(1, 50_000)),
            ],
            refunds_by_staff: vec![("manager:luis".into(), tally(1, 10_000))],
            outstanding: vec![
                OutstandingAccount {
                    patient_id: PatientId::new(),
                    balance: mxn(30_000),
                },
                OutstandingAccount {
                    patient_id: PatientId::new(),
                    balance: mxn(10_000),
                },
            ],
            drawers: Vec::new(),
            payments: tally(3, 120_000),
            providers: vec![
                ProviderIncome {
                    provider_id: None,
                    provider_name: String::new(),
                    charge_count: 1,
                    amount: mxn(50_000),
                },
                ProviderIncome {
                    provider_id: Some("p-2".into()),
                    provider_name: "Dra. Ana Ruiz".into(),
                    charge_count: 2,
                    amount: mxn(100_000),
                },
            ],
            packages_sold: Vec::new(),
            corrections: vec![(CorrectionKind::CreditNote, tally(1, -5_000))],
            advance_applied: tally(0, 0),
            discounts: tally(0, 0),
            closed: None,
        }
    }

    #[test]
    fn providers_are_listed_by_name_with_the_counter_last_and_every_correction_kind_shown() {
        let close = DailyClose::assemble(figures()).expect("in range");
        let names: Vec<&str> = close
            .by_provider
            .iter()
            .map(|provider| provider.provider_name.as_str())
            .collect();
        assert_eq!(names, ["Dra. Ana Ruiz", ""]);
        assert_eq!(
            close.corrections,
            vec![
                (CorrectionKind::Adjustment, tally(0, 0)),
                (CorrectionKind::CreditNote, tally(1, -5_000)),
                (CorrectionKind::WriteOff, tally(0, 0)),
            ]
        );
    }

    #[test]
    fn income_by_method_is_payments_less_refunds_with_every_method_listed() {
        let close = DailyClose::assemble(figures()).expect("in range");
        let nets: Vec<(IncomeMethod, Money)> = close
            .by_method
            .iter()
            .map(|(method, flow)| (*method, flow.net().expect("in range")))
            .collect();
        assert_eq!(
            nets,
            vec![
                (IncomeMethod::Cash, mxn(60_000)),
                (IncomeMethod::CardCredit, mxn(0)),
                (IncomeMethod::CardDebit, mxn(50_000)),
                (IncomeMethod::BankTransfer, mxn(0)),
            ]
        );
        assert_eq!(close.net_income, mxn(110_000));
        assert_eq!(close.received, tally(3, 120_000));
        assert_eq!(close.charged, tally(3, 150_000));
        assert_eq!(close.total_outstanding, mxn(40_000));
    }

    #[test]
    fn staff_are_credited_with_what_they_took_and_gave_back() {
        let close = DailyClose::assemble(figures()).expect("in range");
        let staff: Vec<(&str, Money)> = close
            .by_staff
            .iter()
            .map(|(staff, flow)| (staff.as_str(), flow.net().expect("in range")))
            .collect();
        assert_eq!(
            staff,
            vec![
                ("manager:luis", mxn(40_000)),
                ("reception:ana", mxn(70_000))
            ]
        );
    }

    #[test]
    fn rows_carry_every_section_with_net_amounts() {
        let rows = DailyClose::assemble(figures())
            .expect("in range")
            .rows(ReportLanguage::En, DrawerView::Full)
            .expect("in range");
        let net_income = rows
            .iter()
            .find(|row| row.section == "total" && row.item == "net_income")
            .expect("a net income row");
        assert_eq!(net_income.amount, Some(mxn(110_000)));
        assert_eq!(
            rows.iter()
                .filter(|row| row.section == "outstanding")
                .count(),
            2
        );
        assert_eq!(rows[0].item, "cash");
        assert_eq!(rows[0].amount, Some(mxn(60_000)));
    }

    #[test]
    fn amounts_are_plain_decimals_with_two_places() {
        assert_eq!(decimal(mxn(123_450)), "1234.50");
        assert_eq!(decimal(mxn(-5)), "-0.05");
        assert_eq!(decimal(mxn(0)), "0.00");
    }

    #[test]
    fn card_payments_split_by_card_type() {
        assert_eq!(
            IncomeMethod::from_stored("card", Some("credit")),
            Some(IncomeMethod::CardCredit)
        );
        assert_eq!(
            IncomeMethod::from_stored("card", Some("debit")),
            Some(IncomeMethod::CardDebit)
        );
        assert_eq!(IncomeMethod::from_stored("card", None), None);
        assert_eq!(
            IncomeMethod::from_stored("bank_transfer", None),
            Some(IncomeMethod::BankTransfer)
        );
    }
}
