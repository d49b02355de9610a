//! The Pagos 2.0 complement of a payment document (CFDI type P): a payment received on invoices
//! issued PPD, each named by its UUID with the instalment number and the balance before and
//! after, and the taxes of the part paid, as SAT's Pagos20.xsd describes them and its
//! Pagos20.xslt lists them in the cadena original.
//!
//! The taxes of a payment are those of the invoice in proportion to what it pays (ImpPagado /
//! the invoice's Total), per kind of tax: VAT-exempt bases, and 16 % VAT bases with their tax.
//! The complement is due by the fifth calendar day of the month after the payment (SAT's
//! Resolución Miscelánea, rule 2.7.1.35).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use clinic_common::Money;
use clinic_common::money::MoneyError;
use rust_decimal::Decimal;

use super::cfdi::{Attributes, Element, VAT_RATE, fixed, money, round};

pub const NAMESPACE: &str = "http://www.sat.gob.mx/Pagos20";
pub const SCHEMA: &str = "http://www.sat.gob.mx/sitio_internet/cfd/Pagos/Pagos20.xsd";

/// The taxes of a PPD invoice as issued: its Total, its VAT-exempt base and its 16 % VAT base
/// and tax.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvoiceTaxes {
    pub total: Decimal,
    pub exempt_base: Option<Decimal>,
    pub vat_base: Option<Decimal>,
    pub vat: Option<Decimal>,
}

/// One invoice a payment pays (DoctoRelacionado).
#[derive(Debug, Clone, PartialEq)]
pub struct PaidDocument {
    /// IdDocumento: the invoice's UUID.
    pub uuid: String,
    pub series: String,
    pub folio: String,
    /// NumParcialidad: 1 for the first payment on the invoice.
    pub installment: i64,
    /// ImpSaldoAnt, in minor units.
    pub previous_balance_minor: i64,
    /// ImpPagado, in minor units.
    pub paid_minor: i64,
    pub taxes: InvoiceTaxes,
}

/// The payment a type P document reports (one Pago).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentReceived {
    /// FechaPago: when the money was received, local time.
    pub paid_at: NaiveDateTime,
    /// FormaDePagoP (c_FormaPago).
    pub form: String,
    pub currency: String,
    pub documents: Vec<PaidDocument>,
}

/// A document's taxes in proportion to what is paid: (exempt base, VAT base, VAT), 6 places.
struct PaidTaxes {
    exempt_base: Option<Decimal>,
    vat_base: Option<Decimal>,
    vat: Option<Decimal>,
}

impl PaidDocument {
    fn paid_taxes(&self) -> PaidTaxes {
        let taxes = self.taxes;
        let share = if taxes.total.is_zero() {
            Decimal::ONE
        } else {
            money(self.paid_minor) / taxes.total
        };
        let vat_base = taxes.vat_base.map(|base| round(base * share, 6));
        PaidTaxes {
            exempt_base: taxes.exempt_base.map(|base| round(base * share, 6)),
            vat_base,
            vat: vat_base.map(|base| round(base * VAT_RATE, 6)),
        }
    }

    /// ObjetoImpDR: 02 when the invoice carried taxes (exempt ones included), else 01.
    fn subject_to_tax(&self) -> bool {
        self.taxes.exempt_base.is_some() || self.taxes.vat_base.is_some()
    }

    fn attributes(&self) -> Attributes {
        let remaining = self.previous_balance_minor - self.paid_minor;
        vec![
            ("IdDocumento", self.uuid.clone()),
            ("Serie", self.series.clone()),
            ("Folio", self.folio.clone()),
            ("MonedaDR", "MXN".to_owned()),
            ("EquivalenciaDR", "1".to_owned()),
            ("NumParcialidad", self.installment.to_string()),
            ("ImpSaldoAnt", fixed(money(self.previous_balance_minor), 2)),
            ("ImpPagado", fixed(money(self.paid_minor), 2)),
            ("ImpSaldoInsoluto", fixed(money(remaining), 2)),
            (
                "ObjetoImpDR",
                if self.subject_to_tax() { "02" } else { "01" }.to_owned(),
            ),
        ]
    }

    /// TrasladoDR: BaseDR, ImpuestoDR, TipoFactorDR, (TasaOCuotaDR), (ImporteDR).
    fn transfers(&self) -> Vec<Attributes> {
        transfers(&self.paid_taxes(), "DR")
    }
}

fn transfers(taxes: &PaidTaxes, suffix: &str) -> Vec<Attributes> {
    let name = |base: &'static str| -> &'static str {
        match (base, suffix) {
            ("Base", "DR") => "BaseDR",
            ("Impuesto", "DR") => "ImpuestoDR",
            ("TipoFactor", "DR") => "TipoFactorDR",
            ("TasaOCuota", "DR") => "TasaOCuotaDR",
            ("Importe", "DR") => "ImporteDR",
            ("Base", _) => "BaseP",
            ("Impuesto", _) => "ImpuestoP",
            ("TipoFactor", _) => "TipoFactorP",
            ("TasaOCuota", _) => "TasaOCuotaP",
            _ => "ImporteP",
        }
    };
    let mut out = Vec::new();
    if let (Some(base), Some(vat)) = (taxes.vat_base, taxes.vat) {
        out.push(vec![
            (name("Base"), fixed(base, 6)),
            (name("Impuesto"), "002".to_owned()),
            (name("TipoFactor"), "Tasa".to_owned()),
            (name("TasaOCuota"), "0.160000".to_owned()),
            (name("Importe"), fixed(vat, 6)),
        ]);
    }
    if let Some(base) = taxes.exempt_base {
        out.push(vec![
            (name("Base"), fixed(base, 6)),
            (name("Impuesto"), "002".to_owned()),
            (name("TipoFactor"), "Exento".to_owned()),
        ]);
    }
    out
}

impl PaymentReceived {
    pub fn amount_minor(&self) -> i64 {
        self.documents
            .iter()
            .map(|document| document.paid_minor)
            .sum()
    }

    /// The payment's taxes: its documents' summed (ImpuestosP).
    fn taxes(&self) -> PaidTaxes {
        let mut total = PaidTaxes {
            exempt_base: None,
            vat_base: None,
            vat: None,
        };
        let add = |sum: &mut Option<Decimal>, value: Option<Decimal>| {
            if let Some(value) = value {
                *sum.get_or_insert(Decimal::ZERO) += value;
            }
        };
        for document in &self.documents {
            let taxes = document.paid_taxes();
            add(&mut total.exempt_base, taxes.exempt_base);
            add(&mut total.vat_base, taxes.vat_base);
            add(&mut total.vat, taxes.vat);
        }
        total
    }

    /// Totales: the VAT figures in pesos (2 places), then MontoTotalPagos.
    fn totals(&self) -> Attributes {
        let taxes = self.taxes();
        let mut attributes = Vec::new();
        if let (Some(base), Some(vat)) = (taxes.vat_base, taxes.vat) {
            attributes.push(("TotalTrasladosBaseIVA16", fixed(base, 2)));
            attributes.push(("TotalTrasladosImpuestoIVA16", fixed(vat, 2)));
        }
        if let Some(base) = taxes.exempt_base {
            attributes.push(("TotalTrasladosBaseIVAExento", fixed(base, 2)));
        }
        attributes.push(("MontoTotalPagos", fixed(money(self.amount_minor()), 2)));
        attributes
    }

    /// Pago: FechaPago, FormaDePagoP, MonedaP, TipoCambioP, Monto.
    fn attributes(&self) -> Attributes {
        vec![
            (
                "FechaPago",
                self.paid_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ),
            ("FormaDePagoP", self.form.clone()),
            ("MonedaP", self.currency.clone()),
            // SAT requires 1 when the payment is in pesos.
            ("TipoCambioP", "1".to_owned()),
            ("Monto", fixed(money(self.amount_minor()), 2)),
        ]
    }

    pub(super) fn write_xml(&self, xml: &mut String) {
        let mut pagos = Element::new("pago20:Pagos");
        pagos.attribute("Version", "2.0");
        xml.push_str(&pagos.open());
        let mut totals = Element::new("pago20:Totales");
        for (name, value) in self.totals() {
            totals.attribute(name, &value);
        }
        xml.push_str(&totals.empty());
        let mut pago = Element::new("pago20:Pago");
        for (name, value) in self.attributes() {
            pago.attribute(name, &value);
        }
        xml.push_str(&pago.open());
        for document in &self.documents {
            let mut element = Element::new("pago20:DoctoRelacionado");
            for (name, value) in document.attributes() {
                element.attribute(name, &value);
            }
            let transfers = document.transfers();
            if transfers.is_empty() {
                xml.push_str(&element.empty());
                continue;
            }
            xml.push_str(&element.open());
            xml.push_str("<pago20:ImpuestosDR><pago20:TrasladosDR>");
            for transfer in transfers {
                let mut element = Element::new("pago20:TrasladoDR");
                for (name, value) in transfer {
                    element.attribute(name, &value);
                }
                xml.push_str(&element.empty());
            }
            xml.push_str("</pago20:TrasladosDR></pago20:ImpuestosDR></pago20:DoctoRelacionado>");
        }
        let transfers = transfers(&self.taxes(), "P");
        if !transfers.is_empty() {
            xml.push_str("<pago20:ImpuestosP><pago20:TrasladosP>");
            for transfer in transfers {
                let mut element = Element::new("pago20:TrasladoP");
                for (name, value) in transfer {
                    element.attribute(name, &value);
                }
                xml.push_str(&element.empty());
            }
            xml.push_str("</pago20:TrasladosP></pago20:ImpuestosP>");
        }
        xml.push_str("</pago20:Pago></pago20:Pagos>");
    }

    /// The complement's values in Pagos20.xslt's order.
    pub(super) fn cadena_values(&self) -> Vec<String> {
        let mut values = vec!["2.0".to_owned()];
        values.extend(self.totals().into_iter().map(|(_, value)| value));
        values.extend(self.attributes().into_iter().map(|(_, value)| value));
        for document in &self.documents {
            values.extend(document.attributes().into_iter().map(|(_, value)| value));
            for transfer in document.transfers() {
                values.extend(transfer.into_iter().map(|(_, value)| value));
            }
        }
        for transfer in transfers(&self.taxes(), "P") {
            values.extend(transfer.into_iter().map(|(_, value)| value));
        }
        values
    }
}

/// The last day a payment received on `paid_on` may get its complement: the fifth calendar day
/// of the following month.
pub fn complement_deadline(paid_on: NaiveDate) -> NaiveDate {
    let (year, month) = if paid_on.month() == 12 {
        (paid_on.year() + 1, 1)
    } else {
        (paid_on.year(), paid_on.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 5).unwrap_or(paid_on)
}

/// What a payment pays on one PPD invoice: the invoice's balance before it (ImpSaldoAnt) and
/// what it pays (ImpPagado).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instalment {
    pub previous_balance: Money,
    pub paid: Money,
}

/// The instalment a payment holding `held` on a PPD invoice's charges pays: the invoice's
/// balance is its `total` less what payment documents `reported_paid` on it and what its credit
/// notes' CFDI `credited`; the payment pays what it holds, up to that balance. `None` when the
/// balance is paid in full already.
pub fn instalment(
    total: Money,
    reported_paid: Money,
    credited: Money,
    held: Money,
) -> Result<Option<Instalment>, MoneyError> {
    let previous_balance = total.checked_sub(reported_paid)?.checked_sub(credited)?;
    let paid = if held.minor_units() < previous_balance.minor_units() {
        held
    } else {
        previous_balance
    };
    if !paid.is_positive() {
        return Ok(None);
    }
    Ok(Some(Instalment {
        previous_balance,
        paid,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(paid_minor: i64) -> PaidDocument {
        PaidDocument {
            uuid: "5FB2822E-396D-4725-8521-CDC4BDD20CCF".into(),
            series: "F".into(),
            folio: "7".into(),
            installment: 1,
            previous_balance_minor: 175_000,
            paid_minor,
            taxes: InvoiceTaxes {
                total: Decimal::new(175_000, 2),
                exempt_base: Some(Decimal::new(80_000, 2)),
                vat_base: Some(Decimal::new(81_897, 2)),
                vat: Some(Decimal::new(13_103, 2)),
            },
        }
    }

    #[test]
    fn a_part_payment_carries_its_share_of_each_tax() {
        let payment = PaymentReceived {
            paid_at: NaiveDate::from_ymd_opt(2026, 11, 22)
                .expect("a date")
                .and_hms_opt(12, 0, 0)
                .expect("a time"),
            form: "01".into(),
            currency: "MXN".into(),
            documents: vec![document(87_500)],
        };
        let values = payment.cadena_values();
        assert_eq!(
            values[..5],
            ["2.0", "409.49", "65.52", "400.00", "875.00"].map(str::to_owned)
        );
        assert_eq!(
            values[5..10],
            ["2026-11-22T12:00:00", "01", "MXN", "1", "875.00"].map(str::to_owned)
        );
        let mut xml = String::new();
        payment.write_xml(&mut xml);
        assert!(xml.contains(r#"ImpSaldoAnt="1750.00" ImpPagado="875.00" ImpSaldoInsoluto="875.00" ObjetoImpDR="02""#), "{xml}");
        assert!(
            xml.contains(
                r#"<pago20:TrasladoDR BaseDR="400.000000" ImpuestoDR="002" TipoFactorDR="Exento"/>"#
            ),
            "{xml}"
        );
    }

    #[test]
    fn the_complement_is_due_by_the_fifth_of_the_next_month() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert_eq!(complement_deadline(day(2026, 11, 22)), day(2026, 12, 5));
        assert_eq!(complement_deadline(day(2026, 12, 31)), day(2027, 1, 5));
    }

    #[test]
    fn an_instalment_pays_what_the_payment_holds_up_to_the_balance_left() {
        let mxn = |minor| Money::from_minor(minor, clinic_common::Currency::MXN);
        let instalment = |total, reported, credited, held| {
            instalment(mxn(total), mxn(reported), mxn(credited), mxn(held)).expect("in range")
        };
        assert_eq!(
            instalment(175_000, 50_000, 25_000, 40_000),
            Some(Instalment {
                previous_balance: mxn(100_000),
                paid: mxn(40_000),
            })
        );
        assert_eq!(
            instalment(175_000, 50_000, 25_000, 140_000).map(|due| due.paid),
            Some(mxn(100_000)),
            "no more than the balance"
        );
        assert_eq!(
            instalment(175_000, 150_000, 25_000, 10_000),
            None,
            "paid in full"
        );
    }
}
