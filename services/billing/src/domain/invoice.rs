//! Invoices as billing issues them: a payment's own CFDI to the patient's fiscal data, a day's
//! global CFDI to the general public, a PPD invoice of charges, a credit note's CFDI and a
//! payment complement, built from what billing recorded.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use clinic_common::Money;
use clinic_common::ids::{ChargeId, PaymentId};
use uuid::Uuid;

use super::cfdi::{
    Concept, GlobalPeriod, PUBLIC_NAME, PUBLIC_RFC, Party, Receptor, Taxation, element_attribute,
    root_attribute,
};
use super::{CorrectionId, PriceListItemKind, ReceiptNumber, SatCodes};

/// An invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvoiceId(Uuid);

impl InvoiceId {
    pub fn new() -> Self {
        InvoiceId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Uuid::parse_str(text.trim())
            .map(InvoiceId)
            .map_err(|_| "must be an invoice id (UUID)")
    }
}

impl std::fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// As [`InvoiceId::parse`], so that an id kept as text (such as an idempotency key's
/// resource) reads back as one.
impl std::str::FromStr for InvoiceId {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        InvoiceId::parse(text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceSubject {
    Payment(PaymentId),
    /// A day's global invoice, and the payments it covers.
    Global {
        day: NaiveDate,
        payments: Vec<PaymentId>,
    },
    /// An invoice issued PPD for charges not yet paid, with what it bills for each.
    Charges(Vec<(ChargeId, i64)>),
    /// The CFDI (Egreso) of a credit note, related to the invoice of the charge it credits.
    CreditNote {
        correction_id: CorrectionId,
        related: InvoiceId,
    },
    /// A payment document (type P, Pagos 2.0) of a payment on invoices issued PPD.
    PaymentReceipt {
        payment_id: PaymentId,
        documents: Vec<ReceiptDocument>,
    },
}

/// One PPD invoice a payment document reports paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptDocument {
    pub invoice_id: InvoiceId,
    /// NumParcialidad.
    pub installment: i64,
    pub previous_balance_minor: i64,
    pub paid_minor: i64,
}

/// A PAC's stamp on an invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceStamp {
    /// The folio fiscal.
    pub uuid: String,
    /// FechaTimbrado as written in the TFD.
    pub stamped_at: String,
    pub pac_rfc: String,
    pub sat_certificate_number: String,
    /// The stamped CFDI: the sealed XML with its TimbreFiscalDigital.
    pub xml: String,
}

/// An invoice as issued and stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub invoice_id: InvoiceId,
    pub subject: InvoiceSubject,
    pub series: String,
    pub folio: i64,
    pub receptor_rfc: String,
    pub total: Money,
    pub certificate_number: String,
    pub cadena_original: String,
    pub xml: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Once a PAC stamped it.
    pub stamp: Option<InvoiceStamp>,
}

/// What a payment paid, as its invoice lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PaidLine {
    pub price_code: String,
    pub description: String,
    pub kind: PriceListItemKind,
    pub amount_minor: i64,
    /// The item's own SAT codes, when the price list has them.
    pub sat: Option<SatCodes>,
}

/// A payment's money by method, for the invoice's FormaPago.
#[derive(Debug, Clone, PartialEq)]
pub struct MoneyPart {
    /// `cash`, `card` or `bank_transfer`.
    pub method: String,
    pub card_type: Option<String>,
    pub amount_minor: i64,
}

/// The c_FormaPago of money paid in `parts`: the method that brought most (SAT's rule for a
/// payment in several forms).
pub fn payment_form(parts: &[MoneyPart]) -> &'static str {
    let mut totals: Vec<(&'static str, i64)> = Vec::new();
    for part in parts {
        let form = match (part.method.as_str(), part.card_type.as_deref()) {
            ("cash", _) => "01",
            ("bank_transfer", _) => "03",
            ("card", Some("credit")) => "04",
            ("card", _) => "28",
            _ => "99",
        };
        match totals.iter_mut().find(|(listed, _)| *listed == form) {
            Some((_, total)) => *total += part.amount_minor,
            None => totals.push((form, part.amount_minor)),
        }
    }
    totals
        .iter()
        .max_by_key(|(_, total)| *total)
        .map_or("99", |(form, _)| form)
}

/// One concept per charge paid, and an advance concept for money left unallocated.
pub fn payment_concepts(paid: &[PaidLine], unallocated_minor: i64) -> Vec<Concept> {
    let mut concepts: Vec<Concept> = paid
        .iter()
        .filter(|line| line.amount_minor > 0)
        .map(|line| {
            let product = line.kind == PriceListItemKind::Product;
            // The item's own codes; else 85122001 "Servicios de odontólogos" (E48, unit of
            // service), and products not in the catalogue as such 01010101 (H87, piece).
            let (product_code, unit_code) = match &line.sat {
                Some(sat) => (sat.product_code.clone(), sat.unit_code.clone()),
                None if product => ("01010101".to_owned(), "H87".to_owned()),
                None => ("85122001".to_owned(), "E48".to_owned()),
            };
            Concept {
                product_code,
                identification: Some(line.price_code.clone()),
                unit_code,
                description: line.description.clone(),
                amount_minor: line.amount_minor,
                taxation: if product {
                    Taxation::VatIncluded16
                } else {
                    Taxation::VatExempt
                },
            }
        })
        .collect();
    if unallocated_minor > 0 {
        // An advance for services not yet given: SAT's concept for advances.
        concepts.push(Concept {
            product_code: "84111506".into(),
            identification: None,
            unit_code: "ACT".into(),
            description: "Anticipo del bien o servicio".into(),
            amount_minor: unallocated_minor,
            taxation: Taxation::NotSubject,
        });
    }
    concepts
}

/// The global invoice's concept for one payment to the general public.
pub fn public_sale(receipt_number: ReceiptNumber, amount_minor: i64) -> Concept {
    Concept {
        product_code: "01010101".into(),
        identification: Some(receipt_number.to_string()),
        unit_code: "ACT".into(),
        description: "Venta".into(),
        amount_minor,
        taxation: Taxation::VatExempt,
    }
}

/// A patient's fiscal data as the patient registry holds it: whom their invoices are made out to.
#[derive(Debug, Clone, PartialEq)]
pub struct FiscalData {
    pub rfc: String,
    pub legal_name: String,
    pub tax_regime: String,
    pub postal_code: String,
    /// Their UsoCFDI; empty when they named none.
    pub cfdi_use: String,
}

impl FiscalData {
    /// The receptor of the patient's invoices: UsoCFDI D01 (dental and medical fees) unless
    /// they named another.
    pub fn receptor(&self) -> Receptor {
        Receptor {
            party: Party {
                rfc: self.rfc.clone(),
                name: self.legal_name.clone(),
                tax_regime: self.tax_regime.clone(),
            },
            postal_code: self.postal_code.clone(),
            cfdi_use: if self.cfdi_use.is_empty() {
                "D01".into()
            } else {
                self.cfdi_use.clone()
            },
        }
    }
}

/// The receptor of a global invoice: the general public (regime 616, UsoCFDI S01), whose
/// fiscal address is the place of issue.
pub fn public_receptor(place_of_issue: &str) -> Receptor {
    Receptor {
        party: Party {
            rfc: PUBLIC_RFC.into(),
            name: PUBLIC_NAME.into(),
            tax_regime: "616".into(),
        },
        postal_code: place_of_issue.to_owned(),
        cfdi_use: "S01".into(),
    }
}

/// The period of the global invoice of `day`: daily (01), in its month and year.
pub fn daily_period(day: NaiveDate) -> GlobalPeriod {
    GlobalPeriod {
        periodicity: "01".into(),
        month: day.format("%m").to_string(),
        year: day.year(),
    }
}

/// What a credit note's CFDI takes from the invoice it credits, as that invoice's XML says.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditedInvoice {
    /// Whom the invoice went to, as it names them; UsoCFDI G02 (returns, discounts or bonuses),
    /// or S01 for the general public.
    pub receptor: Receptor,
    /// The invoice's global period, when it was a global invoice.
    pub global: Option<GlobalPeriod>,
    /// Money back the way it came (the invoice's FormaPago); on an invoice not paid yet (PPD,
    /// 99), what is owed is forgiven (15, condonación).
    pub payment_form: String,
}

impl CreditedInvoice {
    /// Reads the receptor, global period and payment form of the invoice whose XML is `xml`.
    pub fn read(xml: &str) -> Self {
        let receptor_attribute =
            |name: &str| element_attribute(xml, "cfdi:Receptor", name).unwrap_or_default();
        let rfc = receptor_attribute("Rfc");
        let public = rfc == PUBLIC_RFC;
        let receptor = Receptor {
            party: Party {
                rfc,
                name: receptor_attribute("Nombre"),
                tax_regime: receptor_attribute("RegimenFiscalReceptor"),
            },
            postal_code: receptor_attribute("DomicilioFiscalReceptor"),
            cfdi_use: if public { "S01" } else { "G02" }.into(),
        };
        let global_attribute = |name: &str| element_attribute(xml, "cfdi:InformacionGlobal", name);
        let global = global_attribute("Meses").map(|month| GlobalPeriod {
            periodicity: global_attribute("Periodicidad").unwrap_or_else(|| "01".into()),
            month,
            year: global_attribute("Año")
                .and_then(|year| year.parse().ok())
                .unwrap_or_default(),
        });
        let payment_form = match root_attribute(xml, "FormaPago").as_deref() {
            None | Some("99") => "15".to_owned(),
            Some(form) => form.to_owned(),
        };
        CreditedInvoice {
            receptor,
            global,
            payment_form,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(method: &str, card_type: Option<&str>, amount_minor: i64) -> MoneyPart {
        MoneyPart {
            method: method.into(),
            card_type: card_type.map(str::to_owned),
            amount_minor,
        }
    }

    #[test]
    fn the_form_is_the_method_that_brought_most() {
        assert_eq!(payment_form(&[part("cash", None, 100)]), "01");
        assert_eq!(
            payment_form(&[part("cash", None, 100), part("card", Some("credit"), 200)]),
            "04"
        );
        assert_eq!(payment_form(&[part("card", Some("debit"), 1)]), "28");
        assert_eq!(payment_form(&[part("bank_transfer", None, 1)]), "03");
    }

    #[test]
    fn products_carry_vat_services_are_exempt_and_the_rest_is_an_advance() {
        let concepts = payment_concepts(
            &[
                PaidLine {
                    price_code: "LIMP-01".into(),
                    description: "Limpieza".into(),
                    kind: PriceListItemKind::Service,
                    amount_minor: 80_000,
                    sat: Some(SatCodes {
                        product_code: "85121600".into(),
                        unit_code: "E48".into(),
                    }),
                },
                PaidLine {
                    price_code: "PROD-CEP".into(),
                    description: "Cepillo".into(),
                    kind: PriceListItemKind::Product,
                    amount_minor: 95_000,
                    sat: None,
                },
            ],
            10_000,
        );
        let taxation: Vec<Taxation> = concepts.iter().map(|concept| concept.taxation).collect();
        assert_eq!(
            taxation,
            [
                Taxation::VatExempt,
                Taxation::VatIncluded16,
                Taxation::NotSubject
            ]
        );
        assert_eq!(concepts[2].product_code, "84111506");
        assert_eq!(concepts[0].product_code, "85121600", "the item's own code");
        assert_eq!(
            (
                concepts[1].product_code.as_str(),
                concepts[1].unit_code.as_str()
            ),
            ("01010101", "H87"),
            "a product's default"
        );
    }
}
