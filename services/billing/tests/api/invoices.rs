//! CFDI 4.0 invoices: a payment's own invoice to the patient's fiscal data and the day's global
//! invoice to the general public, sealed with a CSD the test makes itself. Each XML is checked
//! against SAT's cfdv40.xsd with xmllint, its cadena original against what SAT's
//! cadenaoriginal_4_0.xslt makes of it with xsltproc, and its sello against the certificate's
//! key.
//!
//! SAT's files come from `scripts/ensure-sat-schemas`, which `scripts/test` runs and names in
//! `CLINIC_SAT_SCHEMAS`; without it these tests say so and check the rest (under CI they
//! fail).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clinic_billing::config::CfdiSettings;
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::patients::v1 as patients;
use clinic_test_support::{TestDatabase, backend_tests};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use tonic::Code;

use crate::{TestClinic, card, cash, charge, mxn};

backend_tests!(
    a_payment_is_invoiced_to_the_patients_fiscal_data,
    the_rest_of_the_day_goes_into_the_global_invoice,
);

const CERTIFICATE_NUMBER: &str = "30001000000500003416";
const KEY_PASSWORD: &str = "12345678a";

/// A CSD of the test's own: a 2048-bit RSA key (PKCS#8, encrypted with a password as SAT's are)
/// and a self-signed certificate whose serial number is `CERTIFICATE_NUMBER` in ASCII, as SAT
/// numbers them.
struct TestCsd {
    _dir: tempfile::TempDir,
    certificate: PathBuf,
    key: PathBuf,
    public_key: RsaPublicKey,
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|byte| *byte == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

fn name(common_name: &str) -> Vec<u8> {
    let attribute = sequence(&[
        der(0x06, &[0x55, 0x04, 0x03]),
        der(0x0c, common_name.as_bytes()),
    ]);
    sequence(&[der(0x31, &attribute)])
}

fn make_csd() -> TestCsd {
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("a key");
    let public_key = RsaPublicKey::from(&key);
    let sha256_with_rsa = sequence(&[
        der(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        ),
        vec![0x05, 0x00],
    ]);
    let tbs = sequence(&[
        der(0xa0, &der(0x02, &[2])),
        der(0x02, CERTIFICATE_NUMBER.as_bytes()),
        sha256_with_rsa.clone(),
        name("CSD de prueba"),
        sequence(&[der(0x17, b"260101000000Z"), der(0x17, b"300101000000Z")]),
        name("CLINICA DENTAL SONRISA"),
        public_key
            .to_public_key_der()
            .expect("a public key")
            .as_bytes()
            .to_vec(),
    ]);
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(&tbs).to_vec();
    let mut bits = vec![0];
    bits.extend(signature);
    let certificate = sequence(&[tbs, sha256_with_rsa, der(0x03, &bits)]);
    let encrypted = key
        .to_pkcs8_encrypted_der(&mut rsa::rand_core::OsRng, KEY_PASSWORD.as_bytes())
        .expect("an encrypted key");
    let dir = tempfile::tempdir().expect("a directory");
    let certificate_path = dir.path().join("csd.cer");
    let key_path = dir.path().join("csd.key");
    std::fs::write(&certificate_path, certificate).expect("written");
    std::fs::write(&key_path, encrypted.as_bytes()).expect("written");
    TestCsd {
        _dir: dir,
        certificate: certificate_path,
        key: key_path,
        public_key,
    }
}

fn settings(csd: &TestCsd) -> CfdiSettings {
    CfdiSettings {
        issuer_rfc: "EKU9003173C9".into(),
        issuer_name: "ESCUELA KEMPER URGATE".into(),
        issuer_tax_regime: "601".into(),
        place_of_issue: "06700".into(),
        series: "F".into(),
        certificate_path: csd.certificate.clone(),
        key_path: csd.key.clone(),
        key_password: KEY_PASSWORD.to_owned().into(),
    }
}

/// SAT's files, when `scripts/ensure-sat-schemas` made them available.
fn sat_schemas() -> Option<PathBuf> {
    match std::env::var_os("CLINIC_SAT_SCHEMAS") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CLINIC_SAT_SCHEMAS must be set in CI (scripts/test sets it)"
            );
            eprintln!(
                "skipping the XSD and XSLT checks: CLINIC_SAT_SCHEMAS is not set \
                 (run scripts/ensure-sat-schemas)"
            );
            None
        }
    }
}

/// Checks `invoice`'s XML against cfdv40.xsd and its cadena original against SAT's XSLT, and
/// its sello against the certificate's key.
fn check_with_sat(invoice: &pb::Invoice, public_key: &RsaPublicKey) {
    let xml = &invoice.xml;
    let sello = attribute(xml, "Sello");
    let signature =
        Signature::try_from(STANDARD.decode(sello).expect("base64").as_slice()).expect("a sello");
    VerifyingKey::<Sha256>::new(public_key.clone())
        .verify(invoice.cadena_original.as_bytes(), &signature)
        .expect("the sello is the CSD's signature of the cadena original");
    assert_eq!(attribute(xml, "NoCertificado"), CERTIFICATE_NUMBER);
    let Some(dir) = sat_schemas() else {
        return;
    };
    let file = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(file.path(), xml).expect("written");
    let sat = dir.join("schemas/www.sat.gob.mx/sitio_internet/cfd/4");
    let validated = Command::new("xmllint")
        .env("XML_CATALOG_FILES", dir.join("catalog.xml"))
        .args(["--nonet", "--noout", "--schema"])
        .arg(sat.join("cfdv40.xsd"))
        .arg(file.path())
        .output()
        .expect("xmllint runs");
    assert!(
        validated.status.success(),
        "the invoice is not valid against cfdv40.xsd: {}\n{xml}",
        String::from_utf8_lossy(&validated.stderr)
    );
    assert_eq!(
        cadena_by_sat(
            &sat.join("cadenaoriginal_4_0/cadenaoriginal_4_0.xslt"),
            file.path()
        ),
        invoice.cadena_original
    );
}

fn cadena_by_sat(xslt: &Path, xml: &Path) -> String {
    let output = Command::new("xsltproc")
        .arg("--nonet")
        .arg(xslt)
        .arg(xml)
        .output()
        .expect("xsltproc runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The value of the first `name="…"` attribute in `xml`.
fn attribute<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = xml
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {xml}"))
        + name.len()
        + 3;
    let end = start + xml[start..].find('"').expect("a closing quote");
    &xml[start..end]
}

async fn a_payment_is_invoiced_to_the_patients_fiscal_data(database: TestDatabase) {
    let csd = make_csd();
    let clinic = TestClinic::start_with_cfdi(database, settings(&csd)).await;
    clinic.add_item("LIMP-01", 80_000).await;
    clinic
        .client(Role::Manager)
        .await
        .create_price_list_item(pb::CreatePriceListItemRequest {
            item: Some(pb::PriceListItem {
                code: "PROD-CEP".into(),
                description: "Cepillo eléctrico".into(),
                unit_price: Some(mxn(95_000)),
                kind: pb::PriceListItemKind::Product.into(),
                ..Default::default()
            }),
            request_id: "item-PROD-CEP".into(),
        })
        .await
        .expect("listed");
    let patient_id = clinic.register_patient().await;
    clinic
        .set_fiscal_data(
            &patient_id,
            patients::FiscalData {
                rfc: "HEPL900702AB1".into(),
                legal_name: "LUCIA HERNANDEZ PEREZ".into(),
                postal_code: "06700".into(),
                tax_regime: "605".into(),
                cfdi_use: String::new(),
            },
        )
        .await;
    let mut reception = clinic.client(Role::Reception).await;
    for code in ["LIMP-01", "PROD-CEP"] {
        reception
            .post_charge(charge(&patient_id, code, &format!("charge-{code}")))
            .await
            .expect("charged");
    }
    let payment = reception
        .post_payment(pb::PostPaymentRequest {
            method: Some(pb::post_payment_request::Method::Card(pb::CardPayment {
                authorization_code: "CR3D1T".into(),
                last_four: "1111".into(),
                card_type: pb::CardType::Credit.into(),
            })),
            ..card(&patient_id, 200_000, "pay")
        })
        .await
        .expect("paid")
        .into_inner();
    let request = pb::IssueInvoiceRequest {
        payment_id: payment.payment_id.clone(),
        request_id: "invoice-1".into(),
    };

    // Act
    let invoice = reception
        .issue_invoice(request.clone())
        .await
        .expect("invoiced")
        .into_inner();
    let retried = reception
        .issue_invoice(request)
        .await
        .expect("the retry is answered")
        .into_inner();
    let again = reception
        .issue_invoice(pb::IssueInvoiceRequest {
            payment_id: payment.payment_id.clone(),
            request_id: "invoice-2".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(invoice.kind(), pb::InvoiceKind::Payment);
    assert_eq!((invoice.series.as_str(), invoice.folio), ("F", 1));
    assert_eq!(invoice.receptor_rfc, "HEPL900702AB1");
    assert_eq!(invoice.total, Some(mxn(200_000)));
    assert_eq!(retried, invoice);
    assert_eq!(again.code(), Code::AlreadyExists);
    let xml = &invoice.xml;
    assert_eq!(attribute(xml, "FormaPago"), "04", "paid by credit card");
    assert_eq!(attribute(xml, "MetodoPago"), "PUE");
    assert_eq!(attribute(xml, "UsoCFDI"), "D01");
    assert_eq!(attribute(xml, "Total"), "2000.00");
    assert_eq!(attribute(xml, "TotalImpuestosTrasladados"), "131.03");
    assert!(xml.contains(r#"TipoFactor="Exento""#), "{xml}");
    assert!(
        xml.contains(r#"ClaveProdServ="84111506""#),
        "the 250.00 advance: {xml}"
    );
    check_with_sat(&invoice, &csd.public_key);
    let read = reception
        .get_invoice(pb::GetInvoiceRequest {
            invoice_id: invoice.invoice_id.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read, invoice);
}

async fn the_rest_of_the_day_goes_into_the_global_invoice(database: TestDatabase) {
    let csd = make_csd();
    let clinic = TestClinic::start_with_cfdi(database, settings(&csd)).await;
    clinic.add_item("CONS-01", 50_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut payments = Vec::new();
    for (index, minor) in [50_000, 30_000].into_iter().enumerate() {
        let patient_id = clinic.register_patient().await;
        reception
            .post_charge(charge(&patient_id, "CONS-01", &format!("charge-{index}")))
            .await
            .expect("charged");
        payments.push(
            reception
                .post_payment(cash(&patient_id, minor, minor, &format!("pay-{index}")))
                .await
                .expect("paid")
                .into_inner(),
        );
    }

    // Act
    let no_fiscal_data = reception
        .issue_invoice(pb::IssueInvoiceRequest {
            payment_id: payments[0].payment_id.clone(),
            request_id: "invoice-public".into(),
        })
        .await
        .expect_err("refused");
    let global = reception
        .issue_global_invoice(pb::IssueGlobalInvoiceRequest {
            day: None,
            request_id: "global-1".into(),
        })
        .await
        .expect("issued")
        .into_inner();
    let nothing_left = reception
        .issue_global_invoice(pb::IssueGlobalInvoiceRequest {
            day: None,
            request_id: "global-2".into(),
        })
        .await
        .expect_err("refused");
    let malformed = reception
        .issue_global_invoice(pb::IssueGlobalInvoiceRequest {
            day: None,
            request_id: String::new(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(no_fiscal_data.code(), Code::FailedPrecondition);
    assert_eq!(global.kind(), pb::InvoiceKind::Global);
    assert_eq!(global.receptor_rfc, "XAXX010101000");
    assert_eq!(global.payment_ids.len(), 2);
    assert_eq!(global.total, Some(mxn(80_000)));
    let xml = &global.xml;
    assert_eq!(attribute(xml, "UsoCFDI"), "S01");
    assert_eq!(attribute(xml, "RegimenFiscalReceptor"), "616");
    assert_eq!(attribute(xml, "Periodicidad"), "01");
    assert_eq!(attribute(xml, "Meses"), "11");
    assert_eq!(attribute(xml, "FormaPago"), "01");
    assert!(xml.contains(r#"NoIdentificacion="R-000001""#), "{xml}");
    check_with_sat(&global, &csd.public_key);
    assert_eq!(nothing_left.code(), Code::FailedPrecondition);
    assert_eq!(violated_fields(&malformed), ["request_id"]);
}
