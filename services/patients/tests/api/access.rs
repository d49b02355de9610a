//! Who may call what, and what is recorded when they do.

use clinic_common::auth::Role;
use clinic_proto::patients::v1 as pb;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestRegistry, maria};

backend_tests!(
    calls_without_a_valid_token_are_unauthenticated,
    a_kiosk_may_not_read_patient_records,
    every_read_by_a_person_is_audited_but_service_reads_are_not,
);

async fn calls_without_a_valid_token_are_unauthenticated(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;

    let mut anonymous = PatientServiceClient::new(registry.service.channel().await);
    let status = anonymous
        .create_patient(maria("anon"))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);

    let forged = clinic_common::auth::TokenKey::from_secret(
        &"another-deployment's-key-32-bytes-long!".to_owned().into(),
    )
    .expect("long enough")
    .issue("manager:mallory", Role::Manager, chrono::Utc::now(), None);
    let bearer = clinic_common::auth::BearerToken::new(&forged).expect("ascii");
    let mut forger =
        PatientServiceClient::with_interceptor(registry.service.channel().await, bearer);
    let status = forger
        .create_patient(maria("forged"))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
}

async fn a_kiosk_may_not_read_patient_records(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let created = registry
        .client(Role::Reception)
        .await
        .create_patient(maria("kiosk"))
        .await
        .expect("registered")
        .into_inner();

    let mut kiosk = registry.client(Role::Kiosk).await;
    let status = kiosk
        .get_patient(pb::GetPatientRequest {
            patient_id: created.patient_id,
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = kiosk
        .search_patients(pb::SearchPatientsRequest {
            query: "garcia".into(),
            page: None,
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::PermissionDenied);
}

async fn every_read_by_a_person_is_audited_but_service_reads_are_not(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let created = registry
        .client(Role::Reception)
        .await
        .create_patient(maria("audit"))
        .await
        .expect("registered")
        .into_inner();
    let get = || pb::GetPatientRequest {
        patient_id: created.patient_id.clone(),
    };

    registry
        .client(Role::Collections)
        .await
        .get_patient(get())
        .await
        .expect("read");
    registry
        .client(Role::Service)
        .await
        .get_patient(get())
        .await
        .expect("read");
    registry
        .client(Role::Reception)
        .await
        .search_patients(pb::SearchPatientsRequest {
            query: "maria".into(),
            page: None,
        })
        .await
        .expect("searched");

    let mut manager = registry.client(Role::Manager).await;
    let log = manager
        .list_patient_access_log(pb::ListPatientAccessLogRequest {
            patient_id: created.patient_id.clone(),
            page: None,
        })
        .await
        .expect("listed")
        .into_inner();
    let actions: Vec<(String, String)> = log
        .entries
        .into_iter()
        .map(|entry| (entry.subject, entry.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("reception:tester".to_owned(), "create".to_owned()),
            ("collections:tester".to_owned(), "read".to_owned()),
            ("reception:tester".to_owned(), "search".to_owned()),
        ]
    );

    let status = registry
        .client(Role::Reception)
        .await
        .list_patient_access_log(pb::ListPatientAccessLogRequest {
            patient_id: created.patient_id,
            page: None,
        })
        .await
        .expect_err("only managers read the audit");
    assert_eq!(status.code(), Code::PermissionDenied);
}
