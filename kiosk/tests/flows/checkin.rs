//! A patient checks in at the lobby kiosk in English with the code from their reminder, gets a
//! ticket, sends the first-visit form, and the kiosk returns to Spanish after idling.

use clinic_common::auth::Role;
use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::Lang;
use clinic_proto::patients::v1 as patients;
use egui_kittest::kittest::Queryable;

use crate::{Clinic, click, wait_for};

/// Types `text` on the kiosk's on-screen keypad.
fn keypad(harness: &mut egui_kittest::Harness<'_, clinic_kiosk::KioskApp>, text: &str) {
    for key in text.chars() {
        crate::click(harness, &key.to_string());
    }
}

#[test]
fn a_patient_checks_in_with_the_reminder_code_and_sends_the_first_visit_form() {
    let clinic = Clinic::start();
    let booked = clinic.book();
    let mut kiosk = clinic.harness(Mode::Checkin, Lang::Es);
    kiosk.step();

    // The first screen offers the four languages; the patient picks English.
    for language in ["Español", "English", "中文", "Русский"] {
        assert!(
            kiosk.query_by_label(language).is_some(),
            "{language} missing"
        );
    }
    click(&mut kiosk, "English");
    assert!(kiosk.query_by_label("Welcome").is_some());
    click(&mut kiosk, "I have the code from my reminder");

    // A wrong phone number finds nothing, and says nothing about anyone.
    keypad(&mut kiosk, &booked.confirmation_code);
    keypad(&mut kiosk, "14031985");
    keypad(&mut kiosk, "0000");
    click(&mut kiosk, "Find my appointment");
    wait_for(&mut kiosk, "We could not find an appointment today");
    assert!(kiosk.query_by_label_contains("Ana").is_none());

    // The right last four digits check the patient in.
    kiosk.get_by_label("Last 4 digits of your phone").click();
    kiosk.step();
    keypad(&mut kiosk, "⌫⌫⌫⌫5678");
    click(&mut kiosk, "Find my appointment");
    wait_for(&mut kiosk, "Your ticket");
    assert!(kiosk.query_by_label("A-001").is_some());
    assert!(
        kiosk
            .query_by_label_contains("with Dra. Ana Ruiz")
            .is_some()
    );

    // The first-visit form.
    click(&mut kiosk, "Fill in the first-visit form");
    click(&mut kiosk, "No");
    let consent = "I confirm my answers are true and agree to a dental assessment.";
    // Below the fold: ticked the way assistive technology does it.
    kiosk.get_by_label(consent).click_accesskit();
    kiosk.step();
    click(&mut kiosk, "Send form");
    wait_for(&mut kiosk, "We have your form. Thank you!");
    let mut registry = clinic.patients(Role::Reception);
    let form = clinic
        .runtime
        .block_on(registry.get_intake_form(patients::GetIntakeFormRequest {
            patient_id: booked.patient_id.clone(),
        }))
        .expect("the form reached the registry")
        .into_inner();
    assert_eq!(form.language, "en");
    assert!(!form.has_allergies);

    // Left alone, the kiosk forgets the patient and goes back to its own language.
    for _ in 0..100 {
        kiosk.step();
    }
    assert!(kiosk.query_by_label("Bienvenido").is_some());
    assert!(kiosk.query_by_label("A-001").is_none());
}

#[test]
fn the_kiosk_says_plainly_when_the_system_is_down() {
    let mut clinic = Clinic::start();
    let booked = clinic.book();
    clinic.stop_scheduling();
    let mut kiosk = clinic.harness(Mode::Checkin, Lang::Ru);
    kiosk.step();

    click(&mut kiosk, "У меня есть код из напоминания");
    keypad(&mut kiosk, &booked.confirmation_code);
    keypad(&mut kiosk, "140319855678");
    click(&mut kiosk, "Найти мою запись");
    wait_for(&mut kiosk, "Система сейчас не отвечает");
}
