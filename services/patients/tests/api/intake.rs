//! The first-visit intake form: a kiosk submits it with the patient's evidence, staff read it.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::Date;
use clinic_proto::patients::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestRegistry, maria};

backend_tests!(
    a_kiosk_submits_the_form_with_the_patients_evidence_and_reception_reads_it,
    wrong_evidence_and_unknown_patients_read_the_same_and_write_nothing,
    invalid_answers_name_every_field_and_write_nothing,
    an_empty_form_is_refused_naming_each_missing_answer_for_kiosks_and_staff_alike,
    a_minors_form_needs_a_guardian_who_is_kept_and_read_back,
    a_minor_is_reckoned_by_the_clinics_date_not_utcs,
    a_kiosk_may_not_read_intake_forms,
);

fn evidence(day: i32, last_four: &str) -> pb::IdentityEvidence {
    pb::IdentityEvidence {
        date_of_birth: Some(Date {
            year: 1985,
            month: 3,
            day,
        }),
        phone_last_four: last_four.into(),
    }
}

fn form(patient_id: &str) -> pb::IntakeForm {
    pb::IntakeForm {
        patient_id: patient_id.into(),
        reason_for_visit: "Me duele una muela".into(),
        has_allergies: Some(true),
        allergies: "Penicilina".into(),
        medications: String::new(),
        conditions: vec![
            pb::MedicalCondition::Hypertension as i32,
            pb::MedicalCondition::Diabetes as i32,
        ],
        last_dental_visit: pb::LastDentalVisit::OverAYear as i32,
        emergency_contact_name: "Luis García".into(),
        emergency_contact_phone: "+52 55 1111 2222".into(),
        consent_to_assessment: true,
        language: "es".into(),
        ..Default::default()
    }
}

async fn register(registry: &TestRegistry) -> String {
    registry
        .client(Role::Reception)
        .await
        .create_patient(maria("intake-patient"))
        .await
        .expect("registered")
        .into_inner()
        .patient_id
}

async fn a_kiosk_submits_the_form_with_the_patients_evidence_and_reception_reads_it(
    database: TestDatabase,
) {
    let registry = TestRegistry::start(database).await;
    let patient_id = register(&registry).await;
    let mut kiosk = registry.client(Role::Kiosk).await;

    // Act: submitted twice with one key (a retry), as at a kiosk.
    let submit = || pb::SubmitIntakeFormRequest {
        form: Some(form(&patient_id)),
        identity: Some(evidence(14, "5678")),
        request_id: "intake-1".into(),
    };
    let first = kiosk
        .submit_intake_form(submit())
        .await
        .expect("recorded")
        .into_inner();
    let retried = kiosk
        .submit_intake_form(submit())
        .await
        .expect("same")
        .into_inner();

    // Assert
    assert_eq!(first, retried);
    assert_eq!(first.submitted_by, "kiosk:tester");
    assert_eq!(
        first.conditions,
        [
            pb::MedicalCondition::Diabetes as i32,
            pb::MedicalCondition::Hypertension as i32
        ]
    );
    assert_eq!(first.emergency_contact_phone, "+525511112222");
    let mut reception = registry.client(Role::Reception).await;
    let read = reception
        .get_intake_form(pb::GetIntakeFormRequest {
            patient_id: patient_id.clone(),
        })
        .await
        .expect("readable")
        .into_inner();
    assert_eq!(read, first);

    // The same key for different answers is refused, and a corrected form replaces the first.
    let mut changed = form(&patient_id);
    changed.medications = "Losartán".into();
    let status = kiosk
        .submit_intake_form(pb::SubmitIntakeFormRequest {
            form: Some(changed.clone()),
            identity: Some(evidence(14, "5678")),
            request_id: "intake-1".into(),
        })
        .await
        .expect_err("key reused");
    assert_eq!(violated_fields(&status), ["request_id"]);
    reception
        .submit_intake_form(pb::SubmitIntakeFormRequest {
            form: Some(changed),
            identity: None,
            request_id: "intake-2".into(),
        })
        .await
        .expect("reception may type it in without evidence");
    let latest = reception
        .get_intake_form(pb::GetIntakeFormRequest { patient_id })
        .await
        .expect("readable")
        .into_inner();
    assert_eq!(latest.medications, "Losartán");
    assert_eq!(latest.submitted_by, "reception:tester");
}

async fn wrong_evidence_and_unknown_patients_read_the_same_and_write_nothing(
    database: TestDatabase,
) {
    let registry = TestRegistry::start(database).await;
    let patient_id = register(&registry).await;
    let mut kiosk = registry.client(Role::Kiosk).await;

    let mut answers = Vec::new();
    for (target, identity, key) in [
        (patient_id.clone(), evidence(14, "0000"), "wrong-phone"),
        (patient_id.clone(), evidence(15, "5678"), "wrong-birthday"),
        (
            "0190a5f0-0000-7000-8000-000000000000".to_owned(),
            evidence(14, "5678"),
            "unknown",
        ),
    ] {
        let status = kiosk
            .submit_intake_form(pb::SubmitIntakeFormRequest {
                form: Some(form(&target)),
                identity: Some(identity),
                request_id: key.into(),
            })
            .await
            .expect_err("refused");
        answers.push((status.code(), status.message().replace(&target, "<id>")));
    }
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    assert_eq!(answers[0].0, Code::NotFound);

    let status = registry
        .client(Role::Reception)
        .await
        .get_intake_form(pb::GetIntakeFormRequest { patient_id })
        .await
        .expect_err("nothing was written");
    assert_eq!(status.code(), Code::NotFound);
}

async fn invalid_answers_name_every_field_and_write_nothing(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let patient_id = register(&registry).await;
    let mut bad = form(&patient_id);
    bad.allergies.clear();
    bad.conditions.push(99);
    bad.last_dental_visit = 42;
    bad.emergency_contact_phone.clear();
    bad.consent_to_assessment = false;
    bad.language = "fr".into();

    let status = registry
        .client(Role::Kiosk)
        .await
        .submit_intake_form(pb::SubmitIntakeFormRequest {
            form: Some(bad),
            identity: Some(evidence(14, "56")),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        [
            "form.allergies",
            "form.conditions",
            "form.consent_to_assessment",
            "form.emergency_contact_phone",
            "form.language",
            "form.last_dental_visit",
            "identity.phone_last_four",
            "request_id",
        ]
    );
    let status = registry
        .client(Role::Reception)
        .await
        .get_intake_form(pb::GetIntakeFormRequest { patient_id })
        .await
        .expect_err("nothing was written");
    assert_eq!(status.code(), Code::NotFound);
}

async fn an_empty_form_is_refused_naming_each_missing_answer_for_kiosks_and_staff_alike(
    database: TestDatabase,
) {
    let registry = TestRegistry::start(database).await;
    let patient_id = register(&registry).await;
    let empty = || pb::IntakeForm {
        patient_id: patient_id.clone(),
        ..Default::default()
    };

    for (role, identity) in [
        (Role::Kiosk, Some(evidence(14, "5678"))),
        (Role::Reception, None),
    ] {
        let status = registry
            .client(role)
            .await
            .submit_intake_form(pb::SubmitIntakeFormRequest {
                form: Some(empty()),
                identity,
                request_id: format!("empty-{role}"),
            })
            .await
            .expect_err("an empty form is refused");

        assert_eq!(status.code(), Code::InvalidArgument, "{role}");
        let mut fields = violated_fields(&status);
        fields.sort();
        assert_eq!(
            fields,
            [
                "form.consent_to_assessment",
                "form.emergency_contact_name",
                "form.emergency_contact_phone",
                "form.has_allergies",
                "form.last_dental_visit",
                "form.reason_for_visit",
            ],
            "{role}"
        );
    }
    let status = registry
        .client(Role::Reception)
        .await
        .get_intake_form(pb::GetIntakeFormRequest { patient_id })
        .await
        .expect_err("nothing was written");
    assert_eq!(status.code(), Code::NotFound);
}

/// Registers Lucía, born on `born` (phone ending 7777), and returns her id.
async fn register_child(registry: &TestRegistry, born: Date) -> String {
    let mut child = maria("intake-child");
    let patient = child.patient.as_mut().expect("a patient");
    patient.given_name = "Lucía".into();
    patient.date_of_birth = Some(born);
    patient.phone = "+52 55 9999 7777".into();
    registry
        .client(Role::Reception)
        .await
        .create_patient(child)
        .await
        .expect("registered")
        .into_inner()
        .patient_id
}

fn mother() -> pb::Guardian {
    pb::Guardian {
        full_name: "Rosa Pérez".into(),
        relationship: pb::GuardianRelationship::Mother as i32,
        phone: "+52 55 3333 4444".into(),
    }
}

async fn a_minors_form_needs_a_guardian_who_is_kept_and_read_back(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let born = Date {
        year: 2015,
        month: 8,
        day: 14,
    };
    let patient_id = register_child(&registry, born).await;
    let mut kiosk = registry.client(Role::Kiosk).await;
    let child_evidence = pb::IdentityEvidence {
        date_of_birth: Some(born),
        phone_last_four: "7777".into(),
    };
    // No guardian, and no emergency contact: the guardian is what is missing.
    let mut without = form(&patient_id);
    without.emergency_contact_name.clear();
    without.emergency_contact_phone.clear();

    let status = kiosk
        .submit_intake_form(pb::SubmitIntakeFormRequest {
            form: Some(without.clone()),
            identity: Some(child_evidence.clone()),
            request_id: "child-1".into(),
        })
        .await
        .expect_err("a minor's form needs a guardian");

    assert_eq!(status.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        [
            "form.guardian.full_name",
            "form.guardian.phone",
            "form.guardian.relationship",
        ]
    );
    // A kiosk whose evidence does not match learns nothing of the patient's age.
    let status = kiosk
        .submit_intake_form(pb::SubmitIntakeFormRequest {
            form: Some(without.clone()),
            identity: Some(evidence(14, "5678")),
            request_id: "child-2".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        [
            "form.emergency_contact_name",
            "form.emergency_contact_phone"
        ]
    );

    // With a guardian, who stands as the emergency contact, it is recorded and read back.
    let mut with = without;
    with.guardian = Some(mother());
    let recorded = kiosk
        .submit_intake_form(pb::SubmitIntakeFormRequest {
            form: Some(with),
            identity: Some(child_evidence),
            request_id: "child-3".into(),
        })
        .await
        .expect("recorded")
        .into_inner();
    let read = registry
        .client(Role::Reception)
        .await
        .get_intake_form(pb::GetIntakeFormRequest { patient_id })
        .await
        .expect("readable")
        .into_inner();
    assert_eq!(read, recorded);
    let guardian = read.guardian.expect("the guardian");
    assert_eq!(guardian.full_name, "Rosa Pérez");
    assert_eq!(
        guardian.relationship,
        pb::GuardianRelationship::Mother as i32
    );
    assert_eq!(guardian.phone, "+525533334444");
    assert_eq!(read.emergency_contact_name, "");
}

async fn a_minor_is_reckoned_by_the_clinics_date_not_utcs(database: TestDatabase) {
    // 21:00 on 22 November in Mexico City, already the 23rd in UTC: the day Lucía turns 18 has
    // not come yet at the clinic.
    let registry = TestRegistry::start_at(database, "2026-11-23T03:00:00Z").await;
    let patient_id = register_child(
        &registry,
        Date {
            year: 2008,
            month: 11,
            day: 23,
        },
    )
    .await;
    let mut reception = registry.client(Role::Reception).await;

    let status = reception
        .submit_intake_form(pb::SubmitIntakeFormRequest {
            form: Some(form(&patient_id)),
            identity: None,
            request_id: "eve-of-18".into(),
        })
        .await
        .expect_err("still a minor at the clinic");

    assert!(
        violated_fields(&status).contains(&"form.guardian.full_name".to_owned()),
        "{status:?}"
    );
}

async fn a_kiosk_may_not_read_intake_forms(database: TestDatabase) {
    let registry = TestRegistry::start(database).await;
    let patient_id = register(&registry).await;
    let status = registry
        .client(Role::Kiosk)
        .await
        .get_intake_form(pb::GetIntakeFormRequest { patient_id })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::PermissionDenied);
}
