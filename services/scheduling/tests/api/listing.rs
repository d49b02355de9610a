//! Reading appointments: one at a time, and a day's schedule with filters and pages.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::PageRequest;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, appointments_on, november};

backend_tests!(
    a_days_appointments_are_listed_by_start_in_clinic_local_time,
    appointments_can_be_filtered_by_provider_and_by_patient,
    appointments_are_listed_in_pages,
    listing_needs_a_day_and_well_formed_filters,
    unknown_appointments_are_not_found,
);

fn starts(appointments: &[pb::Appointment]) -> Vec<i64> {
    appointments
        .iter()
        .map(|appointment| appointment.start_time.expect("set").seconds)
        .collect()
}

async fn a_days_appointments_are_listed_by_start_in_clinic_local_time(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    // 23:30 in Mexico City is already the next day in UTC, and 00:30 on the 23rd is not the 22nd.
    let late = clinic.book(&maria, &provider_id, (22, "23:30"), 30).await;
    let morning = clinic.book(&maria, &provider_id, (22, "09:00"), 30).await;
    let noon = clinic.book(&maria, &provider_id, (22, "12:00"), 30).await;
    let tomorrow = clinic.book(&maria, &provider_id, (23, "00:30"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    let today = appointments_on(&mut reception, 22).await;

    assert_eq!(starts(&today), starts(&[morning, noon, late]));
    assert_eq!(appointments_on(&mut reception, 23).await, [tomorrow]);
    assert!(appointments_on(&mut reception, 21).await.is_empty());
}

async fn appointments_can_be_filtered_by_provider_and_by_patient(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic.provider("Dr. Luis Mora").await;
    let maria_with_ana = clinic.book(&maria, &ana, (22, "09:00"), 30).await;
    let lucia_with_ana = clinic.book(&lucia, &ana, (22, "10:00"), 30).await;
    let maria_with_luis = clinic.book(&maria, &luis, (22, "11:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let list = |provider_id: &str, patient_id: &str| pb::ListAppointmentsRequest {
        day: Some(november(22)),
        provider_id: provider_id.into(),
        patient_id: patient_id.into(),
        page: None,
    };

    let anas = reception
        .list_appointments(list(&ana, ""))
        .await
        .expect("listed")
        .into_inner();
    let marias = reception
        .list_appointments(list("", &maria))
        .await
        .expect("listed")
        .into_inner();
    let both = reception
        .list_appointments(list(&luis, &maria))
        .await
        .expect("listed")
        .into_inner();

    assert_eq!(anas.appointments, [maria_with_ana.clone(), lucia_with_ana]);
    assert_eq!(
        marias.appointments,
        [maria_with_ana, maria_with_luis.clone()]
    );
    assert_eq!(both.appointments, [maria_with_luis]);
}

async fn appointments_are_listed_in_pages(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let provider_id = clinic.provider("Dra. Ana Ruiz").await;
    let mut booked = Vec::new();
    for time in ["09:00", "09:30", "10:00", "10:30", "11:00"] {
        booked.push(clinic.book(&maria, &provider_id, (22, time), 30).await);
    }
    let mut reception = clinic.client(Role::Reception).await;

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = reception
            .list_appointments(pb::ListAppointmentsRequest {
                day: Some(november(22)),
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: page_token.clone(),
                }),
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        seen.extend(page.appointments);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }

    assert_eq!(seen, booked);
}

async fn listing_needs_a_day_and_well_formed_filters(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    let status = reception
        .list_appointments(pb::ListAppointmentsRequest {
            day: None,
            provider_id: "ana".into(),
            patient_id: "maria".into(),
            page: Some(PageRequest {
                page_size: -1,
                page_token: String::new(),
            }),
        })
        .await
        .expect_err("refused");

    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        ["day", "provider_id", "patient_id", "page"]
    );
}

async fn unknown_appointments_are_not_found(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    let status = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: clinic_common::ids::AppointmentId::new().to_string(),
        })
        .await
        .expect_err("not found");
    assert_eq!(status.code(), Code::NotFound);

    let status = reception
        .get_appointment(pb::GetAppointmentRequest {
            appointment_id: "42".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&status), ["appointment_id"]);
}
