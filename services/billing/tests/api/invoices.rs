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
use clinic_billing::config::{CfdiSettings, PacSettings, SandboxPacSettings};
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::patients::v1 as patients;
use clinic_test_support::{TestDatabase, backend_tests};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::pkcs5::pbes2;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use tonic::Code;

use crate::{TestClinic, card, cash, charge, mxn, transfer};

backend_tests!(
    a_payment_is_invoiced_to_the_patients_fiscal_data,
    the_rest_of_the_day_goes_into_the_global_invoice,
    a_credit_note_becomes_an_egreso_related_to_the_invoice_by_uuid,
    a_ppd_invoice_gets_a_payment_complement_for_each_payment,
    an_invoice_left_sealed_is_stamped_when_its_request_is_retried,
);

const CERTIFICATE_NUMBER: &str = "30001000000500003416";
/// The sandbox PAC's certificate, standing in for SAT's.
const PAC_CERTIFICATE_NUMBER: &str = "30001000000500003456";
const KEY_PASSWORD: &str = "12345678a";

/// A CSD of the test's own: a 2048-bit RSA key (PKCS#8, encrypted with a password as SAT's are)
/// and a self-signed certificate whose serial number is `CERTIFICATE_NUMBER` in ASCII, as SAT
/// numbers them. Each test gets its own copies of the files.
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
    make_certificate(CERTIFICATE_NUMBER)
}

/// A certificate numbered `serial` and its key, copied for this test from the ones generated
/// once for every test process (see [`generated_certificate`]).
fn make_certificate(serial: &str) -> TestCsd {
    let generated = generated_certificate(serial);
    let dir = tempfile::tempdir().expect("a directory");
    let certificate = dir.path().join("csd.cer");
    let key = dir.path().join("csd.key");
    std::fs::copy(generated.join("csd.cer"), &certificate).expect("copied");
    std::fs::copy(generated.join("csd.key"), &key).expect("copied");
    let public_key = RsaPublicKey::from_public_key_der(
        &std::fs::read(generated.join("public.der")).expect("read"),
    )
    .expect("a public key");
    TestCsd {
        _dir: dir,
        certificate,
        key,
        public_key,
    }
}

/// The directory holding the certificate numbered `serial`, its encrypted key and its public
/// key, made by the first test process that needs them. Generating a 2048-bit key takes
/// seconds, and nextest runs every test in a process of its own, so they are kept on disk under
/// the target's temporary directory. Each is made in a directory of its own and renamed into
/// place whole: a process never sees one half-written, and when two make one at once, the
/// first rename wins and the other's copy is dropped.
fn generated_certificate(serial: &str) -> PathBuf {
    // The version names the files' format: a change to it must not reuse older files.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("billing-test-certificates");
    let done = cache.join(format!("{serial}-v1"));
    if done.is_dir() {
        return done;
    }
    std::fs::create_dir_all(&cache).expect("a cache directory");
    let staging = tempfile::tempdir_in(&cache).expect("a staging directory");
    generate_certificate(serial, staging.path());
    let staging = staging.keep();
    if let Err(error) = std::fs::rename(&staging, &done) {
        assert!(done.is_dir(), "the certificate could not be kept: {error}");
        std::fs::remove_dir_all(&staging).expect("the losing copy removed");
    }
    done
}

/// Writes a new key and a certificate numbered `serial` into `dir`: `csd.cer` (DER),
/// `csd.key` (PKCS#8 encrypted with `KEY_PASSWORD`) and `public.der` (the public key).
fn generate_certificate(serial: &str, dir: &Path) {
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("a key");
    let public_key = RsaPublicKey::from(&key);
    let public_der = public_key.to_public_key_der().expect("a public key");
    let sha256_with_rsa = sequence(&[
        der(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        ),
        vec![0x05, 0x00],
    ]);
    let tbs = sequence(&[
        der(0xa0, &der(0x02, &[2])),
        der(0x02, serial.as_bytes()),
        sha256_with_rsa.clone(),
        name("CSD de prueba"),
        sequence(&[der(0x17, b"260101000000Z"), der(0x17, b"300101000000Z")]),
        name("CLINICA DENTAL SONRISA"),
        public_der.as_bytes().to_vec(),
    ]);
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(&tbs).to_vec();
    let mut bits = vec![0];
    bits.extend(signature);
    let certificate = sequence(&[tbs, sha256_with_rsa, der(0x03, &bits)]);
    std::fs::write(dir.join("csd.cer"), certificate).expect("written");
    std::fs::write(dir.join("csd.key"), encrypted_key(&key).as_bytes()).expect("written");
    std::fs::write(dir.join("public.der"), public_der.as_bytes()).expect("written");
}

/// `key` as PKCS#8 encrypted with `KEY_PASSWORD` by PBES2, with PBKDF2 and 3DES-CBC. (The
/// library's default key derivation, scrypt, takes tens of seconds unoptimised: here, and again
/// in billing each time it starts with the key.)
fn encrypted_key(key: &RsaPrivateKey) -> rsa::pkcs8::SecretDocument {
    let salt: [u8; 16] = rand_bytes();
    let iv: [u8; 8] = rand_bytes();
    let parameters = pbes2::Parameters {
        kdf: pbes2::Pbkdf2Params::hmac_with_sha256(2048, &salt)
            .expect("PBKDF2 parameters")
            .into(),
        encryption: pbes2::EncryptionScheme::DesEde3Cbc { iv: &iv },
    };
    let plain = key.to_pkcs8_der().expect("a PKCS#8 key");
    rsa::pkcs8::PrivateKeyInfo::try_from(plain.as_bytes())
        .expect("a PKCS#8 key")
        .encrypt_with_params(parameters, KEY_PASSWORD.as_bytes())
        .expect("an encrypted key")
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    rsa::rand_core::RngCore::fill_bytes(&mut rsa::rand_core::OsRng, &mut bytes);
    bytes
}

/// Invoicing as `settings` says, stamped by the sandbox PAC with `pac`'s certificate.
fn stamping_settings(csd: &TestCsd, pac: &TestCsd) -> CfdiSettings {
    CfdiSettings {
        pac: Some(PacSettings::Sandbox(SandboxPacSettings {
            rfc: "SPR190613I52".into(),
            certificate_path: pac.certificate.clone(),
            key_path: pac.key.clone(),
            key_password: KEY_PASSWORD.to_owned().into(),
        })),
        ..settings(csd)
    }
}

fn settings(csd: &TestCsd) -> CfdiSettings {
    CfdiSettings {
        credit_note_series: "NC".into(),
        payment_series: "P".into(),
        pac: None,
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
    let cfd = dir.join("schemas/www.sat.gob.mx/sitio_internet/cfd");
    let sat = cfd.join("4");
    // cfdv40.xsd takes any element in cfdi:Complemento and validates it strictly: the schema
    // checked against brings the TFD's and Pagos 2.0's schemas beside it.
    let schema = tempfile::NamedTempFile::new().expect("a file");
    let import = |namespace: &str, path: PathBuf| {
        format!(
            r#"<xs:import namespace="{namespace}" schemaLocation="file://{}"/>"#,
            path.display()
        )
    };
    std::fs::write(
        schema.path(),
        format!(
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{}{}{}</xs:schema>"#,
            import("http://www.sat.gob.mx/cfd/4", sat.join("cfdv40.xsd")),
            import(
                "http://www.sat.gob.mx/TimbreFiscalDigital",
                cfd.join("TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd")
            ),
            import(
                "http://www.sat.gob.mx/Pagos20",
                cfd.join("Pagos/Pagos20.xsd")
            ),
        ),
    )
    .expect("written");
    let validated = Command::new("xmllint")
        .env("XML_CATALOG_FILES", dir.join("catalog.xml"))
        .args(["--nonet", "--noout", "--schema"])
        .arg(schema.path())
        .arg(file.path())
        .output()
        .expect("xmllint runs");
    assert!(
        validated.status.success(),
        "the invoice is not valid against SAT's schemas: {}\n{xml}",
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

/// Checks a stamped invoice's TimbreFiscalDigital: its UUID is the invoice's, SelloCFD is the
/// invoice's Sello, and SelloSAT is the PAC certificate's signature of the TFD's cadena original
/// (made by SAT's cadenaoriginal_TFD_1_1.xslt when the schemas are at hand).
fn check_stamp(invoice: &pb::Invoice, pac_key: &RsaPublicKey) {
    assert_eq!(invoice.status(), pb::InvoiceStatus::Stamped);
    let xml = &invoice.xml;
    let start = xml.find("<tfd:TimbreFiscalDigital ").expect("a TFD");
    let tfd = &xml[start..start + xml[start..].find("/>").expect("an end") + 2];
    assert_eq!(attribute(tfd, "UUID"), invoice.uuid);
    assert_eq!(attribute(tfd, "Version"), "1.1");
    assert_eq!(attribute(tfd, "FechaTimbrado"), invoice.stamp_time);
    assert_eq!(attribute(tfd, "RfcProvCertif"), "SPR190613I52");
    assert_eq!(attribute(tfd, "NoCertificadoSAT"), PAC_CERTIFICATE_NUMBER);
    assert_eq!(attribute(tfd, "SelloCFD"), attribute(xml, "Sello"));
    let cadena = format!(
        "||1.1|{}|{}|SPR190613I52|{}|{}||",
        invoice.uuid,
        invoice.stamp_time,
        attribute(xml, "Sello"),
        PAC_CERTIFICATE_NUMBER
    );
    if let Some(dir) = sat_schemas() {
        let file = tempfile::NamedTempFile::new().expect("a file");
        let standalone = tfd.replacen(
            "<tfd:TimbreFiscalDigital ",
            r#"<tfd:TimbreFiscalDigital xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
            1,
        );
        std::fs::write(file.path(), standalone).expect("written");
        let xslt = dir.join(
            "schemas/www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/\
             cadenaoriginal_TFD_1_1.xslt",
        );
        assert_eq!(cadena_by_sat(&xslt, file.path()), cadena);
    }
    let sello_sat = STANDARD.decode(attribute(tfd, "SelloSAT")).expect("base64");
    VerifyingKey::<Sha256>::new(pac_key.clone())
        .verify(
            cadena.as_bytes(),
            &Signature::try_from(sello_sat.as_slice()).expect("a signature"),
        )
        .expect("SelloSAT is the PAC certificate's signature of the TFD's cadena original");
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
    let pac = make_certificate(PAC_CERTIFICATE_NUMBER);
    let clinic = TestClinic::start_with_cfdi(database, stamping_settings(&csd, &pac)).await;
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
    check_stamp(&invoice, &pac.public_key);
    assert_eq!(invoice.uuid.len(), 36);
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
    assert_eq!(
        (global.status(), global.uuid.as_str()),
        (pb::InvoiceStatus::Sealed, ""),
        "without a PAC invoices stay sealed"
    );
    assert!(!global.xml.contains("TimbreFiscalDigital"));
    assert_eq!(nothing_left.code(), Code::FailedPrecondition);
    assert_eq!(violated_fields(&malformed), ["request_id"]);
}

/// A patient with fiscal data, a price list with a service (800.00, VAT-exempt) and a product
/// (950.00 with VAT), and a clinic that stamps with the sandbox PAC.
async fn stamping_clinic(
    database: TestDatabase,
    csd: &TestCsd,
    pac: &TestCsd,
) -> (TestClinic, String) {
    let clinic = TestClinic::start_with_cfdi(database, stamping_settings(csd, pac)).await;
    let mut cleaning = crate::item("LIMP-01", 80_000, "item-LIMP-01");
    let listed = cleaning.item.as_mut().expect("set");
    listed.sat_product_code = "85121600".into();
    listed.sat_unit_code = "E48".into();
    clinic
        .client(Role::Manager)
        .await
        .create_price_list_item(cleaning)
        .await
        .expect("listed");
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
    (clinic, patient_id)
}

async fn a_credit_note_becomes_an_egreso_related_to_the_invoice_by_uuid(database: TestDatabase) {
    let csd = make_csd();
    let pac = make_certificate(PAC_CERTIFICATE_NUMBER);
    let (clinic, patient_id) = stamping_clinic(database, &csd, &pac).await;
    let mut reception = clinic.client(Role::Reception).await;
    let mut manager = clinic.client(Role::Manager).await;
    let charged = reception
        .post_charge(charge(&patient_id, "LIMP-01", "charge-1"))
        .await
        .expect("charged")
        .into_inner();
    let unbilled = reception
        .post_charge(charge(&patient_id, "PROD-CEP", "charge-2"))
        .await
        .expect("charged")
        .into_inner();
    let payment = reception
        .post_payment(pb::PostPaymentRequest {
            allocation_mode: pb::AllocationMode::AsChosen.into(),
            allocations: vec![pb::AllocationRequest {
                charge_id: charged.charge_id.clone(),
                amount: Some(mxn(80_000)),
            }],
            ..card(&patient_id, 80_000, "pay")
        })
        .await
        .expect("paid")
        .into_inner();
    let invoice = reception
        .issue_invoice(pb::IssueInvoiceRequest {
            payment_id: payment.payment_id.clone(),
            request_id: "invoice-1".into(),
        })
        .await
        .expect("invoiced")
        .into_inner();
    let credit = |charge_id: &str, request_id: &str| pb::IssueCreditNoteRequest {
        charge_id: charge_id.into(),
        amount: Some(mxn(20_000)),
        reason: "Descuento acordado".into(),
        request_id: request_id.into(),
    };
    let credit_note = manager
        .issue_credit_note(credit(&charged.charge_id, "credit-1"))
        .await
        .expect("credited")
        .into_inner();
    let never_invoiced = manager
        .issue_credit_note(credit(&unbilled.charge_id, "credit-2"))
        .await
        .expect("credited")
        .into_inner();
    let request = pb::IssueCreditNoteInvoiceRequest {
        correction_id: credit_note.correction_id.clone(),
        request_id: "cfdi-credit-1".into(),
    };

    // Act
    let egreso = reception
        .issue_credit_note_invoice(request.clone())
        .await
        .expect("issued")
        .into_inner();
    let retried = reception
        .issue_credit_note_invoice(request)
        .await
        .expect("the retry is answered")
        .into_inner();
    let again = reception
        .issue_credit_note_invoice(pb::IssueCreditNoteInvoiceRequest {
            correction_id: credit_note.correction_id.clone(),
            request_id: "cfdi-credit-2".into(),
        })
        .await
        .expect_err("refused");
    let not_invoiced = reception
        .issue_credit_note_invoice(pb::IssueCreditNoteInvoiceRequest {
            correction_id: never_invoiced.correction_id.clone(),
            request_id: "cfdi-credit-3".into(),
        })
        .await
        .expect_err("refused");
    let unknown = reception
        .issue_credit_note_invoice(pb::IssueCreditNoteInvoiceRequest {
            correction_id: payment.payment_id.clone(),
            request_id: "cfdi-credit-4".into(),
        })
        .await
        .expect_err("refused");
    let malformed = reception
        .issue_credit_note_invoice(pb::IssueCreditNoteInvoiceRequest {
            correction_id: "NC-000001".into(),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    // An hour later the other charge is paid and invoiced: net of its credit note already.
    let later = clinic
        .another_billing(stamping_settings(&csd, &pac), "2026-11-22T19:00:00Z")
        .await;
    let mut later_reception =
        clinic_proto::billing::v1::billing_service_client::BillingServiceClient::new(
            later.channel_as(Role::Reception, "reception:tester").await,
        );
    let rest = later_reception
        .post_payment(card(&patient_id, 75_000, "pay-rest"))
        .await
        .expect("paid")
        .into_inner();
    let later_invoice = later_reception
        .issue_invoice(pb::IssueInvoiceRequest {
            payment_id: rest.payment_id.clone(),
            request_id: "invoice-2".into(),
        })
        .await
        .expect("invoiced")
        .into_inner();
    let already_net = later_reception
        .issue_credit_note_invoice(pb::IssueCreditNoteInvoiceRequest {
            correction_id: never_invoiced.correction_id.clone(),
            request_id: "cfdi-credit-5".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(egreso.kind(), pb::InvoiceKind::CreditNote);
    assert_eq!((egreso.series.as_str(), egreso.folio), ("NC", 1));
    assert_eq!(egreso.related_invoice_id, invoice.invoice_id);
    assert_eq!(egreso.correction_id, credit_note.correction_id);
    assert_eq!(egreso.total, Some(mxn(20_000)));
    assert_eq!(retried, egreso);
    let xml = &egreso.xml;
    assert_eq!(attribute(xml, "TipoDeComprobante"), "E");
    assert_eq!(attribute(xml, "MetodoPago"), "PUE");
    assert_eq!(
        attribute(xml, "FormaPago"),
        "28",
        "as the invoice: a debit card"
    );
    assert_eq!(attribute(xml, "TipoRelacion"), "01");
    assert_eq!(
        attribute(xml, "UUID"),
        invoice.uuid,
        "CfdiRelacionado names the invoice"
    );
    assert_eq!(attribute(xml, "Rfc").len(), 12, "the issuer first");
    assert_eq!(attribute(xml, "UsoCFDI"), "G02");
    assert!(xml.contains(r#"Rfc="HEPL900702AB1""#), "{xml}");
    assert!(xml.contains("Nota de crédito NC-000001"), "{xml}");
    assert_eq!(attribute(xml, "Total"), "200.00");
    check_with_sat(&egreso, &csd.public_key);
    check_stamp(&egreso, &pac.public_key);
    assert_eq!(again.code(), Code::AlreadyExists);
    assert_eq!(not_invoiced.code(), Code::FailedPrecondition);
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(violated_fields(&malformed), ["correction_id", "request_id"]);
    assert_eq!(attribute(&later_invoice.xml, "Total"), "750.00");
    assert_eq!(already_net.code(), Code::FailedPrecondition);
    assert!(
        already_net
            .message()
            .contains("issued after the credit note"),
        "{already_net:?}"
    );
}

async fn a_ppd_invoice_gets_a_payment_complement_for_each_payment(database: TestDatabase) {
    let csd = make_csd();
    let pac = make_certificate(PAC_CERTIFICATE_NUMBER);
    let (clinic, patient_id) = stamping_clinic(database, &csd, &pac).await;
    let mut reception = clinic.client(Role::Reception).await;
    for code in ["LIMP-01", "PROD-CEP"] {
        reception
            .post_charge(charge(&patient_id, code, &format!("charge-{code}")))
            .await
            .expect("charged");
    }
    let ppd_request = pb::IssueChargesInvoiceRequest {
        patient_id: patient_id.clone(),
        charge_ids: Vec::new(),
        request_id: "ppd-1".into(),
    };

    // Act: the invoice first, then two payments of half each.
    let ppd = reception
        .issue_charges_invoice(ppd_request.clone())
        .await
        .expect("invoiced")
        .into_inner();
    let ppd_retried = reception
        .issue_charges_invoice(ppd_request)
        .await
        .expect("the retry is answered")
        .into_inner();
    let nothing_left = reception
        .issue_charges_invoice(pb::IssueChargesInvoiceRequest {
            patient_id: patient_id.clone(),
            charge_ids: Vec::new(),
            request_id: "ppd-2".into(),
        })
        .await
        .expect_err("refused");
    let first = reception
        .post_payment(cash(&patient_id, 87_500, 90_000, "pay-1"))
        .await
        .expect("paid")
        .into_inner();
    let pending = reception
        .list_pending_payment_complements(pb::ListPendingPaymentComplementsRequest {})
        .await
        .expect("listed")
        .into_inner();
    let own_invoice = reception
        .issue_invoice(pb::IssueInvoiceRequest {
            payment_id: first.payment_id.clone(),
            request_id: "invoice-1".into(),
        })
        .await
        .expect_err("refused");
    let complement_request = pb::IssuePaymentComplementRequest {
        payment_id: first.payment_id.clone(),
        request_id: "complement-1".into(),
    };
    let complement = reception
        .issue_payment_complement(complement_request.clone())
        .await
        .expect("issued")
        .into_inner();
    let complement_retried = reception
        .issue_payment_complement(complement_request)
        .await
        .expect("the retry is answered")
        .into_inner();
    let second = reception
        .post_payment(transfer(&patient_id, 87_500, "pay-2"))
        .await
        .expect("paid")
        .into_inner();
    let last = reception
        .issue_payment_complement(pb::IssuePaymentComplementRequest {
            payment_id: second.payment_id.clone(),
            request_id: "complement-2".into(),
        })
        .await
        .expect("issued")
        .into_inner();
    let again = reception
        .issue_payment_complement(pb::IssuePaymentComplementRequest {
            payment_id: second.payment_id.clone(),
            request_id: "complement-3".into(),
        })
        .await
        .expect_err("refused");
    let pending_after = reception
        .list_pending_payment_complements(pb::ListPendingPaymentComplementsRequest {})
        .await
        .expect("listed")
        .into_inner();
    let global = reception
        .issue_global_invoice(pb::IssueGlobalInvoiceRequest {
            day: None,
            request_id: "global-1".into(),
        })
        .await
        .expect_err("refused");
    let malformed = reception
        .issue_charges_invoice(pb::IssueChargesInvoiceRequest {
            patient_id: "someone".into(),
            charge_ids: vec!["a charge".into()],
            request_id: "ppd-3".into(),
        })
        .await
        .expect_err("refused");

    // Assert: the PPD invoice.
    assert_eq!(ppd.kind(), pb::InvoiceKind::Charges);
    assert_eq!(ppd.charge_ids.len(), 2);
    assert_eq!(ppd.total, Some(mxn(175_000)));
    assert_eq!(ppd_retried, ppd);
    assert_eq!(attribute(&ppd.xml, "MetodoPago"), "PPD");
    assert_eq!(attribute(&ppd.xml, "FormaPago"), "99");
    assert!(
        ppd.xml
            .contains(r#"ClaveProdServ="85121600" NoIdentificacion="LIMP-01""#),
        "the item's own SAT code: {}",
        ppd.xml
    );
    assert!(
        ppd.xml
            .contains(r#"ClaveProdServ="01010101" NoIdentificacion="PROD-CEP""#),
        "a product's default: {}",
        ppd.xml
    );
    check_with_sat(&ppd, &csd.public_key);
    check_stamp(&ppd, &pac.public_key);
    assert_eq!(nothing_left.code(), Code::FailedPrecondition);
    // The payments awaiting a complement, and their deadline.
    assert_eq!(pending.payments.len(), 1);
    let awaiting = &pending.payments[0];
    assert_eq!(awaiting.payment_id, first.payment_id);
    assert_eq!(awaiting.amount, Some(mxn(87_500)));
    assert_eq!(awaiting.invoice_ids, [ppd.invoice_id.as_str()]);
    let deadline = awaiting.deadline.as_ref().expect("a deadline");
    assert_eq!((deadline.year, deadline.month, deadline.day), (2026, 12, 5));
    assert!(!awaiting.overdue);
    assert_eq!(own_invoice.code(), Code::FailedPrecondition);
    // The first payment's complement.
    assert_eq!(complement.kind(), pb::InvoiceKind::PaymentComplement);
    assert_eq!((complement.series.as_str(), complement.folio), ("P", 1));
    assert_eq!(complement.paid_invoice_ids, [ppd.invoice_id.as_str()]);
    assert_eq!(complement_retried, complement);
    let xml = &complement.xml;
    assert_eq!(attribute(xml, "TipoDeComprobante"), "P");
    assert_eq!(attribute(xml, "Total"), "0");
    assert_eq!(attribute(xml, "Moneda"), "XXX");
    assert_eq!(attribute(xml, "UsoCFDI"), "CP01");
    assert_eq!(attribute(xml, "IdDocumento"), ppd.uuid);
    assert_eq!(attribute(xml, "FormaDePagoP"), "01");
    assert_eq!(attribute(xml, "Monto"), "875.00");
    assert_eq!(attribute(xml, "NumParcialidad"), "1");
    assert_eq!(attribute(xml, "ImpSaldoAnt"), "1750.00");
    assert_eq!(attribute(xml, "ImpPagado"), "875.00");
    assert_eq!(attribute(xml, "ImpSaldoInsoluto"), "875.00");
    assert_eq!(attribute(xml, "ObjetoImpDR"), "02");
    assert_eq!(attribute(xml, "TotalTrasladosBaseIVAExento"), "400.00");
    assert_eq!(attribute(xml, "TotalTrasladosImpuestoIVA16"), "65.52");
    check_with_sat(&complement, &csd.public_key);
    check_stamp(&complement, &pac.public_key);
    // The second pays off the rest.
    let xml = &last.xml;
    assert_eq!((last.series.as_str(), last.folio), ("P", 2));
    assert_eq!(attribute(xml, "FormaDePagoP"), "03");
    assert_eq!(attribute(xml, "NumParcialidad"), "2");
    assert_eq!(attribute(xml, "ImpSaldoAnt"), "875.00");
    assert_eq!(attribute(xml, "ImpSaldoInsoluto"), "0.00");
    check_with_sat(&last, &csd.public_key);
    assert_eq!(again.code(), Code::AlreadyExists);
    assert!(pending_after.payments.is_empty());
    assert_eq!(
        global.code(),
        Code::FailedPrecondition,
        "payments on PPD invoices stay out of the global invoice"
    );
    assert_eq!(violated_fields(&malformed), ["patient_id", "charge_ids"]);
}

async fn an_invoice_left_sealed_is_stamped_when_its_request_is_retried(database: TestDatabase) {
    // Arrange: billing issues an invoice while no PAC stamps (none configured, as when the PAC
    // is down), then restarts with the sandbox PAC.
    let csd = make_csd();
    let pac = make_certificate(PAC_CERTIFICATE_NUMBER);
    let (clinic, patient_id) = stamping_clinic(database, &csd, &pac).await;
    let unstamping = clinic.another_billing(settings(&csd), crate::NOON).await;
    let mut before = clinic_proto::billing::v1::billing_service_client::BillingServiceClient::new(
        unstamping
            .channel_as(Role::Reception, "reception:tester")
            .await,
    );
    before
        .post_charge(charge(&patient_id, "LIMP-01", "charge-1"))
        .await
        .expect("charged");
    let payment = before
        .post_payment(card(&patient_id, 80_000, "pay"))
        .await
        .expect("paid")
        .into_inner();
    let request = pb::IssueInvoiceRequest {
        payment_id: payment.payment_id.clone(),
        request_id: "invoice-1".into(),
    };
    let sealed = before
        .issue_invoice(request.clone())
        .await
        .expect("invoiced")
        .into_inner();
    unstamping.stop().await;

    // Act
    let mut after = clinic.client(Role::Reception).await;
    let stamped = after
        .issue_invoice(request)
        .await
        .expect("the retry is answered")
        .into_inner();
    let read = after
        .get_invoice(pb::GetInvoiceRequest {
            invoice_id: sealed.invoice_id.clone(),
        })
        .await
        .expect("read")
        .into_inner();

    // Assert
    assert_eq!(sealed.status(), pb::InvoiceStatus::Sealed);
    assert!(sealed.uuid.is_empty());
    assert_eq!(
        stamped.invoice_id, sealed.invoice_id,
        "the same invoice, not another"
    );
    assert_eq!((stamped.series.as_str(), stamped.folio), ("F", 1));
    assert_eq!(stamped.cadena_original, sealed.cadena_original);
    check_stamp(&stamped, &pac.public_key);
    check_with_sat(&stamped, &csd.public_key);
    assert_eq!(read, stamped);
}
