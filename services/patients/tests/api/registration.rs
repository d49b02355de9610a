use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::Date;
use clinic_proto::patients::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestRegistry, maria};

backend_tests!(
    registering_a_patient_stores_normalised_details,
    retrying_a_registration_returns_the_first_patient,
    reusing_a_request_id_for_someone_else_is_refused,
    invalid_registrations_name_every_bad_field_and_store_nothing,
    updating_changes_only_the_masked_fields,
    identity_evidence_matches_only_the_right_patient,
    unknown_patients_are_not_found,
    a_huge_bad_time_zone_is_quoted_only_in_part,
);

async fn registering_a_patient_stores_normalised_details(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;

    let created = reception
        .create_patient(maria("reg-1"))
        .await
        .expect("registered")
        .into_inner();

    assert_eq!(created.phone, "+525512345678");
    assert_eq!(
        created.time_zone, "America/Mexico_City",
        "defaults to the clinic's zone"
    );
    let fetched = reception
        .get_patient(pb::GetPatientRequest {
            patient_id: created.patient_id.clone(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(fetched, created);
}

async fn retrying_a_registration_returns_the_first_patient(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;

    let first = reception
        .create_patient(maria("reg-retry"))
        .await
        .expect("registered")
        .into_inner();
    let retry = reception
        .create_patient(maria("reg-retry"))
        .await
        .expect("retried")
        .into_inner();

    assert_eq!(retry.patient_id, first.patient_id);
    let found = reception
        .search_patients(pb::SearchPatientsRequest {
            query: "garcia".into(),
            page: None,
        })
        .await
        .expect("searched")
        .into_inner();
    assert_eq!(found.patients.len(), 1, "the retry registered nobody new");
}

async fn reusing_a_request_id_for_someone_else_is_refused(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    reception
        .create_patient(maria("reg-reused"))
        .await
        .expect("registered");

    let mut someone_else = maria("reg-reused");
    someone_else.patient.as_mut().expect("set").given_name = "Lucía".into();
    let status = reception
        .create_patient(someone_else)
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["request_id"]);
}

async fn invalid_registrations_name_every_bad_field_and_store_nothing(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;

    let mut bad = maria("reg-bad");
    let patient = bad.patient.as_mut().expect("set");
    patient.given_name = "  ".into();
    patient.date_of_birth = Some(Date {
        year: 2030,
        month: 1,
        day: 1,
    });
    patient.phone = "5512345678".into();
    patient.email = "not-an-email".into();
    patient.time_zone = "Mars/Olympus".into();
    let status = reception.create_patient(bad).await.expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        [
            "patient.given_name",
            "patient.date_of_birth",
            "patient.phone",
            "patient.email",
            "patient.time_zone"
        ]
    );
    let found = reception
        .search_patients(pb::SearchPatientsRequest {
            query: "garcia".into(),
            page: None,
        })
        .await
        .expect("searched")
        .into_inner();
    assert!(found.patients.is_empty());
}

async fn updating_changes_only_the_masked_fields(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    let created = reception
        .create_patient(maria("reg-upd"))
        .await
        .expect("registered")
        .into_inner();

    let updated = reception
        .update_patient(pb::UpdatePatientRequest {
            patient: Some(pb::Patient {
                patient_id: created.patient_id.clone(),
                phone: "+52 55 0000 1111".into(),
                given_name: "ignored: not in the mask".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["phone".into()],
            }),
        })
        .await
        .expect("updated")
        .into_inner();

    assert_eq!(updated.phone, "+525500001111");
    assert_eq!(updated.given_name, "María");

    let status = reception
        .update_patient(pb::UpdatePatientRequest {
            patient: Some(pb::Patient {
                patient_id: created.patient_id,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["chart_notes".into()],
            }),
        })
        .await
        .expect_err("unknown path refused");
    assert_eq!(violated_fields(&status), ["update_mask"]);
}

async fn identity_evidence_matches_only_the_right_patient(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    let created = reception
        .create_patient(maria("reg-id"))
        .await
        .expect("registered")
        .into_inner();
    let mut scheduling = registry.client(Role::Service).await;

    let verify = |last_four: &str, day: i32| pb::VerifyPatientIdentityRequest {
        patient_id: created.patient_id.clone(),
        date_of_birth: Some(Date {
            year: 1985,
            month: 3,
            day,
        }),
        phone_last_four: last_four.into(),
    };
    let matches = |response: tonic::Response<pb::VerifyPatientIdentityResponse>| {
        response.into_inner().matches
    };

    assert!(matches(
        scheduling
            .verify_patient_identity(verify("5678", 14))
            .await
            .expect("answered")
    ));
    assert!(!matches(
        scheduling
            .verify_patient_identity(verify("5679", 14))
            .await
            .expect("answered")
    ));
    assert!(!matches(
        scheduling
            .verify_patient_identity(verify("5678", 15))
            .await
            .expect("answered")
    ));
    let status = scheduling
        .verify_patient_identity(verify("56", 14))
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&status), ["phone_last_four"]);
}

async fn unknown_patients_are_not_found(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;

    let status = reception
        .get_patient(pb::GetPatientRequest {
            patient_id: clinic_common::ids::PatientId::new().to_string(),
        })
        .await
        .expect_err("not found");
    assert_eq!(status.code(), Code::NotFound);

    let status = reception
        .get_patient(pb::GetPatientRequest {
            patient_id: "42".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&status), ["patient_id"]);
}

async fn a_huge_bad_time_zone_is_quoted_only_in_part(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let mut reception = registry.client(Role::Reception).await;
    let mut huge = maria("reg-huge-zone");
    huge.patient.as_mut().expect("set").time_zone = "Z".repeat(300_000);

    // Repeated in full, the error would outgrow what clients accept (RESOURCE_EXHAUSTED).
    let status = reception.create_patient(huge).await.expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument, "{}", status.code());
    assert_eq!(violated_fields(&status), ["patient.time_zone"]);
    assert!(status.message().len() < 200, "{}", status.message());
}
