//! The demo clinic's price list and its book of past visits, billed and mostly paid.

use anyhow::Context;
use chrono::{NaiveDate, TimeDelta};
use clinic_proto::billing::v1 as billing;
use clinic_proto::common::v1::Money;
use clinic_proto::date_to_proto;

use super::{Lcg, Seeder};

impl Seeder<'_> {
    pub(super) async fn seed_price_list(&mut self, currency: &str) -> anyhow::Result<()> {
        for (code, description, minor_units, kind) in PRICE_LIST {
            self.billing
                .create_price_list_item(billing::CreatePriceListItemRequest {
                    item: Some(billing::PriceListItem {
                        code: (*code).into(),
                        description: (*description).into(),
                        unit_price: Some(Money {
                            minor_units: *minor_units,
                            currency_code: currency.into(),
                        }),
                        kind: *kind as i32,
                        ..Default::default()
                    }),
                    request_id: format!("demo-price-{code}"),
                })
                .await
                .with_context(|| format!("failed to add {code} to the price list"))?;
        }
        Ok(())
    }

    /// Past visits billed, most paid: patients 20-44 had treatment over the last five months;
    /// every third one still owes part of it, at ages from days to months.
    pub(super) async fn seed_balances(
        &mut self,
        today: NaiveDate,
        patient_ids: &[String],
        currency: &str,
    ) -> anyhow::Result<usize> {
        let mut random = Lcg(0xba1a_9ce5);
        let mut open = 0;
        for (index, patient_id) in patient_ids.iter().enumerate().skip(20).take(25) {
            let days_ago = 3 + random.below(150) as i64;
            let service_date = today - TimeDelta::days(days_ago);
            let (code, _, unit_price, _) =
                PRICE_LIST[random.below(PRICE_LIST.len() as u64) as usize];
            self.billing
                .post_charge(billing::PostChargeRequest {
                    patient_id: patient_id.clone(),
                    price_code: code.into(),
                    quantity: 1,
                    appointment_id: String::new(),
                    service_date: Some(date_to_proto(service_date)),
                    request_id: format!("demo-charge-{index}"),
                    ..Default::default()
                })
                .await
                .context("failed to post a demo charge")?;

            let owes_part = index % 3 == 0;
            let paid = if owes_part {
                unit_price * (random.below(3) as i64) / 4
            } else {
                unit_price
            };
            if owes_part {
                open += 1;
            }
            if paid == 0 {
                continue;
            }
            let amount = Money {
                minor_units: paid,
                currency_code: currency.into(),
            };
            let method = match index % 3 {
                0 => billing::post_payment_request::Method::Cash(billing::CashPayment {
                    tendered: Some(Money {
                        // Paid with the smallest number of $100 notes that covers it.
                        minor_units: (paid + 9_999) / 10_000 * 10_000,
                        currency_code: currency.into(),
                    }),
                }),
                1 => billing::post_payment_request::Method::Card(billing::CardPayment {
                    authorization_code: format!("A{:05}", random.below(99_999)),
                    last_four: format!("{:04}", random.below(9_999)),
                    card_type: billing::CardType::Debit as i32,
                }),
                _ => billing::post_payment_request::Method::BankTransfer(
                    billing::BankTransferPayment {
                        reference: format!("SPEI-{:08}", random.below(99_999_999)),
                    },
                ),
            };
            self.billing
                .post_payment(billing::PostPaymentRequest {
                    patient_id: patient_id.clone(),
                    amount: Some(amount),
                    method: Some(method),
                    request_id: format!("demo-payment-{index}"),
                    // Past visits were paid before today's drawer was opened.
                    terminal_id: String::new(),
                    ..Default::default()
                })
                .await
                .context("failed to post a demo payment")?;
        }
        Ok(open)
    }
}

/// The terminal of the demo's open drawer.
pub(super) const DEMO_TERMINAL: &str = "counter-1";

impl Seeder<'_> {
    /// Today's drawer at counter-1: opened with a float of 1,500.00 (one 1000 note, one 500),
    /// three of this morning's patients charged for their visit and paying cash through it with
    /// change given, and 150.00 taken out as petty cash. The drawer stays open: closing it with
    /// what it holds counts a zero difference. Returns the number of cash payments.
    pub(super) async fn seed_drawer(
        &mut self,
        patient_ids: &[String],
        currency: &str,
    ) -> anyhow::Result<usize> {
        let money = |minor_units: i64| Money {
            minor_units,
            currency_code: currency.into(),
        };
        let note = |value: i64, count: i32| billing::DenominationCount {
            kind: billing::DenominationKind::Note as i32,
            value: Some(money(value)),
            count,
        };
        self.billing
            .open_cash_drawer(billing::OpenCashDrawerRequest {
                terminal_id: DEMO_TERMINAL.into(),
                opening_count: vec![note(100_000, 1), note(50_000, 1)],
                opening_difference_reason: String::new(),
                request_id: "demo-drawer-open".into(),
            })
            .await
            .context("failed to open the demo drawer")?;
        // The first patients of the day (checked in) had these visits (see `schedule::VISITS`).
        let visits = [
            ("CONS-01", 50_000, 100_000),
            ("LIMP-01", 80_000, 100_000),
            ("RES-01", 120_000, 150_000),
        ];
        for (index, (patient_id, (code, price, tendered))) in
            patient_ids.iter().zip(visits).enumerate()
        {
            self.billing
                .post_charge(billing::PostChargeRequest {
                    patient_id: patient_id.clone(),
                    price_code: code.into(),
                    quantity: 1,
                    request_id: format!("demo-today-charge-{index}"),
                    ..Default::default()
                })
                .await
                .context("failed to charge a demo visit")?;
            self.billing
                .post_payment(billing::PostPaymentRequest {
                    patient_id: patient_id.clone(),
                    amount: Some(money(price)),
                    method: Some(billing::post_payment_request::Method::Cash(
                        billing::CashPayment {
                            tendered: Some(money(tendered)),
                        },
                    )),
                    request_id: format!("demo-today-payment-{index}"),
                    terminal_id: DEMO_TERMINAL.into(),
                    ..Default::default()
                })
                .await
                .context("failed to take a demo cash payment")?;
        }
        self.billing
            .record_cash_movement(billing::RecordCashMovementRequest {
                terminal_id: DEMO_TERMINAL.into(),
                direction: billing::CashMovementDirection::Out as i32,
                category: billing::CashMovementCategory::PettyCash as i32,
                amount: Some(money(15_000)),
                note: "Papelería".into(),
                request_id: "demo-drawer-petty-cash".into(),
            })
            .await
            .context("failed to record the demo petty cash")?;
        Ok(visits.len())
    }
}

pub(super) const PRICE_LIST: &[(&str, &str, i64, billing::PriceListItemKind)] = &[
    (
        "CONS-01",
        "Consulta de valoración",
        50_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "LIMP-01",
        "Limpieza dental (profilaxis)",
        80_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "RES-01",
        "Resina (una superficie)",
        120_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "EXT-01",
        "Extracción simple",
        150_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "ENDO-01",
        "Endodoncia (un conducto)",
        450_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "RX-PAN",
        "Radiografía panorámica",
        65_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "BLAN-01",
        "Blanqueamiento en consultorio",
        350_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "CORONA-ZR",
        "Corona de zirconia",
        750_000,
        billing::PriceListItemKind::Service,
    ),
    (
        "ORTO-MES",
        "Ortodoncia, mensualidad",
        120_000,
        billing::PriceListItemKind::Therapy,
    ),
    (
        "FLUOR-01",
        "Aplicación de flúor",
        40_000,
        billing::PriceListItemKind::Therapy,
    ),
    (
        "PROD-CEP",
        "Cepillo eléctrico",
        95_000,
        billing::PriceListItemKind::Product,
    ),
    (
        "PROD-HILO",
        "Hilo dental 50 m",
        8_500,
        billing::PriceListItemKind::Product,
    ),
];
