//! Stamping (timbrado) by a PAC (Proveedor Autorizado de Certificación): the PAC checks a sealed
//! CFDI, gives it its folio fiscal (UUID) and adds its TimbreFiscalDigital 1.1, signed with a SAT
//! certificate (SelloSAT over the TFD's cadena original). Only then is the CFDI fiscally valid.
//!
//! [`Pac`] is what billing asks; [`SandboxPac`] is the one implementation built here: a stand-in
//! that stamps the way a PAC does, with a certificate and key of its own, and calls no one. Its
//! stamps are not registered with SAT and have no fiscal value; it serves tests, the demo and
//! trials. A real PAC (an HTTPS or SOAP client with the PAC's credentials) implements the same
//! trait; none is included.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::cfdi::{Timbre, root_attribute};
use crate::seal::Csd;

/// What a PAC returns for a CFDI it stamped.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    pub uuid: String,
    /// FechaTimbrado as written in the TFD.
    pub stamped_at: String,
    pub pac_rfc: String,
    pub sat_certificate_number: String,
    /// The CFDI with its TimbreFiscalDigital.
    pub xml: String,
}

/// Why a PAC did not stamp: the text is the PAC's.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PacError(pub String);

/// A PAC that stamps sealed CFDI.
#[tonic::async_trait]
pub trait Pac: Send + Sync {
    /// Stamps `sealed_xml` at `now`. Stamping the same CFDI twice may give two UUIDs: billing
    /// stores the first stamp it gets and never asks again for a stamped invoice.
    async fn stamp(&self, sealed_xml: &str, now: DateTime<Utc>) -> Result<Stamped, PacError>;
}

/// A stand-in PAC: stamps like a PAC, with its own certificate, and no network call.
pub struct SandboxPac {
    /// RfcProvCertif it writes.
    rfc: String,
    /// The certificate and key it signs SelloSAT with (NoCertificadoSAT is its number).
    certificate: Csd,
    /// FechaTimbrado is Mexico's local time.
    time_zone: Tz,
}

impl SandboxPac {
    pub fn new(rfc: String, certificate: Csd, time_zone: Tz) -> Self {
        SandboxPac {
            rfc,
            certificate,
            time_zone,
        }
    }
}

#[tonic::async_trait]
impl Pac for SandboxPac {
    async fn stamp(&self, sealed_xml: &str, now: DateTime<Utc>) -> Result<Stamped, PacError> {
        // A PAC refuses what is not a sealed CFDI 4.0 or is stamped already.
        if root_attribute(sealed_xml, "Version").as_deref() != Some("4.0") {
            return Err(PacError("not a CFDI 4.0".into()));
        }
        let Some(cfdi_seal) = root_attribute(sealed_xml, "Sello").filter(|s| !s.is_empty()) else {
            return Err(PacError("the CFDI is not sealed".into()));
        };
        if sealed_xml.contains("tfd:TimbreFiscalDigital") {
            return Err(PacError("the CFDI is stamped already".into()));
        }
        let local = now.with_timezone(&self.time_zone).naive_local();
        let timbre = Timbre {
            uuid: uuid::Uuid::new_v4().to_string().to_uppercase(),
            stamped_at: chrono::Timelike::with_nanosecond(&local, 0).unwrap_or(local),
            pac_rfc: self.rfc.clone(),
            cfdi_seal,
            sat_certificate_number: self.certificate.certificate_number.clone(),
        };
        let sat_seal = self.certificate.seal(&timbre.cadena_original());
        let xml = timbre
            .stamp(sealed_xml, &sat_seal)
            .ok_or_else(|| PacError("not a CFDI".into()))?;
        Ok(Stamped {
            uuid: timbre.uuid,
            stamped_at: timbre.stamped_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            pac_rfc: timbre.pac_rfc,
            sat_certificate_number: timbre.sat_certificate_number,
            xml,
        })
    }
}
