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

/// TipoDeComprobante.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    /// I: income (an invoice).
    Ingreso,
    /// E: a credit note (egreso) against an invoice.
    Egreso,
    /// P: a payment received on a PPD invoice (carries the Pagos 2.0 complement).
    Pago,
}

impl DocumentType {
    fn code(self) -> &'static str {
        match self {
            DocumentType::Ingreso => "I",
            DocumentType::Egreso => "E",
            DocumentType::Pago => "P",
        }
    }
}

/// CfdiRelacionados: the CFDI this one relates to, by UUID.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// c_TipoRelacion: 01 credit note of the documents related.
    pub relation: String,
    pub uuids: Vec<String>,
}

/// An invoice before it is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Comprobante {
    pub document_type: DocumentType,
    pub series: String,
    pub folio: String,
    /// Local time at the place of issue, to the second.
    pub issued_at: NaiveDateTime,
    /// c_FormaPago: 01 cash, 03 transfer, 04 credit card, 28 debit card, 99 to be defined.
    /// None on a payment document (type P), which carries it in its complement.
    pub payment_form: Option<String>,
    /// PUE (paid in one go) or PPD (in instalments or later); None on type P.
    pub payment_method: Option<String>,
    pub currency: String,
    pub place_of_issue: String,
    pub global: Option<GlobalPeriod>,
    pub related: Option<Related>,
    pub emisor: Party,
    pub receptor: Receptor,
    /// Ignored on type P, whose one concept SAT fixes.
    pub concepts: Vec<Concept>,
    /// Type P: the payment received.
    pub payment: Option<super::pagos::PaymentReceived>,
}

/// A concept's figures, as written: base (importe), and VAT where there is VAT.
pub(super) struct Figures {
    pub(super) base: Decimal,
    pub(super) vat: Option<Decimal>,
}

/// An element's attributes in order, as written and as the cadena lists their values.
pub(super) type Attributes = Vec<(&'static str, String)>;

pub(super) const VAT_RATE: Decimal = Decimal::from_parts(16, 0, 0, false, 2);

pub(super) fn money(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

pub(super) fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// `value` with exactly `places` decimals, as CFDI amounts are written.
pub(super) fn fixed(value: Decimal, places: u32) -> String {
    let mut value = round(value, places);
    value.rescale(places);
    value.to_string()
}

impl Concept {
    pub(super) fn figures(&self) -> Figures {
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
        if self.document_type == DocumentType::Pago {
            return Totals {
                subtotal: Decimal::ZERO,
                exempt_base: None,
                vat_base: None,
                vat: None,
                total: Decimal::ZERO,
            };
        }
        totals_of(&self.concepts)
    }
}

/// The totals of an invoice of `concepts` (not a payment document).
pub fn totals_of(concepts: &[Concept]) -> Totals {
    let mut subtotal = Decimal::ZERO;
    let mut exempt: Option<Decimal> = None;
    let mut vat_base: Option<Decimal> = None;
    let mut vat: Option<Decimal> = None;
    for concept in concepts {
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

impl Comprobante {
    /// The XML, with `seal` (certificate number, certificate in base64, sello in base64).
    pub fn xml(&self, certificate_number: &str, certificate: &str, seal: &str) -> String {
        let totals = self.totals();
        let mut xml = String::new();
        xml.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        xml.push('\n');
        let mut root = Element::new("cfdi:Comprobante");
        root.attribute("xmlns:cfdi", "http://www.sat.gob.mx/cfd/4");
        root.attribute("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance");
        if self.payment.is_some() {
            root.attribute("xmlns:pago20", super::pagos::NAMESPACE);
            root.attribute(
                "xsi:schemaLocation",
                &format!(
                    "http://www.sat.gob.mx/cfd/4 \
                     http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd {} {}",
                    super::pagos::NAMESPACE,
                    super::pagos::SCHEMA
                ),
            );
        } else {
            root.attribute(
                "xsi:schemaLocation",
                "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd",
            );
        }
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
        if let Some(related) = &self.related {
            let mut element = Element::new("cfdi:CfdiRelacionados");
            element.attribute("TipoRelacion", &related.relation);
            xml.push_str(&element.open());
            for uuid in &related.uuids {
                let mut element = Element::new("cfdi:CfdiRelacionado");
                element.attribute("UUID", uuid);
                xml.push_str(&element.empty());
            }
            xml.push_str("</cfdi:CfdiRelacionados>");
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
        for (attributes, transfers) in self.concept_rows() {
            let mut element = Element::new("cfdi:Concepto");
            for (name, value) in attributes {
                element.attribute(name, &value);
            }
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
        if let Some(payment) = &self.payment {
            xml.push_str("<cfdi:Complemento>");
            payment.write_xml(&mut xml);
            xml.push_str("</cfdi:Complemento>");
        }
        xml.push_str("</cfdi:Comprobante>\n");
        xml
    }

    /// Each concept's attributes and VAT transfers. A payment document has SAT's one fixed
    /// concept: 84111506, ACT, "Pago", zero, not objeto de impuesto.
    fn concept_rows(&self) -> Vec<(Attributes, Vec<Attributes>)> {
        if self.document_type == DocumentType::Pago {
            let attributes = vec![
                ("ClaveProdServ", "84111506".to_owned()),
                ("Cantidad", "1".to_owned()),
                ("ClaveUnidad", "ACT".to_owned()),
                ("Descripcion", "Pago".to_owned()),
                ("ValorUnitario", "0".to_owned()),
                ("Importe", "0".to_owned()),
                ("ObjetoImp", "01".to_owned()),
            ];
            return vec![(attributes, Vec::new())];
        }
        self.concepts
            .iter()
            .map(|concept| (concept_attributes(concept), concept_transfers(concept)))
            .collect()
    }

    fn comprobante_attributes(&self, totals: &Totals, certificate_number: &str) -> Attributes {
        let pago = self.document_type == DocumentType::Pago;
        let mut attributes = vec![
            ("Version", "4.0".to_owned()),
            ("Serie", self.series.clone()),
            ("Folio", self.folio.clone()),
            (
                "Fecha",
                self.issued_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ),
        ];
        if let Some(form) = &self.payment_form {
            attributes.push(("FormaPago", form.clone()));
        }
        attributes.push(("NoCertificado", certificate_number.to_owned()));
        // A payment document's amounts are zero and its currency XXX: the money is in its
        // complement.
        if pago {
            attributes.extend([
                ("SubTotal", "0".to_owned()),
                ("Moneda", "XXX".to_owned()),
                ("Total", "0".to_owned()),
            ]);
        } else {
            attributes.extend([
                ("SubTotal", fixed(totals.subtotal, 2)),
                ("Moneda", self.currency.clone()),
                ("Total", fixed(totals.total, 2)),
            ]);
        }
        attributes.push(("TipoDeComprobante", self.document_type.code().to_owned()));
        attributes.push(("Exportacion", "01".to_owned()));
        if let Some(method) = &self.payment_method {
            attributes.push(("MetodoPago", method.clone()));
        }
        attributes.push(("LugarExpedicion", self.place_of_issue.clone()));
        attributes
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
        if let Some(related) = &self.related {
            values.push(related.relation.clone());
            values.extend(related.uuids.iter().cloned());
        }
        values.push(self.emisor.rfc.clone());
        values.push(self.emisor.name.clone());
        values.push(self.emisor.tax_regime.clone());
        values.push(self.receptor.party.rfc.clone());
        values.push(self.receptor.party.name.clone());
        values.push(self.receptor.postal_code.clone());
        values.push(self.receptor.party.tax_regime.clone());
        values.push(self.receptor.cfdi_use.clone());
        for (attributes, transfers) in self.concept_rows() {
            values.extend(attributes.into_iter().map(|(_, value)| value));
            for transfer in transfers {
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
        // Complemento: the Pagos 2.0 template of SAT's XSLT.
        if let Some(payment) = &self.payment {
            values.extend(payment.cadena_values());
        }
        cadena_of(&values)
    }
}

/// `||` and `values`, each normalised, `|`-separated, then `||`.
pub fn cadena_of(values: &[String]) -> String {
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

/// A concept's attributes in the XSLT's order: ClaveProdServ, (NoIdentificacion), Cantidad,
/// ClaveUnidad, (Unidad), Descripcion, ValorUnitario, Importe, (Descuento), ObjetoImp.
fn concept_attributes(concept: &Concept) -> Attributes {
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
fn concept_transfers(concept: &Concept) -> Vec<Attributes> {
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
fn summary_transfers(totals: &Totals) -> Vec<Attributes> {
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
pub(super) struct Element {
    name: &'static str,
    attributes: String,
}

impl Element {
    pub(super) fn new(name: &'static str) -> Self {
        Element {
            name,
            attributes: String::new(),
        }
    }

    pub(super) fn attribute(&mut self, name: &str, value: &str) {
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

    pub(super) fn open(&self) -> String {
        format!("<{}{}>", self.name, self.attributes)
    }

    pub(super) fn empty(&self) -> String {
        format!("<{}{}/>", self.name, self.attributes)
    }
}

/// The TimbreFiscalDigital 1.1 a PAC adds when it stamps a CFDI: the folio fiscal (UUID), when,
/// who, the CFDI's own sello, and the SAT certificate whose key signed the TFD's cadena
/// original (SelloSAT).
#[derive(Debug, Clone, PartialEq)]
pub struct Timbre {
    pub uuid: String,
    /// FechaTimbrado, local time of Mexico, to the second.
    pub stamped_at: NaiveDateTime,
    pub pac_rfc: String,
    /// SelloCFD: the stamped CFDI's Sello.
    pub cfdi_seal: String,
    pub sat_certificate_number: String,
}

const TFD_NAMESPACE: &str = "http://www.sat.gob.mx/TimbreFiscalDigital";
const TFD_SCHEMA: &str =
    "http://www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd";

impl Timbre {
    fn attributes(&self) -> Attributes {
        vec![
            ("Version", "1.1".to_owned()),
            ("UUID", self.uuid.clone()),
            (
                "FechaTimbrado",
                self.stamped_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ),
            ("RfcProvCertif", self.pac_rfc.clone()),
            ("SelloCFD", self.cfdi_seal.clone()),
            ("NoCertificadoSAT", self.sat_certificate_number.clone()),
        ]
    }

    /// The TFD's cadena original, as SAT's cadenaoriginal_TFD_1_1.xslt makes it: Version, UUID,
    /// FechaTimbrado, RfcProvCertif, (Leyenda), SelloCFD, NoCertificadoSAT.
    pub fn cadena_original(&self) -> String {
        let values: Vec<String> = self.attributes().into_iter().map(|(_, v)| v).collect();
        cadena_of(&values)
    }

    /// `sealed_xml` with this TFD, signed with `sat_seal`, in its Complemento (which is added
    /// when the CFDI has none).
    pub fn stamp(&self, sealed_xml: &str, sat_seal: &str) -> Option<String> {
        let mut element = Element::new("tfd:TimbreFiscalDigital");
        element.attribute("xmlns:tfd", TFD_NAMESPACE);
        element.attribute(
            "xsi:schemaLocation",
            &format!("{TFD_NAMESPACE} {TFD_SCHEMA}"),
        );
        for (name, value) in self.attributes() {
            element.attribute(name, &value);
        }
        element.attribute("SelloSAT", sat_seal);
        let tfd = element.empty();
        if let Some(at) = sealed_xml.rfind("</cfdi:Complemento>") {
            return Some(format!("{}{tfd}{}", &sealed_xml[..at], &sealed_xml[at..]));
        }
        let at = sealed_xml.rfind("</cfdi:Comprobante>")?;
        Some(format!(
            "{}<cfdi:Complemento>{tfd}</cfdi:Complemento>{}",
            &sealed_xml[..at],
            &sealed_xml[at..]
        ))
    }
}

/// The value of the root element's `name` attribute in a CFDI this module wrote (values are
/// escaped, so a `"` ends them).
pub fn root_attribute(xml: &str, name: &str) -> Option<String> {
    element_attribute(xml, "cfdi:Comprobante", name)
}

/// The value of the first `element`'s `name` attribute in a CFDI this module wrote.
pub fn element_attribute(xml: &str, element: &str, name: &str) -> Option<String> {
    let root = xml.find(&format!("<{element} "))?;
    let end = root + xml[root..].find('>')?;
    let head = &xml[root..end];
    let start = head.find(&format!(" {name}=\""))? + name.len() + 3;
    let value = &head[start..start + head[start..].find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comprobante(concepts: Vec<Concept>) -> Comprobante {
        Comprobante {
            document_type: DocumentType::Ingreso,
            series: "F".into(),
            folio: "1".into(),
            issued_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
                .expect("a date")
                .and_hms_opt(12, 0, 0)
                .expect("a time"),
            payment_form: Some("01".into()),
            payment_method: Some("PUE".into()),
            currency: "MXN".into(),
            place_of_issue: "06700".into(),
            global: None,
            related: None,
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
            payment: None,
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

    #[test]
    fn a_payment_document_is_zero_in_xxx_with_no_form_or_method() {
        let mut pago = comprobante(vec![service(80_000)]);
        pago.document_type = DocumentType::Pago;
        pago.payment_form = None;
        pago.payment_method = None;
        let cadena = pago.cadena_original("1");
        assert!(
            cadena.starts_with("||4.0|F|1|2026-11-22T12:00:00|1|0|XXX|0|P|01|06700|"),
            "{cadena}"
        );
        assert!(cadena.contains("|84111506|1|ACT|Pago|0|0|01"), "{cadena}");
    }

    #[test]
    fn the_timbre_goes_into_the_complement_and_its_cadena_lists_its_values() {
        let timbre = Timbre {
            uuid: "5FB2822E-396D-4725-8521-CDC4BDD20CCF".into(),
            stamped_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
                .expect("a date")
                .and_hms_opt(12, 0, 5)
                .expect("a time"),
            pac_rfc: "SPR190613I52".into(),
            cfdi_seal: "SELLO".into(),
            sat_certificate_number: "30001000000500003456".into(),
        };
        assert_eq!(
            timbre.cadena_original(),
            "||1.1|5FB2822E-396D-4725-8521-CDC4BDD20CCF|2026-11-22T12:00:05|SPR190613I52|SELLO|\
             30001000000500003456||"
        );
        let xml = comprobante(vec![service(80_000)]).xml("1", "CERT", "SELLO");
        let stamped = timbre.stamp(&xml, "SAT").expect("stamped");
        assert!(
            stamped
                .contains("</cfdi:Impuestos><cfdi:Complemento><tfd:TimbreFiscalDigital xmlns:tfd="),
            "{stamped}"
        );
        assert_eq!(root_attribute(&stamped, "Sello").as_deref(), Some("SELLO"));
        assert_eq!(root_attribute(&stamped, "Total").as_deref(), Some("800.00"));
    }
}
