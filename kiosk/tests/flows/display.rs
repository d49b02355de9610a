//! The waiting-room screen shows a new ticket as soon as the patient checks in, and finds the
//! queue again by itself after scheduling restarts; on its 1280×720 screen every row it shows is
//! whole, a called ticket says where to go, and every name is masked alike.

use clinic_common::auth::Role;
use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::Lang;
use clinic_proto::common::v1::Date;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};

use crate::{Clinic, labels, wait_for, wait_until};

#[test]
fn the_display_shows_new_tickets_and_reconnects_by_itself() {
    let mut clinic = Clinic::start();
    let booked = clinic.book();
    let mut display = clinic.harness(Mode::Display, Lang::Es);
    wait_for(&mut display, "Siguientes");
    wait_until(&mut display, "the watch to connect", |h| {
        h.state().display().is_some_and(|d| d.connected())
    });
    assert!(display.query_by_label("A-001").is_none());

    let mut desk = clinic.scheduling(Role::Reception);
    clinic
        .runtime
        .block_on(
            desk.check_in_appointment(scheduling::CheckInAppointmentRequest {
                appointment_id: booked.appointment_id.clone(),
                identity: None,
                confirmation_code: String::new(),
            }),
        )
        .expect("checked in");
    wait_for(&mut display, "A-001");
    // Booked for this minute and nobody ahead: a wait of zero reads "shortly", not a blank.
    assert!(display.query_by_label("en breve").is_some());
    // Initials only: never the name.
    assert!(display.query_by_label("A. P.").is_some());
    assert!(display.query_by_label_contains("Prueba").is_none());

    clinic.stop_scheduling();
    wait_for(&mut display, "Reconectando");
    clinic.restart_scheduling();
    wait_until(&mut display, "the watch to reconnect", |h| {
        h.state().display().is_some_and(|d| d.connected())
    });
    assert!(display.query_by_label("A-001").is_some());
}

/// The display's screen in the waiting room: 1280×720.
const SCREEN: egui::Vec2 = egui::vec2(1280.0, 720.0);

#[test]
fn the_display_fits_every_row_on_screen_says_where_to_go_and_masks_every_name_alike() {
    // Arrange: Ana Prueba booked in chair 1, checked in and called; eleven walk-ins waiting,
    // the first of them Zhang Wei, whose name is written in Chinese.
    let clinic = Clinic::start();
    let mut manager = clinic.scheduling(Role::Manager);
    let chair = clinic
        .runtime
        .block_on(manager.create_resource(scheduling::CreateResourceRequest {
            resource: Some(scheduling::Resource {
                display_name: "Sillón 1".into(),
                kind: scheduling::ResourceKind::Chair as i32,
                in_service: true,
                ..Default::default()
            }),
            request_id: "flow-chair".into(),
        }))
        .expect("a chair")
        .into_inner();
    let booked = clinic.book_holding(vec![chair.resource_id]);
    let mut desk = clinic.scheduling(Role::Reception);
    let mut registry = clinic.patients(Role::Reception);
    clinic.runtime.block_on(async {
        desk.check_in_appointment(scheduling::CheckInAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
            identity: None,
            confirmation_code: String::new(),
        })
        .await
        .expect("checked in");
        desk.call_next(scheduling::CallNextRequest {
            provider_id: booked.provider_id.clone(),
            request_id: "flow-call-ana".into(),
        })
        .await
        .expect("called");
        let mut names = vec![("伟".to_owned(), "张".to_owned())];
        for n in 1..WALK_INS {
            names.push((format!("Paciente{n}"), "Espera".to_owned()));
        }
        for (n, (given_name, family_name)) in names.into_iter().enumerate() {
            let patient = registry
                .create_patient(patients::CreatePatientRequest {
                    patient: Some(patients::Patient {
                        given_name,
                        family_name,
                        date_of_birth: Some(Date {
                            year: 1990,
                            month: 1,
                            day: 1,
                        }),
                        phone: format!("+5255100000{n:02}"),
                        preferred_language: "es".into(),
                        ..Default::default()
                    }),
                    request_id: format!("flow-walk-in-patient-{n}"),
                })
                .await
                .expect("registered")
                .into_inner();
            desk.register_walk_in(scheduling::RegisterWalkInRequest {
                patient_id: patient.patient_id,
                provider_id: booked.provider_id.clone(),
                appointment_type_id: String::new(),
                request_id: format!("flow-walk-in-{n}"),
            })
            .await
            .expect("a walk-in");
        }
    });

    // Act: the waiting room's screen.
    let mut display = clinic.harness_sized(Mode::Display, Lang::Es, SCREEN);
    wait_for(&mut display, "W-001");
    wait_for(&mut display, "Sillón 1");

    // Assert: where the called patient goes, beside the ticket.
    assert!(display.query_by_label("A-001").is_some());
    assert!(
        display
            .query_by_label("Pase a: Sillón 1 · Dra. Ana Ruiz")
            .is_some(),
        "{:?}",
        labels(&display)
    );
    // One masking rule for every script: the first letter of each name.
    assert!(display.query_by_label("A. P.").is_some());
    assert!(display.query_all_by_label("P. E.").next().is_some());
    assert!(display.query_by_label("张* 伟*").is_some());
    assert!(display.query_by_label_contains("Paciente").is_none());
    // Every waiting row shown lies wholly on the screen; those that do not fit are counted.
    let mut shown = 0;
    let mut lowest: f32 = 0.0;
    for ticket in display.query_all_by_label_contains("W-0") {
        let rect = ticket.rect();
        assert!(
            rect.top() >= 0.0 && rect.bottom() <= SCREEN.y,
            "{} is cut off at {rect:?}",
            ticket.accesskit_node().label().unwrap_or_default()
        );
        shown += 1;
        lowest = lowest.max(rect.bottom());
    }
    let more = labels(&display)
        .into_iter()
        .find(|label| label.starts_with("y ") && label.ends_with(" más"));
    let counted = match more {
        Some(label) => {
            let rect = display.get_by_label(&label).rect();
            assert!(rect.bottom() <= SCREEN.y, "{label} is cut off at {rect:?}");
            label
                .trim_start_matches("y ")
                .trim_end_matches(" más")
                .parse()
                .expect("a count")
        }
        None => 0,
    };
    assert!(shown >= 6, "only {shown} waiting tickets shown");
    assert_eq!(
        shown + counted,
        WALK_INS,
        "every waiting ticket shown or counted: {:?}",
        labels(&display)
    );
    // The rows use the screen's height rather than its upper half.
    assert!(lowest > SCREEN.y * 0.75, "the rows end at {lowest}");
}

/// How many walk-ins wait in the test above: more than fit on the screen.
const WALK_INS: usize = 11;
