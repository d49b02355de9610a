//! CFDI 4.0 invoices (Comprobante Fiscal Digital por Internet): the model, the XML SAT's
//! cfdv40.xsd describes, and the cadena original SAT's cadenaoriginal_4_0.xslt produces from it,
//! which the seal signs.
//!
//! The cadena original is built here from the model in the XSLT's exact order (required values
//! always, optional ones only when present, each normalised: whitespace runs collapsed, ends
//! trimmed), so the seal does not depend on an XSLT engine at run time; a test compares it with
//! what SAT's own XSLT produces from the XML.
//!
//! Dental and medical services are exempt from VAT (LIVA art. 15 fr. XIV): they are objeto de
//! impuesto (02) with an "Exento" transfer. Products are sold with 16 % VAT included in the
//! price, which is split into base and tax here.

use chrono::NaiveDateTime;
use rust_decimal::{Decimal, RoundingStrategy};

/// The receptor of invoices to the general public.
pub const PUBLIC_RFC: &str = "XAXX010101000";
pub const PUBLIC_NAME: &str = "PUBLICO EN GENERAL";

/// How a concept is taxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taxation {
    /// Objeto de impuesto, exempt from VAT (medical and dental services).
    VatExempt,
    /// 16 % VAT, included in the amount.
    VatIncluded16,
    /// Not objeto de impuesto (an advance for services not yet given).
    NotSubject,
}

/// One line of an invoice, with its amount as charged (VAT included where there is VAT).
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    pub product_code: String,
    /// The price code or receipt number it refers to.
    pub identification: Option<String>,
    pub unit_code: String,
    pub description: String,
    /// In the currency's minor units, VAT included.
    pub amount_minor: i64,
    pub taxation: Taxation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    pub rfc: String,
    pub name: String,
    pub tax_regime: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receptor {
    pub party: Party,
    pub postal_code: String,
    pub cfdi_use: String,
}

/// The period a global invoice to the general public covers.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalPeriod {
    /// c_Periodicidad: 01 daily.
    pub periodicity: String,
    /// 01-12.
    pub month: String,
    pub year: i32,
}

/// An invoice before it is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Comprobante {
    pub series: String,
    pub folio: String,
    /// Local time at the place of issue, to the second.
    pub issued_at: NaiveDateTime,
    /// c_FormaPago: 01 cash, 03 transfer, 04 credit card, 28 debit card, 30 advance.
    pub payment_form: String,
    /// PUE (paid in one go) or PPD (in instalments or later).
    pub payment_method: String,
    pub currency: String,
    pub place_of_issue: String,
    pub global: Option<GlobalPeriod>,
    pub emisor: Party,
    pub receptor: Receptor,
    pub concepts: Vec<Concept>,
}

/// A concept's figures, as written: base (importe), and VAT where there is VAT.
struct Figures {
    base: Decimal,
    vat: Option<Decimal>,
}

const VAT_RATE: Decimal = Decimal::from_parts(16, 0, 0, false, 2);

fn money(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// `value` with exactly `places` decimals, as CFDI amounts are written.
fn fixed(value: Decimal, places: u32) -> String {
    let mut value = round(value, places);
    value.rescale(places);
    value.to_string()
}

impl Concept {
    fn figures(&self) -> Figures {
        let amount = money(self.amount_minor);
        match self.taxation {
            Taxation::VatIncluded16 => {
                let base = round(amount / (Decimal::ONE + VAT_RATE), 6);
                Figures {
                    base,
                    vat: Some(round(base * VAT_RATE, 6)),
                }
            }
            Taxation::VatExempt | Taxation::NotSubject => Figures {
                base: amount,
                vat: None,
            },
        }
    }
}

/// The invoice's totals as written.
pub struct Totals {
    pub subtotal: Decimal,
    pub exempt_base: Option<Decimal>,
    pub vat_base: Option<Decimal>,
    pub vat: Option<Decimal>,
    pub total: Decimal,
}

impl Comprobante {
    pub fn totals(&self) -> Totals {
        let mut subtotal = Decimal::ZERO;
        let mut exempt: Option<Decimal> = None;
        let mut vat_base: Option<Decimal> = None;
        let mut vat: Option<Decimal> = None;
        for concept in &self.concepts {
            let figures = concept.figures();
            subtotal += figures.base;
            match concept.taxation {
                Taxation::VatExempt => *exempt.get_or_insert(Decimal::ZERO) += figures.base,
                Taxation::VatIncluded16 => {
                    *vat_base.get_or_insert(Decimal::ZERO) += figures.base;
                    *vat.get_or_insert(Decimal::ZERO) += figures.vat.unwrap_or_default();
                }
                Taxation::NotSubject => {}
            }
        }
        let subtotal = round(subtotal, 2);
        let vat = vat.map(|vat| round(vat, 2));
        Totals {
            subtotal,
            exempt_base: exempt.map(|base| round(base, 2)),
            vat_base: vat_base.map(|base| round(base, 2)),
            vat,
            total: subtotal + vat.unwrap_or_default(),
        }
    }

    /// The XML, with `seal` (certificate number, certificate in base64, sello in base64).
    pub fn xml(&self, certificate_number: &str, certificate: &str, seal: &str) -> String {
        let totals = self.totals();
        let mut xml = String::new();
        xml.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        xml.push('\n');
        let mut root = Element::new("cfdi:Comprobante");
        root.attribute("xmlns:cfdi", "http://www.sat.gob.mx/cfd/4");
        root.attribute("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance");
        root.attribute(
            "xsi:schemaLocation",
            "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd",
        );
        for (name, value) in self.comprobante_attributes(&totals, certificate_number) {
            root.attribute(name, &value);
        }
        root.attribute("Sello", seal);
        root.attribute("Certificado", certificate);
        xml.push_str(&root.open());
        if let Some(global) = &self.global {
            let mut element = Element::new("cfdi:InformacionGlobal");
            element.attribute("Periodicidad", &global.periodicity);
            element.attribute("Meses", &global.month);
            element.attribute("Año", &global.year.to_string());
            xml.push_str(&element.empty());
        }
        let mut emisor = Element::new("cfdi:Emisor");
        emisor.attribute("Rfc", &self.emisor.rfc);
        emisor.attribute("Nombre", &self.emisor.name);
        emisor.attribute("RegimenFiscal", &self.emisor.tax_regime);
        xml.push_str(&emisor.empty());
        let mut receptor = Element::new("cfdi:Receptor");
        receptor.attribute("Rfc", &self.receptor.party.rfc);
        receptor.attribute("Nombre", &self.receptor.party.name);
        receptor.attribute("DomicilioFiscalReceptor", &self.receptor.postal_code);
        receptor.attribute("RegimenFiscalReceptor", &self.receptor.party.tax_regime);
        receptor.attribute("UsoCFDI", &self.receptor.cfdi_use);
        xml.push_str(&receptor.empty());
        xml.push_str("<cfdi:Conceptos>");
        for concept in &self.concepts {
            let mut element = Element::new("cfdi:Concepto");
            for (name, value) in concept_attributes(concept) {
                element.attribute(name, &value);
            }
            let transfers = concept_transfers(concept);
            if transfers.is_empty() {
                xml.push_str(&element.empty());
                continue;
            }
            xml.push_str(&element.open());
            xml.push_str("<cfdi:Impuestos><cfdi:Traslados>");
            for transfer in transfers {
                let mut element = Element::new("cfdi:Traslado");
                for (name, value) in transfer {
                    element.attribute(name, &value);
                }
                xml.push_str(&element.empty());
            }
            xml.push_str("</cfdi:Traslados></cfdi:Impuestos></cfdi:Concepto>");
        }
        xml.push_str("</cfdi:Conceptos>");
        let transfers = summary_transfers(&totals);
        if !transfers.is_empty() {
            let mut element = Element::new("cfdi:Impuestos");
            if let Some(vat) = totals.vat {
                element.attribute("TotalImpuestosTrasladados", &fixed(vat, 2));
            }
            xml.push_str(&element.open());
            xml.push_str("<cfdi:Traslados>");
            for transfer in transfers {
                let mut element = Element::new("cfdi:Traslado");
                for (name, value) in transfer {
                    element.attribute(name, &value);
                }
                xml.push_str(&element.empty());
            }
            xml.push_str("</cfdi:Traslados></cfdi:Impuestos>");
        }
        xml.push_str("</cfdi:Comprobante>\n");
        xml
    }

    fn comprobante_attributes(
        &self,
        totals: &Totals,
        certificate_number: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("Version", "4.0".to_owned()),
            ("Serie", self.series.clone()),
            ("Folio", self.folio.clone()),
            (
                "Fecha",
                self.issued_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ),
            ("FormaPago", self.payment_form.clone()),
            ("NoCertificado", certificate_number.to_owned()),
            ("SubTotal", fixed(totals.subtotal, 2)),
            ("Moneda", self.currency.clone()),
            ("Total", fixed(totals.total, 2)),
            // Ingreso: billing issues income invoices.
            ("TipoDeComprobante", "I".to_owned()),
            ("Exportacion", "01".to_owned()),
            ("MetodoPago", self.payment_method.clone()),
            ("LugarExpedicion", self.place_of_issue.clone()),
        ]
    }

    /// The cadena original, as SAT's cadenaoriginal_4_0.xslt makes it from [`Self::xml`]:
    /// `||` and the values in the XSLT's order, `|`-separated, then `||`.
    pub fn cadena_original(&self, certificate_number: &str) -> String {
        let totals = self.totals();
        let mut values: Vec<String> = Vec::new();
        // Comprobante: Version, Serie, Folio, Fecha, FormaPago, NoCertificado,
        // (CondicionesDePago), SubTotal, (Descuento), Moneda, (TipoCambio), Total,
        // TipoDeComprobante, Exportacion, MetodoPago, LugarExpedicion, (Confirmacion).
        for (_, value) in self.comprobante_attributes(&totals, certificate_number) {
            values.push(value);
        }
        if let Some(global) = &self.global {
            values.push(global.periodicity.clone());
            values.push(global.month.clone());
            values.push(global.year.to_string());
        }
        values.push(self.emisor.rfc.clone());
        values.push(self.emisor.name.clone());
        values.push(self.emisor.tax_regime.clone());
        values.push(self.receptor.party.rfc.clone());
        values.push(self.receptor.party.name.clone());
        values.push(self.receptor.postal_code.clone());
        values.push(self.receptor.party.tax_regime.clone());
        values.push(self.receptor.cfdi_use.clone());
        for concept in &self.concepts {
            for (_, value) in concept_attributes(concept) {
                values.push(value);
            }
            for transfer in concept_transfers(concept) {
                values.extend(transfer.into_iter().map(|(_, value)| value));
            }
        }
        // Impuestos: the transfers, then TotalImpuestosTrasladados.
        for transfer in summary_transfers(&totals) {
            values.extend(transfer.into_iter().map(|(_, value)| value));
        }
        if let Some(vat) = totals.vat {
            values.push(fixed(vat, 2));
        }
        let mut cadena = String::from("||");
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                cadena.push('|');
            }
            cadena.push_str(&normalise(value));
        }
        cadena.push_str("||");
        cadena
    }
}

/// A concept's attributes in the XSLT's order: ClaveProdServ, (NoIdentificacion), Cantidad,
/// ClaveUnidad, (Unidad), Descripcion, ValorUnitario, Importe, (Descuento), ObjetoImp.
fn concept_attributes(concept: &Concept) -> Vec<(&'static str, String)> {
    let base = fixed(concept.figures().base, 2);
    let mut attributes = vec![("ClaveProdServ", concept.product_code.clone())];
    if let Some(identification) = &concept.identification {
        attributes.push(("NoIdentificacion", identification.clone()));
    }
    attributes.extend([
        ("Cantidad", "1".to_owned()),
        ("ClaveUnidad", concept.unit_code.clone()),
        ("Descripcion", concept.description.clone()),
        ("ValorUnitario", fixed(concept.figures().base, 6)),
        ("Importe", base),
        (
            "ObjetoImp",
            match concept.taxation {
                Taxation::NotSubject => "01",
                Taxation::VatExempt | Taxation::VatIncluded16 => "02",
            }
            .to_owned(),
        ),
    ]);
    attributes
}

/// A concept's VAT transfer: Base, Impuesto, TipoFactor, (TasaOCuota), (Importe).
fn concept_transfers(concept: &Concept) -> Vec<Vec<(&'static str, String)>> {
    let figures = concept.figures();
    match concept.taxation {
        Taxation::NotSubject => Vec::new(),
        Taxation::VatExempt => vec![vec![
            ("Base", fixed(figures.base, 6)),
            ("Impuesto", "002".to_owned()),
            ("TipoFactor", "Exento".to_owned()),
        ]],
        Taxation::VatIncluded16 => vec![vec![
            ("Base", fixed(figures.base, 6)),
            ("Impuesto", "002".to_owned()),
            ("TipoFactor", "Tasa".to_owned()),
            ("TasaOCuota", "0.160000".to_owned()),
            ("Importe", fixed(figures.vat.unwrap_or_default(), 6)),
        ]],
    }
}

/// The invoice's VAT transfers by kind, as its Impuestos node lists them.
fn summary_transfers(totals: &Totals) -> Vec<Vec<(&'static str, String)>> {
    let mut transfers = Vec::new();
    if let (Some(base), Some(vat)) = (totals.vat_base, totals.vat) {
        transfers.push(vec![
            ("Base", fixed(base, 2)),
            ("Impuesto", "002".to_owned()),
            ("TipoFactor", "Tasa".to_owned()),
            ("TasaOCuota", "0.160000".to_owned()),
            ("Importe", fixed(vat, 2)),
        ]);
    }
    if let Some(base) = totals.exempt_base {
        transfers.push(vec![
            ("Base", fixed(base, 2)),
            ("Impuesto", "002".to_owned()),
            ("TipoFactor", "Exento".to_owned()),
        ]);
    }
    transfers
}

/// A value as the XSLT's `Requerido`/`Opcional` templates write it: whitespace runs collapsed
/// to one space, leading and trailing whitespace dropped.
fn normalise(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An XML element being written, with attributes escaped.
struct Element {
    name: &'static str,
    attributes: String,
}

impl Element {
    fn new(name: &'static str) -> Self {
        Element {
            name,
            attributes: String::new(),
        }
    }

    fn attribute(&mut self, name: &str, value: &str) {
        self.attributes.push(' ');
        self.attributes.push_str(name);
        self.attributes.push_str("=\"");
        for c in value.chars() {
            match c {
                '&' => self.attributes.push_str("&amp;"),
                '<' => self.attributes.push_str("&lt;"),
                '>' => self.attributes.push_str("&gt;"),
                '"' => self.attributes.push_str("&quot;"),
                '\'' => self.attributes.push_str("&apos;"),
                c => self.attributes.push(c),
            }
        }
        self.attributes.push('"');
    }

    fn open(&self) -> String {
        format!("<{}{}>", self.name, self.attributes)
    }

    fn empty(&self) -> String {
        format!("<{}{}/>", self.name, self.attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comprobante(concepts: Vec<Concept>) -> Comprobante {
        Comprobante {
            series: "F".into(),
            folio: "1".into(),
            issued_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
                .expect("a date")
                .and_hms_opt(12, 0, 0)
                .expect("a time"),
            payment_form: "01".into(),
            payment_method: "PUE".into(),
            currency: "MXN".into(),
            place_of_issue: "06700".into(),
            global: None,
            emisor: Party {
                rfc: "EKU9003173C9".into(),
                name: "ESCUELA KEMPER URGATE".into(),
                tax_regime: "601".into(),
            },
            receptor: Receptor {
                party: Party {
                    rfc: "HEPL900702AB1".into(),
                    name: "LUCIA  HERNANDEZ & HIJOS".into(),
                    tax_regime: "605".into(),
                },
                postal_code: "06700".into(),
                cfdi_use: "D01".into(),
            },
            concepts,
        }
    }

    fn service(minor: i64) -> Concept {
        Concept {
            product_code: "85122001".into(),
            identification: Some("LIMP-01".into()),
            unit_code: "E48".into(),
            description: "Limpieza dental".into(),
            amount_minor: minor,
            taxation: Taxation::VatExempt,
        }
    }

    #[test]
    fn products_split_vat_out_of_the_price_and_the_total_is_the_price() {
        let product = Concept {
            product_code: "53131503".into(),
            identification: None,
            unit_code: "H87".into(),
            description: "Cepillo".into(),
            amount_minor: 95_000,
            taxation: Taxation::VatIncluded16,
        };
        let totals = comprobante(vec![product, service(80_000)]).totals();
        assert_eq!(fixed(totals.subtotal, 2), "1618.97");
        assert_eq!(totals.vat.map(|vat| fixed(vat, 2)), Some("131.03".into()));
        assert_eq!(fixed(totals.total, 2), "1750.00");
    }

    #[test]
    fn the_cadena_lists_values_in_order_normalised_and_unescaped() {
        let cadena = comprobante(vec![service(80_000)]).cadena_original("30001000000500003416");
        assert_eq!(
            cadena,
            "||4.0|F|1|2026-11-22T12:00:00|01|30001000000500003416|800.00|MXN|800.00|I|01|PUE|\
             06700|EKU9003173C9|ESCUELA KEMPER URGATE|601|HEPL900702AB1|LUCIA HERNANDEZ & HIJOS|\
             06700|605|D01|85122001|LIMP-01|1|E48|Limpieza dental|800.000000|800.00|02|\
             800.000000|002|Exento|800.00|002|Exento||"
        );
    }

    #[test]
    fn attribute_values_are_escaped_in_the_xml() {
        let xml = comprobante(vec![service(80_000)]).xml("1", "CERT", "SELLO");
        assert!(
            xml.contains(r#"Nombre="LUCIA  HERNANDEZ &amp; HIJOS""#),
            "{xml}"
        );
        assert!(xml.contains(r#"Sello="SELLO""#));
    }
}
