//! Walk-ins and triage: patients who come without an appointment join the queue with their own
//! tickets; a first visit is routed to a consultant, a return visit to the provider's assistant.

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::ids::PatientId;
use clinic_common::status::violated_fields;
use clinic_proto::scheduling::v1 as pb;
use clinic_scheduling::config::{FirstVisitTo, ReturnVisitTo};
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::TestClinic;
use crate::check_in::by_id;

backend_tests!(
    a_first_time_walk_in_gets_a_w_ticket_and_the_least_busy_consultant,
    a_returning_walk_in_goes_to_the_assistant_of_the_provider_who_saw_them,
    a_walk_in_is_refused_while_the_patient_has_a_visit_to_check_in_or_is_waiting,
    a_first_time_walk_in_with_nobody_to_receive_them_is_refused,
    retrying_a_walk_in_returns_the_first_ticket,
    invalid_walk_ins_name_every_bad_field,
    walk_ins_are_called_and_seated_without_an_appointment,
    checked_in_appointments_are_routed_by_the_configured_triage,
    providers_get_assistants_that_are_assistants,
);

fn walk_in(patient_id: &str, provider_id: &str, request_id: &str) -> pb::RegisterWalkInRequest {
    pb::RegisterWalkInRequest {
        patient_id: patient_id.into(),
        provider_id: provider_id.into(),
        appointment_type_id: String::new(),
        request_id: request_id.into(),
    }
}

async fn register(clinic: &TestClinic, request: pb::RegisterWalkInRequest) -> pb::QueueEntry {
    clinic
        .client(Role::Reception)
        .await
        .register_walk_in(request)
        .await
        .expect("registered")
        .into_inner()
        .queue_entry
        .expect("queued")
}

/// Makes `assistant_id` the assistant of `provider_id`.
async fn assign_assistant(clinic: &TestClinic, provider_id: &str, name: &str, assistant_id: &str) {
    clinic
        .client(Role::Manager)
        .await
        .update_provider(pb::UpdateProviderRequest {
            provider: Some(pb::Provider {
                provider_id: provider_id.into(),
                display_name: name.into(),
                kind: pb::ProviderKind::Dentist.into(),
                assistant_provider_id: assistant_id.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("assistant assigned");
}

async fn a_first_time_walk_in_gets_a_w_ticket_and_the_least_busy_consultant(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let emily = clinic
        .provider_of_kind("Lic. Emily Carter", pb::ProviderKind::Consultant)
        .await;
    let sofia = clinic
        .provider_of_kind("Lic. Sofía Ríos", pb::ProviderKind::Consultant)
        .await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    // An appointment checked in first takes an "A" ticket and a consultant.
    let booked = clinic.book(&lucia, &ana, (22, "10:00"), 30).await;
    let checked_in = clinic
        .client(Role::Reception)
        .await
        .check_in_appointment(by_id(&booked.appointment_id))
        .await
        .expect("checked in")
        .into_inner()
        .queue_entry
        .expect("queued");

    let entry = register(&clinic, walk_in(&maria, "", "walk-in-1")).await;

    assert_eq!(checked_in.ticket_number, "A-001");
    assert!(checked_in.first_visit);
    assert_eq!(entry.ticket_number, "W-001");
    assert_eq!(entry.kind, i32::from(pb::QueueEntryKind::WalkIn));
    assert_eq!(entry.appointment_id, "");
    assert_eq!(entry.appointment_start_time, None);
    assert!(entry.first_visit);
    assert_eq!(entry.status, i32::from(pb::QueueEntryStatus::Waiting));
    assert_eq!(entry.position, 2);
    assert_eq!(entry.initials, "M. G.");
    let busy = checked_in.routed_to_provider_id;
    assert!([&emily, &sofia].contains(&&busy), "{busy}");
    let free = if busy == emily { &sofia } else { &emily };
    assert_eq!(
        &entry.routed_to_provider_id, free,
        "the least busy consultant"
    );
    assert_eq!(&entry.provider_id, free);
}

/// María was seen by `provider_id` yesterday.
async fn seen_yesterday(clinic: &TestClinic, patient_id: &str, provider_id: &str) {
    let mut reception = clinic.client(Role::Reception).await;
    clinic.clock.advance(TimeDelta::days(-1));
    let yesterday = clinic
        .book(patient_id, provider_id, (21, "10:00"), 30)
        .await;
    let entry = reception
        .check_in_appointment(by_id(&yesterday.appointment_id))
        .await
        .expect("checked in")
        .into_inner()
        .queue_entry
        .expect("queued");
    reception
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: entry.queue_entry_id,
        })
        .await
        .expect("seated");
    clinic.clock.advance(TimeDelta::days(1));
}

async fn a_returning_walk_in_goes_to_the_assistant_of_the_provider_who_saw_them(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let luis = clinic
        .provider_of_kind("Asist. Luis Pérez", pb::ProviderKind::Assistant)
        .await;
    clinic
        .provider_of_kind("Lic. Emily Carter", pb::ProviderKind::Consultant)
        .await;
    assign_assistant(&clinic, &ana, "Dra. Ana Ruiz", &luis).await;
    seen_yesterday(&clinic, &maria, &ana).await;

    let entry = register(&clinic, walk_in(&maria, "", "walk-in-1")).await;

    assert!(!entry.first_visit);
    assert_eq!(entry.provider_id, ana);
    assert_eq!(entry.routed_to_provider_id, luis);
}

async fn a_walk_in_is_refused_while_the_patient_has_a_visit_to_check_in_or_is_waiting(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "16:00"), 30).await;
    register(&clinic, walk_in(&lucia, &ana, "walk-in-lucia")).await;
    let mut reception = clinic.client(Role::Reception).await;

    let has_appointment = reception
        .register_walk_in(walk_in(&maria, &ana, "walk-in-maria"))
        .await
        .expect_err("refused");
    let already_waiting = reception
        .register_walk_in(walk_in(&lucia, &ana, "walk-in-lucia-again"))
        .await
        .expect_err("refused");

    assert_eq!(has_appointment.code(), Code::FailedPrecondition);
    assert!(
        has_appointment.message().contains(&booked.appointment_id),
        "{}",
        has_appointment.message()
    );
    assert_eq!(already_waiting.code(), Code::FailedPrecondition);
    assert!(
        already_waiting.message().contains("W-001"),
        "{}",
        already_waiting.message()
    );
}

async fn a_first_time_walk_in_with_nobody_to_receive_them_is_refused(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    clinic.provider("Dra. Ana Ruiz").await;

    let status = clinic
        .client(Role::Reception)
        .await
        .register_walk_in(walk_in(&maria, "", "walk-in-1"))
        .await
        .expect_err("nobody to route to");

    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("nobody can receive"),
        "{status:?}"
    );
}

async fn retrying_a_walk_in_returns_the_first_ticket(database: TestDatabase) {
    let mut clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let first = register(&clinic, walk_in(&maria, &ana, "walk-in-1")).await;
    clinic.stop_registry().await;

    let retry = register(&clinic, walk_in(&maria, &ana, "walk-in-1")).await;
    let reused = clinic
        .client(Role::Reception)
        .await
        .register_walk_in(walk_in(&maria, "", "walk-in-1"))
        .await
        .expect_err("a different request");

    assert_eq!(retry, first);
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&reused), ["request_id"]);
}

async fn invalid_walk_ins_name_every_bad_field(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;

    let malformed = reception
        .register_walk_in(pb::RegisterWalkInRequest {
            patient_id: "someone".into(),
            provider_id: "the dentist".into(),
            appointment_type_id: "cleaning".into(),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let unregistered = reception
        .register_walk_in(walk_in(&PatientId::new().to_string(), &ana, "walk-in-1"))
        .await
        .expect_err("refused");
    let forbidden = clinic
        .client(Role::Kiosk)
        .await
        .register_walk_in(walk_in(&PatientId::new().to_string(), &ana, "walk-in-2"))
        .await
        .expect_err("refused");

    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&malformed),
        [
            "patient_id",
            "provider_id",
            "appointment_type_id",
            "request_id"
        ]
    );
    assert_eq!(violated_fields(&unregistered), ["patient_id"]);
    assert_eq!(forbidden.code(), Code::PermissionDenied);
}

async fn walk_ins_are_called_and_seated_without_an_appointment(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let emily = clinic
        .provider_of_kind("Lic. Emily Carter", pb::ProviderKind::Consultant)
        .await;
    let entry = register(&clinic, walk_in(&maria, "", "walk-in-1")).await;
    let mut reception = clinic.client(Role::Reception).await;

    let called = reception
        .call_next(pb::CallNextRequest {
            provider_id: emily.clone(),
            request_id: "call-1".into(),
        })
        .await
        .expect("called")
        .into_inner();
    let seated = reception
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: entry.queue_entry_id.clone(),
        })
        .await
        .expect("seated")
        .into_inner();

    assert_eq!(called.queue_entry_id, entry.queue_entry_id);
    assert_eq!(called.status, i32::from(pb::QueueEntryStatus::Called));
    assert_eq!(seated.appointment, None);
    let seated = seated.queue_entry.expect("the entry");
    assert_eq!(seated.status, i32::from(pb::QueueEntryStatus::Seated));
    assert_eq!(seated.ticket_number, "W-001");
}

async fn checked_in_appointments_are_routed_by_the_configured_triage(database: TestDatabase) {
    let routed = |first_visit, return_visit| {
        move |settings: &mut clinic_scheduling::Settings| {
            settings.triage.first_visit = first_visit;
            settings.triage.return_visit = return_visit;
        }
    };
    let database_for_provider_routing = database.sibling().await;
    for (database, configure, expect_team) in [
        (
            database,
            routed(FirstVisitTo::Consultant, ReturnVisitTo::Assistant),
            true,
        ),
        (
            database_for_provider_routing,
            routed(FirstVisitTo::Provider, ReturnVisitTo::Provider),
            false,
        ),
    ] {
        let clinic = TestClinic::start_with(database, configure).await;
        let maria = clinic.maria().await;
        let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
        let ana = clinic.provider("Dra. Ana Ruiz").await;
        let luis = clinic
            .provider_of_kind("Asist. Luis Pérez", pb::ProviderKind::Assistant)
            .await;
        let emily = clinic
            .provider_of_kind("Lic. Emily Carter", pb::ProviderKind::Consultant)
            .await;
        assign_assistant(&clinic, &ana, "Dra. Ana Ruiz", &luis).await;
        seen_yesterday(&clinic, &maria, &ana).await;
        let returning = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
        let new_patient = clinic.book(&lucia, &ana, (22, "10:30"), 30).await;
        let mut reception = clinic.client(Role::Reception).await;

        let mut routed_to = Vec::new();
        for appointment in [&returning, &new_patient] {
            let entry = reception
                .check_in_appointment(by_id(&appointment.appointment_id))
                .await
                .expect("checked in")
                .into_inner()
                .queue_entry
                .expect("queued");
            routed_to.push((entry.first_visit, entry.routed_to_provider_id));
        }

        if expect_team {
            assert_eq!(routed_to, [(false, luis.clone()), (true, emily.clone())]);
        } else {
            assert_eq!(routed_to, [(false, ana.clone()), (true, ana.clone())]);
        }
        // Calling next for the assistant calls the patient routed to them.
        let called = reception
            .call_next(pb::CallNextRequest {
                provider_id: routed_to[0].1.clone(),
                request_id: "call-returning".into(),
            })
            .await
            .expect("called")
            .into_inner();
        assert_eq!(called.appointment_id, returning.appointment_id);
    }
}

async fn providers_get_assistants_that_are_assistants(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let eva = clinic.provider("Dra. Eva Gil").await;
    let luis = clinic
        .provider_of_kind("Asist. Luis Pérez", pb::ProviderKind::Assistant)
        .await;
    let mut manager = clinic.client(Role::Manager).await;
    let update = |provider_id: &str, assistant: &str| pb::UpdateProviderRequest {
        provider: Some(pb::Provider {
            provider_id: provider_id.into(),
            display_name: "Dra. Ana Ruiz Soto".into(),
            kind: pb::ProviderKind::Dentist.into(),
            assistant_provider_id: assistant.into(),
            ..Default::default()
        }),
    };

    let updated = manager
        .update_provider(update(&ana, &luis))
        .await
        .expect("updated")
        .into_inner();
    let not_an_assistant = manager
        .update_provider(update(&ana, &eva))
        .await
        .expect_err("refused");
    let unknown = manager
        .update_provider(update(&PatientId::new().to_string(), ""))
        .await
        .expect_err("refused");
    let malformed = manager
        .update_provider(pb::UpdateProviderRequest {
            provider: Some(pb::Provider {
                provider_id: "ana".into(),
                display_name: String::new(),
                kind: 0,
                assistant_provider_id: "luis".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("refused");
    let forbidden = clinic
        .client(Role::Reception)
        .await
        .update_provider(update(&ana, ""))
        .await
        .expect_err("refused");

    assert_eq!(updated.display_name, "Dra. Ana Ruiz Soto");
    assert_eq!(updated.assistant_provider_id, luis);
    let listed = manager
        .list_providers(pb::ListProvidersRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .providers;
    assert!(listed.contains(&updated));
    assert_eq!(
        violated_fields(&not_an_assistant),
        ["provider.assistant_provider_id"]
    );
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        violated_fields(&malformed),
        [
            "provider.provider_id",
            "provider.display_name",
            "provider.kind",
            "provider.assistant_provider_id"
        ]
    );
    assert_eq!(forbidden.code(), Code::PermissionDenied);
}
