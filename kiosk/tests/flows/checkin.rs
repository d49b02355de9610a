//! Patients at the lobby kiosk: finding today's appointment by the reminder's code or by name,
//! confirming it, checking in, paying a balance by card, sending the first-visit form; the kiosk
//! forgets them after idling and says plainly when the system is down.

use clinic_common::auth::Role;
use clinic_kiosk::KioskApp;
use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::{Lang, T};
use clinic_kiosk::widgets;
use clinic_proto::patients::v1 as patients;
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::{Clinic, click, type_into, wait_for};

/// The check-in kiosk's screen: 1280×800.
const SCREEN_HEIGHT: f32 = 800.0;

/// Types `text` on the kiosk's on-screen keypad.
fn keypad(harness: &mut Harness<'_, KioskApp>, text: &str) {
    for key in text.chars() {
        click(harness, &key.to_string());
    }
}

#[test]
fn a_patient_checks_in_with_the_reminder_code_pays_and_sends_the_first_visit_form() {
    let clinic = Clinic::start();
    let booked = clinic.book();
    clinic.charge(&booked.patient_id);
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

    // A wrong date of birth finds nothing, and says nothing about anyone.
    keypad(&mut kiosk, &booked.confirmation_code);
    keypad(&mut kiosk, "150319855678");
    click(&mut kiosk, "Find my appointment");
    wait_for(&mut kiosk, "We could not find an appointment today");
    assert!(kiosk.query_by_label_contains("Ana").is_none());

    // The right date finds the appointment; the patient confirms it is theirs.
    kiosk.get_by_label("Day").click();
    kiosk.step();
    keypad(&mut kiosk, "⌫⌫14");
    click(&mut kiosk, "Find my appointment");
    wait_for(&mut kiosk, "Is this you?");
    assert!(
        kiosk
            .query_by_label_contains("Ana, your appointment today is at")
            .is_some()
    );
    assert!(
        kiosk
            .query_by_label_contains("with Dra. Ana Ruiz")
            .is_some()
    );
    click(&mut kiosk, "Yes, check me in");
    wait_for(&mut kiosk, "Your ticket");
    assert!(kiosk.query_by_label("A-001").is_some());

    // The balance, paid by card at the lobby terminal.
    wait_for(&mut kiosk, "You have an outstanding balance of $500.00.");
    click(&mut kiosk, "Pay by card");
    keypad(&mut kiosk, "A1B2C3");
    // The keypad turns to digits on the next frame.
    kiosk.get_by_label("Card's last 4").click();
    kiosk.step();
    kiosk.step();
    keypad(&mut kiosk, "4242");
    click(&mut kiosk, "Debit");
    click(&mut kiosk, "Record payment");
    wait_for(&mut kiosk, "Payment recorded. Receipt R-");
    assert!(
        kiosk
            .query_by_label_contains("Balance left: $0.00")
            .is_some()
    );
    let statement = clinic.statement(&booked.patient_id);
    assert_eq!(statement.closing_balance.expect("a balance").minor_units, 0);

    // A first visit: the intake form.
    click(&mut kiosk, "Fill in the first-visit form");
    click(&mut kiosk, "No");
    type_into(&mut kiosk, "Medicines you take now", "Losartán");
    // Below the fold: ticked the way assistive technology does it.
    kiosk
        .get_by_label_contains("I confirm my answers are true and agree to a dental assessment.")
        .click_accesskit();
    kiosk.step();
    // A contact's phone without the country code is explained, not just refused.
    let phone = "Contact's phone, with the country code (+1 512 555 0100)";
    crate::set_text(&mut kiosk, "Emergency contact (name)", "Luis Prueba");
    crate::set_text(&mut kiosk, phone, "5512345678");
    click(&mut kiosk, "Send form");
    wait_for(
        &mut kiosk,
        "Type the contact's phone with + and the country code",
    );
    crate::set_text(&mut kiosk, phone, "+52 55 1234 5678");
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
    assert_eq!(form.medications, "Losartán");
    assert_eq!(form.emergency_contact_phone, "+525512345678");

    // Reception sees the answers before the patient is seen.
    let mut counter = clinic.harness(Mode::Counter, Lang::En);
    crate::schedule_as_list(&mut counter);
    wait_for(&mut counter, "Ana Prueba");
    click(&mut counter, "Account");
    wait_for(&mut counter, "Medicines you take now Losartán");
    assert!(!form.has_allergies);

    // Left alone, the kiosk forgets the patient and goes back to its own language.
    for _ in 0..100 {
        kiosk.step();
    }
    assert!(kiosk.query_by_label("Bienvenido").is_some());
    assert!(kiosk.query_by_label("A-001").is_none());
}

#[test]
fn a_chinese_patient_finds_the_appointment_by_name_in_characters_or_in_pinyin() {
    let clinic = Clinic::start();
    let _booked = clinic.book_patient(("静", "王"), Vec::new());
    let mut kiosk = clinic.harness(Mode::Checkin, Lang::Es);
    kiosk.step();

    click(&mut kiosk, "中文");
    click(&mut kiosk, "按姓名查找");
    // The family name comes first, as Chinese writes it, and the keypad starts there.
    let family = kiosk.get_by_label("姓").rect();
    let given = kiosk.get_by_label("名").rect();
    assert!(
        family.bottom() <= given.top(),
        "姓 at {family:?}, 名 at {given:?}"
    );
    // In characters, from an input method.
    let ime = |kiosk: &mut Harness<'_, KioskApp>, name: &str| {
        kiosk.event(egui::Event::Text(name.into()));
        kiosk.step();
    };
    find_in_chinese(&mut kiosk, ("王", "静"), ime);
    click(&mut kiosk, "不是我");

    // In pinyin, on the on-screen keypad alone.
    click(&mut kiosk, "中文");
    click(&mut kiosk, "按姓名查找");
    assert!(kiosk.query_by_label_contains("拼音").is_some());
    let window = kiosk.ctx.content_rect();
    for key in widgets::LATIN_KEYS.iter().filter(|key| **key != " ") {
        let rect = button_rect(&kiosk, key);
        assert!(
            window.contains_rect(rect),
            "{key} at {rect:?} is off the screen"
        );
    }
    let last_four = button_rect(&kiosk, "手机号码后4位");
    let back = button_rect(&kiosk, "返回");
    assert!(
        last_four.bottom() <= back.top(),
        "{last_four:?} runs under {back:?}"
    );
    find_in_chinese(&mut kiosk, ("WANG", "JING"), keypad);
    click(&mut kiosk, "是，为我签到");
    wait_for(&mut kiosk, "您的号码");
    assert!(kiosk.query_by_label("A-001").is_some());
}

/// On the Chinese find-by-name screen (the family name's field active): types the family and
/// given names with `type_name`, the birth date and phone on the keypad, and searches until
/// the kiosk asks "Is this you?".
fn find_in_chinese(
    kiosk: &mut Harness<'_, KioskApp>,
    (family, given): (&str, &str),
    type_name: impl Fn(&mut Harness<'_, KioskApp>, &str),
) {
    type_name(kiosk, family);
    kiosk.get_by_label("名").click();
    kiosk.step();
    kiosk.step();
    type_name(kiosk, given);
    kiosk.get_by_label("日").click();
    kiosk.step();
    kiosk.step();
    keypad(kiosk, "140319855678");
    click(kiosk, "查找我的预约");
    wait_for(kiosk, "这是您吗？");
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

/// Where the button labelled `label` is on the screen.
fn button_rect(harness: &Harness<'_, KioskApp>, label: &str) -> egui::Rect {
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, label)
        .rect()
}

/// Refuses the search on the find screen and checks that the refusal `text` shows beside Back
/// and Search, on the screen, and that neither button moved.
fn refusal_moves_nothing(harness: &mut Harness<'_, KioskApp>, lang: Lang, text: &str) {
    let (back, search) = (T::Back.get(lang), T::Search.get(lang));
    let before = (button_rect(harness, back), button_rect(harness, search));
    assert!(
        before.1.bottom() <= SCREEN_HEIGHT,
        "{lang:?}: {search} is off the screen at {:?}",
        before.1
    );

    click(harness, search);
    wait_for(harness, text);

    let after = (button_rect(harness, back), button_rect(harness, search));
    assert_eq!(after, before, "{lang:?}: the refusal moved the buttons");
    let refusal = harness.get_by_label_contains(text).rect();
    assert!(
        refusal.bottom() <= SCREEN_HEIGHT,
        "{lang:?}: the refusal is off the screen at {refusal:?}"
    );
    assert!(
        refusal.left() >= after.1.right()
            && refusal.top() < after.1.bottom()
            && refusal.bottom() > after.1.top(),
        "{lang:?}: the refusal at {refusal:?} is not beside {search} at {:?}",
        after.1
    );
}

#[test]
fn a_refusal_on_the_find_screen_shows_beside_the_buttons_and_moves_nothing() {
    let clinic = Clinic::start();
    let booked = clinic.book();
    let mut kiosk = clinic.harness(Mode::Checkin, Lang::Es);
    kiosk.step();

    // By name, the tallest form, in every language: nothing typed yet.
    for lang in Lang::ALL {
        click(&mut kiosk, lang.native_name());
        click(&mut kiosk, T::FindByName.get(lang));
        refusal_moves_nothing(&mut kiosk, lang, T::FillEverything.get(lang));
        click(&mut kiosk, T::Back.get(lang));
    }

    // By code, with a date of birth that is not the patient's: the service finds nothing.
    click(&mut kiosk, Lang::Ru.native_name());
    click(&mut kiosk, T::HaveCode.get(Lang::Ru));
    keypad(&mut kiosk, &booked.confirmation_code);
    keypad(&mut kiosk, "150319855678");
    refusal_moves_nothing(&mut kiosk, Lang::Ru, T::NotFound.get(Lang::Ru));
}
