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
use egui_kittest::kittest::{By, NodeT, Queryable};

use crate::{Clinic, click, wait_for};

/// The check-in kiosk's screen: 1280×800.
const SCREEN_HEIGHT: f32 = 800.0;

/// Types `text` on the kiosk's on-screen keypad.
fn keypad(harness: &mut Harness<'_, KioskApp>, text: &str) {
    for key in text.chars() {
        click(harness, &key.to_string());
    }
}

/// Opens the first-visit form's written answer `caption` and types `text` on a physical
/// keyboard, then presses Enter (back to the form).
fn type_answer(harness: &mut Harness<'_, KioskApp>, caption: &str, text: &str) {
    click(harness, caption);
    harness.event(egui::Event::Text(text.into()));
    harness.key_press(egui::Key::Enter);
    harness.step();
    harness.step();
}

/// Types `text` on the on-screen keyboard alone, as a finger would: the space bar for a space,
/// and shift first when a letter shows in the other case.
fn tap_keys(harness: &mut Harness<'_, KioskApp>, lang: Lang, text: &str) {
    for c in text.chars() {
        let key = match c {
            ' ' => T::Space.get(lang).to_owned(),
            other => other.to_string(),
        };
        if harness
            .query_by_role_and_label(egui::accesskit::Role::Button, &key)
            .is_none()
        {
            click(harness, "⇧");
        }
        click(harness, &key);
    }
}

/// Opens the written answer `caption`, checks the keys fit the screen and a finger, types
/// `text` on them and taps Done.
fn write_answer(harness: &mut Harness<'_, KioskApp>, lang: Lang, caption: &str, text: &str) {
    scrolled_click(harness, caption);
    assert!(
        harness.query_by_label(T::TypingDone.get(lang)).is_some(),
        "{caption} did not open"
    );
    keys_fit(harness);
    tap_keys(harness, lang, text);
    click(harness, T::TypingDone.get(lang));
}

/// Every button on the screen lies wholly inside it, and every key (a button of one
/// character) is at least 64 px each way.
fn keys_fit(harness: &Harness<'_, KioskApp>) {
    let window = harness.ctx.content_rect();
    for button in harness.query_all_by_role(egui::accesskit::Role::Button) {
        let rect = button.rect();
        let label = button.accesskit_node().label().unwrap_or_default();
        assert!(
            window.contains_rect(rect),
            "{label:?} at {rect:?} is cut off"
        );
        if label.chars().count() == 1 {
            assert!(
                rect.width() >= 64.0 && rect.height() >= 64.0,
                "the key {label:?} is only {:?}",
                rect.size()
            );
        }
    }
}

/// Scrolls the form until the button labelled `label` is in sight (the strip of actions at the
/// bottom covers the form's lowest lines), then taps it.
fn scrolled_click(harness: &mut Harness<'_, KioskApp>, label: &str) {
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, label)
        .scroll_to_me();
    // The scroll lands a frame or two later.
    for _ in 0..4 {
        harness.step();
    }
    click(harness, label);
}

/// Checks in by the reminder's code and the date of birth and phone's last four digits (as
/// typed on the keypad), up to the ticket.
fn check_in_by_code(harness: &mut Harness<'_, KioskApp>, lang: Lang, code: &str, evidence: &str) {
    click(harness, T::HaveCode.get(lang));
    keypad(harness, code);
    keypad(harness, evidence);
    click(harness, T::Search.get(lang));
    wait_for(harness, T::IsThisYou.get(lang));
    click(harness, T::YesCheckMeIn.get(lang));
    wait_for(harness, T::YourTicket.get(lang));
}

#[test]
fn a_first_visit_form_is_filled_in_and_sent_on_the_on_screen_keys_alone() {
    let clinic = Clinic::start();
    let booked = clinic.book();
    let mut kiosk = clinic.harness(Mode::Checkin, Lang::Es);
    kiosk.step();
    let es = Lang::Es;
    check_in_by_code(&mut kiosk, es, &booked.confirmation_code, "140319855678");
    click(&mut kiosk, T::FirstVisitForm.get(es));

    // An adult answers for themselves.
    assert!(kiosk.query_by_label(T::GuardianSection.get(es)).is_none());
    // Every written answer on the keys (capitals at a sentence's or a name's start, Spanish
    // letters on their own keys), every other answer a tap.
    write_answer(
        &mut kiosk,
        es,
        T::ReasonForVisit.get(es),
        "Me duele una muela. Desde ayer",
    );
    scrolled_click(&mut kiosk, T::Yes.get(es));
    write_answer(
        &mut kiosk,
        es,
        T::WhichAllergies.get(es),
        "Penicilina, látex",
    );
    write_answer(&mut kiosk, es, T::Medications.get(es), "Losartán 50");
    scrolled_click(&mut kiosk, T::Hypertension.get(es));
    scrolled_click(&mut kiosk, T::VisitOver1Year.get(es));
    write_answer(
        &mut kiosk,
        es,
        T::EmergencyContact.get(es),
        "Luis Núñez-Güemes",
    );
    // The phone on a pad of digits and +.
    scrolled_click(&mut kiosk, T::EmergencyPhone.get(es));
    assert!(
        kiosk
            .query_by_role_and_label(egui::accesskit::Role::Button, "q")
            .is_none()
    );
    keys_fit(&kiosk);
    keypad(&mut kiosk, "+525511112222");
    click(&mut kiosk, T::TypingDone.get(es));
    scrolled_click(&mut kiosk, &format!("☐  {}", T::ConsentTreatment.get(es)));
    click(&mut kiosk, T::SendForm.get(es));
    wait_for(&mut kiosk, T::FormReceived.get(es));

    let mut registry = clinic.patients(Role::Reception);
    let form = clinic
        .runtime
        .block_on(registry.get_intake_form(patients::GetIntakeFormRequest {
            patient_id: booked.patient_id,
        }))
        .expect("the form reached the registry")
        .into_inner();
    assert_eq!(form.reason_for_visit, "Me duele una muela. Desde ayer");
    assert_eq!(form.allergies, "Penicilina, látex");
    assert_eq!(form.medications, "Losartán 50");
    assert_eq!(
        form.conditions,
        [patients::MedicalCondition::Hypertension as i32]
    );
    assert_eq!(
        form.last_dental_visit,
        patients::LastDentalVisit::OverAYear as i32
    );
    assert_eq!(form.emergency_contact_name, "Luis Núñez-Güemes");
    assert_eq!(form.emergency_contact_phone, "+525511112222");
    assert_eq!(form.language, "es");
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

    // A first visit: the intake form, typed on a keyboard (each answer opens full screen).
    click(&mut kiosk, "Fill in the first-visit form");
    type_answer(&mut kiosk, "Why are you visiting us today?", "A check-up");
    click(&mut kiosk, "No");
    click(&mut kiosk, "Medicines you take now");
    kiosk.event(egui::Event::Text("Losartán".into()));
    kiosk.key_press(egui::Key::Enter);
    kiosk.step();
    kiosk.step();
    scrolled_click(&mut kiosk, "Over a year ago");
    // Below the fold: ticked the way assistive technology does it.
    kiosk
        .get_by_label_contains("I confirm my answers are true and agree to a dental assessment.")
        .click_accesskit();
    kiosk.step();
    // A contact's phone without the country code is explained, not just refused.
    let phone = "Contact's phone, with the country code (+1 512 555 0100)";
    type_answer(&mut kiosk, "Emergency contact (name)", "Luis Prueba");
    type_answer(&mut kiosk, phone, "5512345678");
    click(&mut kiosk, "Send form");
    wait_for(
        &mut kiosk,
        "Type the contact's phone with + and the country code",
    );
    scrolled_click(&mut kiosk, phone);
    click(&mut kiosk, "Clear");
    kiosk.event(egui::Event::Text("+52 55 1234 5678".into()));
    click(&mut kiosk, "Done");
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
    assert_eq!(form.has_allergies, Some(false));

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

#[test]
fn a_childs_first_visit_form_is_answered_and_consented_to_by_a_parent_or_guardian() {
    use chrono::Datelike;
    use clinic_common::clock::Clock;
    let clinic = Clinic::start();
    // Nine years old.
    let year = clinic_common::clock::SystemClock.now().year() - 9;
    let booked = clinic.book_born(
        clinic_proto::common::v1::Date {
            year,
            month: 3,
            day: 14,
        },
        Vec::new(),
    );
    let mut kiosk = clinic.harness(Mode::Checkin, Lang::Zh);
    kiosk.step();
    let zh = Lang::Zh;
    check_in_by_code(
        &mut kiosk,
        zh,
        &booked.confirmation_code,
        &format!("1403{year}5678"),
    );
    click(&mut kiosk, T::FirstVisitForm.get(zh));

    // The parent or guardian comes first, and the consent is theirs.
    assert!(kiosk.query_by_label(T::GuardianSection.get(zh)).is_some());
    assert!(kiosk.query_by_label(T::GuardianNote.get(zh)).is_some());
    let consent = format!("☐  {}", T::ConsentGuardian.get(zh));
    assert!(kiosk.query_by_label(&consent).is_some());
    // Sent without them, the guardian's answers are what is missing.
    kiosk
        .get_by_role_and_label(egui::accesskit::Role::Button, &consent)
        .scroll_to_me();
    for _ in 0..4 {
        kiosk.step();
    }
    click(&mut kiosk, T::SendForm.get(zh));
    wait_for(&mut kiosk, T::CheckTheFields.get(zh));
    for _ in 0..4 {
        kiosk.step();
    }
    let guardian_top = caption(&kiosk, T::GuardianName.get(zh)).rect();
    assert!(
        guardian_top.top() > 0.0,
        "not scrolled to the guardian: {guardian_top:?}"
    );

    // The guardian, typed in pinyin on the Latin keys; the emergency contact left to them.
    write_answer(&mut kiosk, zh, T::GuardianName.get(zh), "Wang Fang");
    scrolled_click(&mut kiosk, T::Mother.get(zh));
    scrolled_click(&mut kiosk, T::GuardianPhone.get(zh));
    keypad(&mut kiosk, "+8613800001111");
    click(&mut kiosk, T::TypingDone.get(zh));
    write_answer(&mut kiosk, zh, T::ReasonForVisit.get(zh), "ya teng");
    scrolled_click(&mut kiosk, T::No.get(zh));
    scrolled_click(&mut kiosk, T::VisitNever.get(zh));
    scrolled_click(&mut kiosk, &consent);
    click(&mut kiosk, T::SendForm.get(zh));
    wait_for(&mut kiosk, T::FormReceived.get(zh));

    let mut registry = clinic.patients(Role::Reception);
    let form = clinic
        .runtime
        .block_on(registry.get_intake_form(patients::GetIntakeFormRequest {
            patient_id: booked.patient_id,
        }))
        .expect("the form reached the registry")
        .into_inner();
    let guardian = form.guardian.expect("the guardian");
    assert_eq!(guardian.full_name, "Wang Fang");
    assert_eq!(
        guardian.relationship,
        patients::GuardianRelationship::Mother as i32
    );
    assert_eq!(guardian.phone, "+8613800001111");
    assert_eq!(form.emergency_contact_name, "");
    assert_eq!(form.reason_for_visit, "ya teng");

    // Reception sees who answered for the child.
    let mut counter = clinic.harness(Mode::Counter, Lang::En);
    crate::schedule_as_list(&mut counter);
    wait_for(&mut counter, "Ana Prueba");
    click(&mut counter, "Account");
    wait_for(
        &mut counter,
        "Parent or guardian: Wang Fang (Mother) +8613800001111",
    );
}

/// A caption (a label, not the field it names) whose text is `text`.
fn caption<'tree>(
    harness: &'tree Harness<'_, KioskApp>,
    text: &'tree str,
) -> egui_kittest::Node<'tree> {
    harness.get(
        By::new()
            .label(text)
            .role(egui::accesskit::Role::Label)
            .include_labels(),
    )
}

#[test]
fn an_empty_first_visit_form_is_refused_beside_each_question_and_nothing_is_sent() {
    let clinic = Clinic::start();
    let booked = clinic.book();
    let mut kiosk = clinic.harness(Mode::Checkin, Lang::Ru);
    kiosk.step();
    let ru = Lang::Ru;
    check_in_by_code(&mut kiosk, ru, &booked.confirmation_code, "140319855678");
    click(&mut kiosk, T::FirstVisitForm.get(ru));
    // One answer typed (on the Cyrillic keys), the rest left empty; the patient has scrolled
    // to the bottom.
    write_answer(&mut kiosk, ru, T::Medications.get(ru), "Ибупрофен");
    let consent = format!("☐  {}", T::ConsentTreatment.get(ru));
    kiosk
        .get_by_role_and_label(egui::accesskit::Role::Button, &consent)
        .scroll_to_me();
    for _ in 0..4 {
        kiosk.step();
    }
    let send = button_rect(&kiosk, T::SendForm.get(ru));

    click(&mut kiosk, T::SendForm.get(ru));

    // Beside Send, in the slot kept for it: look at the questions.
    wait_for(&mut kiosk, T::CheckTheFields.get(ru));
    for _ in 0..4 {
        kiosk.step();
    }
    assert_eq!(button_rect(&kiosk, T::SendForm.get(ru)), send);
    // Beside each question: five unanswered, and the consent.
    let answer = format!("⚠ {}", T::AnswerNeeded.get(ru));
    assert_eq!(kiosk.query_all_by_label(&answer).count(), 5);
    assert!(
        kiosk
            .query_by_label(&format!("⚠ {}", T::ConsentNeeded.get(ru)))
            .is_some()
    );
    // The form is back at its first refusal, under its question, in sight.
    let reason = caption(&kiosk, T::ReasonForVisit.get(ru)).rect();
    let form_top = caption(&kiosk, T::IntakeTitle.get(ru)).rect().bottom();
    assert!(
        reason.top() >= form_top && reason.bottom() < send.top(),
        "the first question at {reason:?} is out of sight"
    );
    let first = kiosk
        .query_all_by_label(&answer)
        .map(|node| node.rect())
        .min_by(|a, b| a.top().total_cmp(&b.top()))
        .expect("a refusal");
    assert!(
        first.top() >= reason.bottom() && first.top() - reason.bottom() < 30.0,
        "the refusal at {first:?} is not under its question at {reason:?}"
    );
    // Nothing was sent, and nothing typed was lost.
    let mut registry = clinic.patients(Role::Reception);
    let status = clinic
        .runtime
        .block_on(registry.get_intake_form(patients::GetIntakeFormRequest {
            patient_id: booked.patient_id,
        }))
        .expect_err("nothing was sent");
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert!(kiosk.query_by_label("Ибупрофен").is_some());

    // Answered, a question's refusal goes; its space stays, so nothing below moves.
    let yes = button_rect(&kiosk, T::Yes.get(ru));
    write_answer(&mut kiosk, ru, T::ReasonForVisit.get(ru), "Болит зуб");
    assert_eq!(kiosk.query_all_by_label(&answer).count(), 4);
    assert_eq!(button_rect(&kiosk, T::Yes.get(ru)), yes);
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
