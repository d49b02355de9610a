//! Charging a visit that took place: billing asks scheduling over gRPC what the appointment was
//! (patient, provider, price code, status) and charges it once, attributed to its provider.

use chrono::{DateTime, Utc};
use clinic_common::auth::Role;
use clinic_proto::billing::v1 as pb;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_proto::timestamp_to_proto;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, balance, mxn};

backend_tests!(
    a_completed_appointment_is_charged_to_its_patient_and_provider,
    an_appointment_is_charged_once,
    only_a_visit_that_took_place_is_charged,
    scheduling_being_down_makes_appointment_charges_unavailable,
);

type SchedulingClient = SchedulingServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        clinic_common::auth::BearerToken,
    >,
>;

async fn scheduling_client(clinic: &TestClinic) -> SchedulingClient {
    SchedulingServiceClient::new(
        clinic
            .scheduling
            .as_ref()
            .expect("scheduling runs")
            .channel_as(Role::Manager, "manager:luis")
            .await,
    )
}

/// Books `patient_id` with a new provider at 10:00 today for LIMP-01 and, when `complete`,
/// checks them in, seats them and completes the visit. Returns the appointment id.
pub(crate) async fn visit(clinic: &TestClinic, patient_id: &str, complete: bool) -> String {
    let mut scheduling = scheduling_client(clinic).await;
    let provider = scheduling
        .create_provider(scheduling::CreateProviderRequest {
            provider: Some(scheduling::Provider {
                display_name: "Dra. Ana Ruiz".into(),
                kind: scheduling::ProviderKind::Dentist.into(),
                ..Default::default()
            }),
            request_id: format!("provider-{patient_id}"),
        })
        .await
        .expect("a provider")
        .into_inner();
    let start: DateTime<Utc> = "2026-11-22T16:00:00Z".parse().expect("an instant");
    let appointment = scheduling
        .create_appointment(scheduling::CreateAppointmentRequest {
            appointment: Some(scheduling::Appointment {
                patient_id: patient_id.into(),
                provider_id: provider.provider_id,
                start_time: Some(timestamp_to_proto(start)),
                end_time: Some(timestamp_to_proto(start + chrono::TimeDelta::minutes(45))),
                price_code: "LIMP-01".into(),
                ..Default::default()
            }),
            request_id: format!("appointment-{patient_id}"),
        })
        .await
        .expect("booked")
        .into_inner();
    if complete {
        let checked_in = scheduling
            .check_in_appointment(scheduling::CheckInAppointmentRequest {
                appointment_id: appointment.appointment_id.clone(),
                ..Default::default()
            })
            .await
            .expect("checked in")
            .into_inner();
        scheduling
            .seat_queue_entry(scheduling::SeatQueueEntryRequest {
                queue_entry_id: checked_in.queue_entry.expect("a ticket").queue_entry_id,
            })
            .await
            .expect("seated");
        scheduling
            .complete_appointment(scheduling::CompleteAppointmentRequest {
                appointment_id: appointment.appointment_id.clone(),
            })
            .await
            .expect("completed");
    }
    appointment.appointment_id
}

fn charge_visit(appointment_id: &str, request_id: &str) -> pb::PostAppointmentChargeRequest {
    pb::PostAppointmentChargeRequest {
        appointment_id: appointment_id.into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

async fn a_completed_appointment_is_charged_to_its_patient_and_provider(database: TestDatabase) {
    let clinic = TestClinic::start_with_scheduling(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    let patient_id = clinic.register_patient().await;
    let appointment_id = visit(&clinic, &patient_id, true).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let charge = reception
        .post_appointment_charge(pb::PostAppointmentChargeRequest {
            discount: Some(pb::AdHocDiscount {
                discount: Some(pb::ad_hoc_discount::Discount::Percent(10)),
                reason: "Paciente frecuente".into(),
            }),
            ..charge_visit(&appointment_id, "charge-visit")
        })
        .await
        .expect("charged")
        .into_inner();

    // Assert
    assert_eq!(charge.patient_id, patient_id);
    assert_eq!(charge.appointment_id, appointment_id);
    assert_eq!(charge.price_code, "LIMP-01");
    assert_eq!(charge.provider_name, "Dra. Ana Ruiz");
    assert!(!charge.provider_id.is_empty());
    assert_eq!(
        charge.service_date,
        Some(clinic_proto::common::v1::Date {
            year: 2026,
            month: 11,
            day: 22
        })
    );
    assert_eq!(charge.net_amount, Some(mxn(72_000)));
    assert_eq!(
        balance(&mut reception, &patient_id).await.balance,
        Some(mxn(72_000))
    );
}

async fn an_appointment_is_charged_once(database: TestDatabase) {
    let clinic = TestClinic::start_with_scheduling(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    let patient_id = clinic.register_patient().await;
    let appointment_id = visit(&clinic, &patient_id, true).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let first = reception
        .post_appointment_charge(charge_visit(&appointment_id, "charge-visit"))
        .await
        .expect("charged")
        .into_inner();
    let retried = reception
        .post_appointment_charge(charge_visit(&appointment_id, "charge-visit"))
        .await
        .expect("the retry is answered")
        .into_inner();
    let again = reception
        .post_appointment_charge(charge_visit(&appointment_id, "charge-visit-again"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(retried, first);
    assert_eq!(again.code(), Code::AlreadyExists);
    assert_eq!(
        balance(&mut reception, &patient_id).await.balance,
        Some(mxn(80_000))
    );
}

async fn only_a_visit_that_took_place_is_charged(database: TestDatabase) {
    let clinic = TestClinic::start_with_scheduling(database).await;
    clinic.add_item("LIMP-01", 80_000).await;
    let patient_id = clinic.register_patient().await;
    let booked = visit(&clinic, &patient_id, false).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let not_yet = reception
        .post_appointment_charge(charge_visit(&booked, "charge-booked"))
        .await
        .expect_err("refused");
    let unknown = reception
        .post_appointment_charge(charge_visit(
            &clinic_common::ids::AppointmentId::new().to_string(),
            "charge-unknown",
        ))
        .await
        .expect_err("refused");
    let malformed = reception
        .post_appointment_charge(charge_visit("nope", ""))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(not_yet.code(), Code::FailedPrecondition);
    assert!(not_yet.message().contains("is scheduled"), "{not_yet:?}");
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        clinic_common::status::violated_fields(&malformed),
        ["appointment_id", "request_id"]
    );
    assert_eq!(
        balance(&mut reception, &patient_id).await.balance,
        Some(mxn(0))
    );
}

async fn scheduling_being_down_makes_appointment_charges_unavailable(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;

    // Act
    let refused = clinic
        .client(Role::Reception)
        .await
        .post_appointment_charge(charge_visit(
            &clinic_common::ids::AppointmentId::new().to_string(),
            "charge-offline",
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(refused.code(), Code::Unavailable);
}
