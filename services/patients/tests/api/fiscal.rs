//! A patient's fiscal data: recorded by reception for CFDI invoices, returned by GetPatient,
//! checked field by field, and removed by setting none.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::patients::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestRegistry, maria};

backend_tests!(
    fiscal_data_is_recorded_and_read_back_with_the_patient,
    bad_fiscal_data_names_every_bad_field,
);

fn lucia() -> Option<pb::FiscalData> {
    Some(pb::FiscalData {
        rfc: "hepl900702ab1".into(),
        legal_name: "LUCIA HERNANDEZ PEREZ".into(),
        postal_code: "06700".into(),
        tax_regime: "605".into(),
        cfdi_use: String::new(),
    })
}

async fn fiscal_data_is_recorded_and_read_back_with_the_patient(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    let patient_id = reception
        .create_patient(maria("fiscal-1"))
        .await
        .expect("registered")
        .into_inner()
        .patient_id;

    // Act
    let set = reception
        .set_fiscal_data(pb::SetFiscalDataRequest {
            patient_id: patient_id.clone(),
            fiscal_data: lucia(),
        })
        .await
        .expect("recorded")
        .into_inner();
    let read = registry
        .client(Role::Service)
        .await
        .get_patient(pb::GetPatientRequest {
            patient_id: patient_id.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    reception
        .set_fiscal_data(pb::SetFiscalDataRequest {
            patient_id: patient_id.clone(),
            fiscal_data: None,
        })
        .await
        .expect("removed");
    let cleared = reception
        .get_patient(pb::GetPatientRequest { patient_id })
        .await
        .expect("read")
        .into_inner();

    // Assert
    let fiscal = set.fiscal_data.expect("returned");
    assert_eq!(fiscal.rfc, "HEPL900702AB1");
    assert_eq!(read.fiscal_data, Some(fiscal));
    assert_eq!(cleared.fiscal_data, None);
}

async fn bad_fiscal_data_names_every_bad_field(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    let patient_id = reception
        .create_patient(maria("fiscal-2"))
        .await
        .expect("registered")
        .into_inner()
        .patient_id;

    // Act
    let bad = reception
        .set_fiscal_data(pb::SetFiscalDataRequest {
            patient_id: patient_id.clone(),
            fiscal_data: Some(pb::FiscalData {
                rfc: "XAXX010101000".into(),
                legal_name: "A | B".into(),
                postal_code: "6700".into(),
                tax_regime: "999".into(),
                cfdi_use: "Z01".into(),
            }),
        })
        .await
        .expect_err("refused");
    let unknown = reception
        .set_fiscal_data(pb::SetFiscalDataRequest {
            patient_id: clinic_common::ids::PatientId::new().to_string(),
            fiscal_data: lucia(),
        })
        .await
        .expect_err("refused");
    let by_collections = registry
        .client(Role::Collections)
        .await
        .set_fiscal_data(pb::SetFiscalDataRequest {
            patient_id,
            fiscal_data: lucia(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(
        violated_fields(&bad),
        [
            "fiscal_data.rfc",
            "fiscal_data.legal_name",
            "fiscal_data.postal_code",
            "fiscal_data.tax_regime",
            "fiscal_data.cfdi_use"
        ]
    );
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(by_collections.code(), Code::PermissionDenied);
}
