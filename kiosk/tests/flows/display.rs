//! The waiting-room screen shows a new ticket as soon as the patient checks in, and finds the
//! queue again by itself after scheduling restarts.

use clinic_common::auth::Role;
use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::Lang;
use clinic_proto::scheduling::v1 as scheduling;
use egui_kittest::kittest::Queryable;

use crate::{Clinic, wait_for, wait_until};

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
