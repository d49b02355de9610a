//! A patient's fiscal data: who their CFDI invoices are made out to, as on their Constancia de
//! Situación Fiscal. Billing reads it from here; the registry only keeps it well-formed.

use clinic_common::validation::FieldViolations;

/// The tax regimes of SAT's c_RegimenFiscal catalogue.
const TAX_REGIMES: &[&str] = &[
    "601", "603", "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "620",
    "621", "622", "623", "624", "625", "626",
];

/// The uses of SAT's c_UsoCFDI catalogue (CFDI 4.0).
const CFDI_USES: &[&str] = &[
    "G01", "G02", "G03", "I01", "I02", "I03", "I04", "I05", "I06", "I07", "I08", "D01", "D02",
    "D03", "D04", "D05", "D06", "D07", "D08", "D09", "D10", "S01", "CP01", "CN01",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiscalData {
    pub rfc: String,
    pub legal_name: String,
    pub postal_code: String,
    pub tax_regime: String,
    pub cfdi_use: Option<String>,
}

impl FiscalData {
    /// Checks each field under `prefix`, every problem at once.
    pub fn parse(
        rfc: &str,
        legal_name: &str,
        postal_code: &str,
        tax_regime: &str,
        cfdi_use: &str,
        prefix: &str,
        violations: &mut FieldViolations,
    ) -> Option<FiscalData> {
        let rfc = violations.check(&format!("{prefix}rfc"), parse_rfc(rfc));
        let legal_name =
            violations.check(&format!("{prefix}legal_name"), legal_name_of(legal_name));
        let postal_code = postal_code.trim();
        violations.require(
            postal_code.len() == 5 && postal_code.bytes().all(|b| b.is_ascii_digit()),
            &format!("{prefix}postal_code"),
            "must be five digits",
        );
        let tax_regime = tax_regime.trim();
        violations.require(
            TAX_REGIMES.contains(&tax_regime),
            &format!("{prefix}tax_regime"),
            "must be a c_RegimenFiscal code, e.g. 605 or 612",
        );
        let cfdi_use = cfdi_use.trim().to_ascii_uppercase();
        let cfdi_use = if cfdi_use.is_empty() {
            Some(None)
        } else if !CFDI_USES.contains(&cfdi_use.as_str()) {
            violations.add(
                format!("{prefix}cfdi_use"),
                "must be a c_UsoCFDI code, e.g. D01",
            );
            None
        } else if cfdi_use.starts_with('D') && rfc.as_ref().is_some_and(|rfc| rfc.len() != 13) {
            violations.add(
                format!("{prefix}cfdi_use"),
                "the deductions (D) are for a person's RFC",
            );
            None
        } else {
            Some(Some(cfdi_use))
        };
        Some(FiscalData {
            rfc: rfc?,
            legal_name: legal_name?,
            postal_code: postal_code.to_owned(),
            tax_regime: tax_regime.to_owned(),
            cfdi_use: cfdi_use?,
        })
    }
}

/// An RFC: three (a company) or four (a person) letters, six digits of a date, and three
/// characters of homoclave; not one of the generic RFCs.
fn parse_rfc(text: &str) -> Result<String, &'static str> {
    let rfc = text.trim().to_uppercase();
    let chars: Vec<char> = rfc.chars().collect();
    let letters = match chars.len() {
        12 => 3,
        13 => 4,
        _ => return Err("must be 12 or 13 characters"),
    };
    let letter = |c: &char| c.is_ascii_uppercase() || *c == 'Ñ' || *c == '&';
    let well_formed = chars[..letters].iter().all(letter)
        && chars[letters..letters + 6].iter().all(char::is_ascii_digit)
        && chars[letters + 6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !well_formed {
        return Err("is not a well-formed RFC");
    }
    if rfc == "XAXX010101000" || rfc == "XEXX010101000" {
        return Err("is a generic RFC, not the patient's own");
    }
    Ok(rfc)
}

fn legal_name_of(text: &str) -> Result<String, String> {
    let name = clinic_common::validation::single_line_text(text, 254)?;
    if name.contains('|') {
        return Err("must not contain '|'".into());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(rfc: &str, use_: &str) -> Result<FiscalData, FieldViolations> {
        let mut violations = FieldViolations::new();
        let data = FiscalData::parse(
            rfc,
            "Lucía Hernández Pérez",
            "06700",
            "605",
            use_,
            "",
            &mut violations,
        );
        match data {
            Some(data) if violations.is_empty() => Ok(data),
            _ => Err(violations),
        }
    }

    #[test]
    fn rfcs_of_people_and_companies_are_accepted_upper_cased() {
        assert_eq!(
            parse("hepl900702ab1", "").expect("valid").rfc,
            "HEPL900702AB1"
        );
        assert!(parse("ABC010101AB1", "G03").is_ok());
        assert!(parse("XAXX010101000", "").is_err());
        assert!(parse("HEPL9007ZZAB1", "").is_err());
        assert!(parse("HEPL900702", "").is_err());
    }

    #[test]
    fn uses_come_from_the_catalogue_and_deductions_are_for_people() {
        assert_eq!(
            parse("HEPL900702AB1", "d01")
                .expect("valid")
                .cfdi_use
                .as_deref(),
            Some("D01")
        );
        assert!(parse("HEPL900702AB1", "Z99").is_err());
        assert!(parse("ABC010101AB1", "D01").is_err());
    }
}
