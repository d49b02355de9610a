//! The proof that nothing is ever double booked: many bookings fired at once over real gRPC, each
//! with its own request id and patient, at one provider's slot or at one piece of equipment.
//! Exactly as many win as there is room for; every other call is refused naming what is in the
//! way. `scripts/stress-double-booking` runs these tests many times in a row.

use clinic_common::auth::Role;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::{Code, Status};

use crate::resources::{any, exactly, resource, type_needing, typed_booking};
use crate::{Client, TestClinic, appointments_on, booking};

backend_tests!(
    sixty_concurrent_bookings_of_one_providers_slot_yield_exactly_one_appointment,
    sixty_providers_racing_for_the_one_xray_yield_exactly_one_appointment,
    sixty_providers_racing_for_two_chairs_yield_two_appointments_in_different_chairs,
);

/// How many bookings race.
const RACERS: usize = 60;

/// Registers `count` patients, each with their own phone, and returns their ids.
async fn patients(clinic: &TestClinic, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        ids.push(
            clinic
                .register(
                    "Paciente",
                    &format!("Número {n}"),
                    &format!("+52 55 1000 {n:04}"),
                )
                .await,
        );
    }
    ids
}

/// Fires every request at once, each on its own task, and splits the answers.
async fn race(
    client: &Client,
    requests: Vec<pb::CreateAppointmentRequest>,
) -> (Vec<pb::Appointment>, Vec<Status>) {
    let mut calls = Vec::with_capacity(requests.len());
    for request in requests {
        let mut client = client.clone();
        calls.push(tokio::spawn(async move {
            client.create_appointment(request).await
        }));
    }
    let mut booked = Vec::new();
    let mut refused = Vec::new();
    for call in calls {
        match call.await.expect("the call task finished") {
            Ok(response) => booked.push(response.into_inner()),
            Err(status) => refused.push(status),
        }
    }
    (booked, refused)
}

async fn sixty_concurrent_bookings_of_one_providers_slot_yield_exactly_one_appointment(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patients = patients(&clinic, RACERS).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let reception = clinic.client(Role::Reception).await;
    let requests = patients
        .iter()
        .enumerate()
        .map(|(n, patient_id)| {
            let mut request = booking(patient_id, &ana, (24, "10:00"), 30);
            request.request_id = format!("race-provider-{n}");
            request
        })
        .collect();

    let (booked, refused) = race(&reception, requests).await;

    assert_eq!(booked.len(), 1, "exactly one booking wins: {refused:?}");
    assert_eq!(refused.len(), RACERS - 1);
    let winner = &booked[0];
    for status in &refused {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(
            // In the clinic's time, as the desk reads it.
            status
                .message()
                .starts_with("the provider is already booked from 2026-11-24 10:00 to 10:30 CST"),
            "{status:?}"
        );
        assert!(
            status.message().contains(&winner.appointment_id),
            "{status:?}"
        );
    }
    let mut reception = reception;
    assert_eq!(appointments_on(&mut reception, 24).await, booked);
}

async fn sixty_providers_racing_for_the_one_xray_yield_exactly_one_appointment(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patients = patients(&clinic, RACERS).await;
    let xray = resource(&clinic, "Rayos X", pb::ResourceKind::Equipment).await;
    let radiograph = type_needing(
        &clinic,
        "Radiografía",
        vec![exactly(pb::ResourceKind::Equipment, &xray)],
    )
    .await;
    let mut requests = Vec::with_capacity(RACERS);
    for (n, patient_id) in patients.iter().enumerate() {
        let provider = clinic.provider(&format!("Dr. Número {n}")).await;
        requests.push(typed_booking(
            patient_id,
            &provider,
            &radiograph,
            (24, "10:00"),
        ));
    }
    let reception = clinic.client(Role::Reception).await;

    let (booked, refused) = race(&reception, requests).await;

    assert_eq!(booked.len(), 1, "exactly one booking wins: {refused:?}");
    assert_eq!(refused.len(), RACERS - 1);
    let winner = &booked[0];
    assert_eq!(winner.resource_ids, std::slice::from_ref(&xray));
    for status in &refused {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(
            status
                .message()
                .starts_with("the equipment Rayos X is already booked from"),
            "{status:?}"
        );
        assert!(
            status.message().contains(&winner.appointment_id),
            "{status:?}"
        );
    }
    let mut reception = reception;
    assert_eq!(appointments_on(&mut reception, 24).await, booked);
}

async fn sixty_providers_racing_for_two_chairs_yield_two_appointments_in_different_chairs(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patients = patients(&clinic, RACERS).await;
    let chair_1 = resource(&clinic, "Sillón 1", pb::ResourceKind::Chair).await;
    let chair_2 = resource(&clinic, "Sillón 2", pb::ResourceKind::Chair).await;
    let cleaning = type_needing(&clinic, "Limpieza", vec![any(pb::ResourceKind::Chair)]).await;
    let mut requests = Vec::with_capacity(RACERS);
    for (n, patient_id) in patients.iter().enumerate() {
        let provider = clinic.provider(&format!("Dr. Número {n}")).await;
        requests.push(typed_booking(
            patient_id,
            &provider,
            &cleaning,
            (24, "10:00"),
        ));
    }
    let reception = clinic.client(Role::Reception).await;

    let (booked, refused) = race(&reception, requests).await;

    assert_eq!(booked.len(), 2, "one booking per chair wins: {refused:?}");
    let mut chairs: Vec<String> = booked
        .iter()
        .flat_map(|appointment| appointment.resource_ids.clone())
        .collect();
    chairs.sort();
    let mut expected = vec![chair_1, chair_2];
    expected.sort();
    assert_eq!(chairs, expected);
    assert_eq!(refused.len(), RACERS - 2);
    for status in &refused {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(
            status
                .message()
                .starts_with("no chair is free at that time: Sillón"),
            "{status:?}"
        );
        assert!(
            booked
                .iter()
                .any(|winner| status.message().contains(&winner.appointment_id)),
            "{status:?}"
        );
    }
}
