//! The clinic's CSD (Certificado de Sello Digital): its certificate and private key, and the
//! seal (sello) of an invoice: the RSA-SHA256 signature (PKCS#1 v1.5) of its cadena original,
//! in base64.
//!
//! SAT issues the certificate as DER (`.cer`) and the key as PKCS#8 DER encrypted with a
//! password (`.key`); an unencrypted PKCS#8 key, DER or PEM, is accepted too. The certificate's
//! number (NoCertificado) is its serial number, whose bytes SAT makes ASCII digits.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};

/// A loaded CSD.
pub struct Csd {
    /// NoCertificado: 20 digits for SAT's certificates.
    pub certificate_number: String,
    /// The certificate's DER in base64: the invoice's Certificado attribute.
    pub certificate: String,
    key: SigningKey<Sha256>,
}

impl std::fmt::Debug for Csd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Csd")
            .field("certificate_number", &self.certificate_number)
            .finish_non_exhaustive()
    }
}

impl Csd {
    /// Loads the certificate and the key; `password` decrypts an encrypted key.
    pub fn load(certificate: &Path, key: &Path, password: &str) -> anyhow::Result<Csd> {
        let certificate = std::fs::read(certificate).with_context(|| {
            format!(
                "failed to read the CSD certificate {}",
                certificate.display()
            )
        })?;
        let key_bytes = std::fs::read(key)
            .with_context(|| format!("failed to read the CSD key {}", key.display()))?;
        Csd::from_parts(&certificate, &key_bytes, password)
    }

    pub fn from_parts(certificate: &[u8], key: &[u8], password: &str) -> anyhow::Result<Csd> {
        let certificate_number = serial_number(certificate)
            .context("the CSD certificate is not a DER X.509 certificate")?;
        let key = private_key(key, password)?;
        Ok(Csd {
            certificate_number,
            certificate: STANDARD.encode(certificate),
            key: SigningKey::<Sha256>::new(key),
        })
    }

    /// The sello of `cadena_original`, in base64.
    pub fn seal(&self, cadena_original: &str) -> String {
        let signature = self.key.sign(cadena_original.as_bytes());
        STANDARD.encode(signature.to_bytes())
    }
}

fn private_key(bytes: &[u8], password: &str) -> anyhow::Result<RsaPrivateKey> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.trim_start().starts_with("-----BEGIN")
    {
        return if text.contains("ENCRYPTED") {
            RsaPrivateKey::from_pkcs8_encrypted_pem(text, password.as_bytes())
                .context("failed to decrypt the CSD key (wrong password?)")
        } else {
            RsaPrivateKey::from_pkcs8_pem(text).context("the CSD key is not a PKCS#8 RSA key")
        };
    }
    RsaPrivateKey::from_pkcs8_encrypted_der(bytes, password.as_bytes())
        .or_else(|_| RsaPrivateKey::from_pkcs8_der(bytes))
        .context("the CSD key is neither an encrypted nor a plain PKCS#8 RSA key (wrong password?)")
}

/// The certificate's serial number as NoCertificado: its bytes as ASCII digits (as SAT issues
/// them), or else in hexadecimal.
fn serial_number(der: &[u8]) -> Option<String> {
    let (certificate, _) = read(der, 0x30)?;
    let (mut tbs, _) = read(certificate, 0x30)?;
    if tbs.first() == Some(&0xa0) {
        let (_, rest) = read(tbs, 0xa0)?;
        tbs = rest;
    }
    let (serial, _) = read(tbs, 0x02)?;
    if !serial.is_empty() && serial.iter().all(u8::is_ascii_digit) {
        return Some(String::from_utf8_lossy(serial).into_owned());
    }
    Some(serial.iter().map(|byte| format!("{byte:02X}")).collect())
}

/// One DER element of `tag` at the start of `input`: its contents and what follows it.
fn read(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte))
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_short_and_long_are_read() {
        let short = [0x02, 0x02, b'4', b'2', 0xff];
        assert_eq!(read(&short, 0x02), Some((&b"42"[..], &[0xff][..])));
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7, 0x80));
        assert_eq!(read(&long, 0x04).map(|(body, _)| body.len()), Some(0x80));
        assert_eq!(read(&short, 0x30), None);
        assert_eq!(read(&[0x02, 0x05, 1], 0x02), None, "shorter than it says");
    }
}
