//! Reception's day at the counter: open the drawer with a counted float, check a patient in,
//! post the visit's charge, take cash with change, print the receipt, close the drawer from a
//! blind count, and read the daily close.

use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::{Lang, T};
use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};

use crate::{Clinic, click, type_into, wait_for};

#[test]
fn reception_checks_in_charges_takes_cash_prints_and_closes_the_drawer() {
    let clinic = Clinic::start();
    let _booked = clinic.book();
    let mut counter = clinic.harness(Mode::Counter, Lang::En);
    crate::schedule_as_list(&mut counter);

    // Open the drawer: two $500 notes.
    wait_for(&mut counter, "Ana Prueba");
    click(&mut counter, "Cash drawer");
    wait_for(&mut counter, "The drawer of counter-1 is closed.");
    type_into(&mut counter, "Note $500.00", "2");
    assert!(counter.query_by_label("Counted: $1,000.00").is_some());
    click(&mut counter, "Open drawer");
    wait_for(
        &mut counter,
        "Drawer of counter-1 opened by reception:counter-test",
    );

    // The patient arrives. The outcome shows in its own strip: the schedule stays where it was
    // under the pointer.
    click(&mut counter, "Appointment book");
    wait_for(&mut counter, "Ana Prueba");
    assert!(counter.query_by_label("Confirmed").is_none());
    assert!(counter.query_by_label("Close").is_none());
    let account = counter.get_by_label("Account").rect();
    click(&mut counter, "Check in");
    wait_for(&mut counter, "Check in ✓ A-001");
    wait_for(&mut counter, "Arrived");
    let row = counter.get_by_label("Account").rect();
    assert!(
        (row.top() - account.top()).abs() < 1.0,
        "the row moved from {account:?} to {row:?}"
    );

    // The visit's charge, then cash: $600 handed over for $500.
    click(&mut counter, "Account");
    wait_for(&mut counter, "$0.00");
    click(&mut counter, "CONS-01 · Consulta · $500.00");
    click(&mut counter, "Post charge");
    wait_for(&mut counter, "Charge posted: Consulta");
    wait_for(&mut counter, "$500.00");
    type_into(&mut counter, "Tendered", "600");
    assert!(counter.query_by_label("Change: $100.00").is_some());
    click(&mut counter, "Take payment");
    wait_for(&mut counter, "Payment R-");
    assert!(counter.query_by_label_contains("Change: $100.00").is_some());
    assert!(counter.query_by_label_contains("Balance: $0.00").is_some());

    // The receipt, as a PDF (the configured printer).
    counter
        .query_all_by_label_contains("Print receipt R-")
        .next()
        .expect("a print button")
        .click();
    counter.step();
    wait_for(&mut counter, "Receipt saved to");
    let receipts: Vec<_> = std::fs::read_dir(clinic.dir.path().join("receipts"))
        .expect("a receipts directory")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(receipts.len(), 1);
    let pdf = std::fs::read(receipts[0].path()).expect("readable");
    assert!(pdf.starts_with(b"%PDF"));

    // Close from a blind count: three $500 notes, as expected (1,000 + 600 − 100).
    click(&mut counter, "Cash drawer");
    wait_for(&mut counter, "Count the cash in the drawer");
    assert!(
        counter.query_by_label_contains("1,500").is_none(),
        "the count is blind"
    );
    type_into(&mut counter, "Note $500.00", "3");
    click(&mut counter, "Close drawer (blind count)");
    wait_for(
        &mut counter,
        "Z report: counted $1,500.00. The manager sees what was expected and any difference.",
    );

    // The day's figures.
    click(&mut counter, "Daily close");
    wait_for(&mut counter, "Net income");
    assert!(counter.query_by_label("Cash").is_some());
    assert!(counter.query_all_by_label("$500.00").count() >= 2);
}

#[test]
fn a_payment_is_split_between_cash_and_card() {
    use clinic_common::auth::Role;
    use clinic_proto::billing::v1 as billing;

    let clinic = Clinic::start();
    let booked = clinic.book();
    clinic.charge(&booked.patient_id);
    let mut drawer = clinic.billing(Role::Reception);
    clinic
        .runtime
        .block_on(drawer.open_cash_drawer(billing::OpenCashDrawerRequest {
            terminal_id: "counter-1".into(),
            opening_count: vec![billing::DenominationCount {
                kind: billing::DenominationKind::Note as i32,
                value: Some(crate::mxn(50_000)),
                count: 1,
            }],
            opening_difference_reason: String::new(),
            request_id: "split-drawer".into(),
        }))
        .expect("drawer open");
    let mut counter = clinic.harness(Mode::Counter, Lang::En);
    crate::schedule_as_list(&mut counter);
    wait_for(&mut counter, "Ana Prueba");
    click(&mut counter, "Account");
    wait_for(&mut counter, "$500.00");

    // $200 in cash, then the remaining $300 by card.
    crate::set_text(&mut counter, "Amount", "200");
    type_into(&mut counter, "Tendered", "200");
    click(&mut counter, "Add part");
    assert!(counter.query_by_label("1. Cash · $200.00").is_some());
    click(&mut counter, "Card");
    type_into(&mut counter, "Authorisation code", "Z9Y8X7");
    type_into(&mut counter, "Card's last 4", "1881");
    click(&mut counter, "Take payment");
    wait_for(&mut counter, "Payment R-");
    assert!(counter.query_by_label_contains("(Split $500.00)").is_some());

    let statement = clinic.statement(&booked.patient_id);
    assert_eq!(statement.closing_balance.expect("a balance").minor_units, 0);
    let payments = statement
        .lines
        .iter()
        .filter(|line| line.kind == billing::LedgerEntryKind::Payment as i32)
        .count();
    assert_eq!(payments, 1, "one payment in two parts");
}

#[test]
fn reception_registers_a_patient_books_a_free_time_and_manages_the_day() {
    use clinic_common::auth::Role;
    use clinic_proto::scheduling::v1 as scheduling;

    let clinic = Clinic::start();
    let _booked = clinic.book();
    // A hygienist who works every day, all day, and a cleaning of 30 minutes.
    let mut manager = clinic.scheduling(Role::Manager);
    clinic.runtime.block_on(async {
        let provider = manager
            .create_provider(scheduling::CreateProviderRequest {
                provider: Some(scheduling::Provider {
                    display_name: "Lic. Libre".into(),
                    kind: scheduling::ProviderKind::Hygienist as i32,
                    ..Default::default()
                }),
                request_id: "flow-hygienist".into(),
            })
            .await
            .expect("provider")
            .into_inner();
        let intervals = (1..=7)
            .map(|day| scheduling::WorkingInterval {
                day_of_week: day,
                start_time: Some(scheduling::TimeOfDay {
                    hours: 0,
                    minutes: 0,
                }),
                end_time: Some(scheduling::TimeOfDay {
                    hours: 24,
                    minutes: 0,
                }),
            })
            .collect();
        manager
            .set_working_hours(scheduling::SetWorkingHoursRequest {
                working_hours: Some(scheduling::WorkingHours {
                    provider_id: provider.provider_id,
                    intervals,
                }),
            })
            .await
            .expect("hours");
        manager
            .create_appointment_type(scheduling::CreateAppointmentTypeRequest {
                appointment_type: Some(scheduling::AppointmentType {
                    display_name: "Limpieza".into(),
                    duration_minutes: 30,
                    price_code: "CONS-01".into(),
                    ..Default::default()
                }),
                request_id: "flow-type".into(),
            })
            .await
            .expect("a kind of visit");
    });
    let mut counter = clinic.harness(Mode::Counter, Lang::En);
    crate::schedule_as_list(&mut counter);

    // The booked patient confirms by phone, then calls back to cancel.
    wait_for(&mut counter, "Ana Prueba");
    click(&mut counter, "Confirm");
    wait_for(&mut counter, "Confirmed");
    click(&mut counter, "Cancel");
    type_into(
        &mut counter,
        "Reason for cancelling",
        "Patient is travelling",
    );
    click(&mut counter, "Cancel the appointment");
    wait_for(&mut counter, "Cancelled");

    // A new patient at the desk: registered, then booked at the first free time.
    click(&mut counter, "Patients");
    counter.get_by_label("New patient").click();
    counter.step();
    type_into(&mut counter, "Given name", "Luis");
    type_into(&mut counter, "Family name", "Nuevo");
    type_into(&mut counter, "Born (YYYY-MM-DD)", "1990-07-21");
    type_into(&mut counter, "Phone (+52…)", "+525598765432");
    click(&mut counter, "Register");
    wait_for(&mut counter, "Patient registered: Luis Nuevo");
    wait_for(&mut counter, "Limpieza · 30′");
    click(&mut counter, "Limpieza · 30′");
    click(&mut counter, "Find free times");
    crate::wait_until(&mut counter, "free times", |counter| {
        counter
            .query_all_by_label_contains("· Lic. Libre")
            .next()
            .is_some()
    });
    counter
        .query_all_by_label_contains("· Lic. Libre")
        .next()
        .expect("a free time")
        .click();
    counter.step();
    wait_for(&mut counter, "Booked:");
    assert!(counter.query_by_label_contains("with Lic. Libre").is_some());

    // And on the book, two days from now: a click on Lic. Libre's free morning books him there.
    click(&mut counter, "Appointment book");
    click(&mut counter, "By provider");
    counter.key_press(egui::Key::PageDown);
    counter.step();
    counter.key_press(egui::Key::PageDown);
    counter.step();
    counter.step();
    wait_for(&mut counter, "Click free time to book Luis Nuevo: Limpieza");
    let libre = counter.get_by_label("Lic. Libre").rect();
    let at = egui::pos2(libre.left() + 30.0, libre.bottom() + 120.0);
    counter.hover_at(at);
    counter.step();
    counter.event(egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    counter.step();
    counter.event(egui::Event::PointerButton {
        pos: at,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    counter.step();
    // Nothing is booked by the click alone: it asks first.
    wait_for(&mut counter, "Book Luis Nuevo on");
    assert!(
        counter
            .query_by_label_contains("Booked: Luis Nuevo")
            .is_none()
    );
    click(&mut counter, "Book here");
    wait_for(&mut counter, "Booked: Luis Nuevo");
    crate::wait_until(&mut counter, "Luis Nuevo's block", |counter| {
        counter
            .query_all_by_label_contains("Luis Nuevo")
            .any(|node| {
                node.accesskit_node().role() == egui::accesskit::Role::Button
                    && (node.rect().left() - libre.left()).abs() < 8.0
            })
    });
}

#[test]
fn reception_is_told_when_a_patients_kiosk_lookups_are_held_back() {
    use clinic_common::auth::Role;
    use clinic_proto::common::v1::Date;
    use clinic_proto::scheduling::v1 as scheduling;
    use scheduling::find_todays_appointment_request::Lookup;

    let clinic = Clinic::start();
    let booked = clinic.book();
    let mut counter = clinic.harness(Mode::Counter, Lang::En);
    crate::schedule_as_list(&mut counter);
    wait_for(&mut counter, "Ana Prueba");
    assert!(
        counter
            .query_by_label_contains("could not check in")
            .is_none()
    );

    // Someone at the lobby kiosk tries Ana's code with three wrong birth dates.
    let mut kiosk = clinic.scheduling(Role::Kiosk);
    for day in 1..=3 {
        let missed = clinic
            .runtime
            .block_on(
                kiosk.find_todays_appointment(scheduling::FindTodaysAppointmentRequest {
                    lookup: Some(Lookup::ByCode(scheduling::KioskLookupByCode {
                        confirmation_code: booked.confirmation_code.clone(),
                        date_of_birth: Some(Date {
                            year: 1990,
                            month: 1,
                            day,
                        }),
                    })),
                }),
            )
            .expect_err("a miss");
        assert_eq!(missed.code(), tonic::Code::NotFound);
    }

    // The counter says so on the schedule's header line.
    wait_for(&mut counter, "A patient could not check in at kiosk seeder");
    assert!(
        counter
            .query_by_label_contains("help them at the desk")
            .is_some()
    );
}

#[test]
fn reception_finds_a_chinese_name_as_one_word_and_is_told_beside_the_search_what_is_too_short() {
    let clinic = Clinic::start();
    let _booked = clinic.book_patient(("娜娜", "欧阳"), Vec::new());
    for lang in Lang::ALL {
        let mut counter = clinic.harness(Mode::Counter, lang);
        counter.step();
        click(&mut counter, T::Patients.get(lang));
        let search = |counter: &mut egui_kittest::Harness<'_, _>, query: &str| {
            let field = counter
                .get_by_role_and_label(egui::accesskit::Role::TextInput, T::Patients.get(lang));
            field.set_text_value_accesskit(query);
            counter.step();
            click(counter, T::SearchButton.get(lang));
        };

        // One letter, of any alphabet, is too little: said at the end of the search's row.
        for one_letter in ["a", "а"] {
            search(&mut counter, one_letter);
            let too_short = T::SearchTooShort.get(lang);
            wait_for(&mut counter, too_short);
            let refusal = counter.get_by_label(too_short).rect();
            let field = counter
                .get_by_role_and_label(egui::accesskit::Role::TextInput, T::Patients.get(lang))
                .rect();
            let window = counter.ctx.content_rect();
            assert!(
                window.contains_rect(refusal),
                "{lang:?}: {refusal:?} is off the screen"
            );
            assert!(
                refusal.left() > field.right()
                    && refusal.top() < field.bottom()
                    && refusal.bottom() > field.top(),
                "{lang:?}: the refusal at {refusal:?} is not beside the search at {field:?}"
            );
        }

        // A Chinese name typed as it is written, family name first, in one word.
        search(&mut counter, "欧阳娜娜");
        wait_for(&mut counter, "欧阳娜娜 · 1985-03-14");
        assert!(
            counter
                .query_by_label(T::SearchTooShort.get(lang))
                .is_none()
        );
    }
}

/// The book's block for the appointment whose label contains `name`.
fn block(counter: &egui_kittest::Harness<'_, clinic_kiosk::KioskApp>, name: &str) -> egui::Rect {
    counter
        .query_all_by_label_contains(name)
        .find(|node| node.accesskit_node().role() == egui::accesskit::Role::Button)
        .unwrap_or_else(|| panic!("no block for {name}"))
        .rect()
}

/// The block once the book has settled (loaded again after the queue watch connected, and
/// scrolled to the time it is now): the same place three frames running.
fn settled_block(
    counter: &mut egui_kittest::Harness<'_, clinic_kiosk::KioskApp>,
    name: &str,
) -> egui::Rect {
    crate::wait_until(counter, &format!("{name}'s block"), |counter| {
        counter
            .query_all_by_label_contains(name)
            .any(|node| node.accesskit_node().role() == egui::accesskit::Role::Button)
    });
    let mut last = block(counter, name);
    let mut same = 0;
    while same < 3 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        counter.step();
        let now = block(counter, name);
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    last
}

#[test]
fn reception_moves_a_visit_to_another_provider_on_the_book_and_confirms_it_from_its_menu() {
    use clinic_common::auth::Role;
    use clinic_proto::scheduling::v1 as scheduling;

    let clinic = Clinic::start();
    let booked = clinic.book();
    let mut manager = clinic.scheduling(Role::Manager);
    clinic.runtime.block_on(async {
        manager
            .create_provider(scheduling::CreateProviderRequest {
                provider: Some(scheduling::Provider {
                    display_name: "Dr. Wei Zhang".into(),
                    kind: scheduling::ProviderKind::Dentist as i32,
                    ..Default::default()
                }),
                request_id: "flow-second-dentist".into(),
            })
            .await
            .expect("provider");
    });
    // Tomorrow the clinic is closed for a training day.
    clinic.runtime.block_on(async {
        use chrono::TimeDelta;
        use clinic_common::clock::Clock;
        let zone = chrono_tz::America::Mexico_City;
        let tomorrow =
            clinic_common::time::local_date(clinic_common::clock::SystemClock.now(), zone)
                + TimeDelta::days(1);
        let (start, end) = clinic_common::time::day_span(tomorrow, zone);
        manager
            .add_schedule_exception(scheduling::AddScheduleExceptionRequest {
                schedule_exception: Some(scheduling::ScheduleException {
                    start_time: Some(clinic_proto::timestamp_to_proto(start)),
                    end_time: Some(clinic_proto::timestamp_to_proto(end)),
                    kind: scheduling::ScheduleExceptionKind::Block as i32,
                    note: "Training day".into(),
                    ..Default::default()
                }),
                request_id: "flow-training-day".into(),
            })
            .await
            .expect("a clinic-wide block");
    });
    let mut counter = clinic.harness(Mode::Counter, Lang::En);

    // The book opens on today, one column a provider, at the time it is now.
    let before = settled_block(&mut counter, "Ana Prueba");
    let ana = counter.get_by_label("Dra. Ana Ruiz").rect();
    let wei = counter.get_by_label("Dr. Wei Zhang").rect();
    // A column's heading starts where the column does.
    let under =
        |block: egui::Rect, heading: egui::Rect| (block.left() - heading.left()).abs() < 8.0;
    assert!(
        under(before, ana),
        "the block at {before:?} is not under Dra. Ana Ruiz at {ana:?}"
    );

    // Dragged to Dr. Zhang's column at the same time.
    let from = before.center();
    drag(&mut counter, from, egui::pos2(wei.left() + 40.0, from.y));
    wait_for(&mut counter, "Appointment moved to");
    crate::wait_until(&mut counter, "the block under Dr. Zhang", |counter| {
        counter
            .query_all_by_label_contains("Ana Prueba")
            .filter(|node| node.accesskit_node().role() == egui::accesskit::Role::Button)
            .any(|node| under(node.rect(), wei))
    });
    let moved = clinic.runtime.block_on(async {
        let mut reception = clinic.scheduling(Role::Reception);
        reception
            .get_appointment(scheduling::GetAppointmentRequest {
                appointment_id: booked.appointment_id.clone(),
            })
            .await
            .expect("the old appointment")
            .into_inner()
    });
    assert_eq!(moved.status(), scheduling::AppointmentStatus::Rescheduled);

    // Its menu confirms it.
    counter
        .query_all_by_label_contains("Ana Prueba")
        .find(|node| node.accesskit_node().role() == egui::accesskit::Role::Button)
        .expect("the block")
        .click_secondary();
    counter.step();
    counter.step();
    click(&mut counter, "Confirm");
    crate::wait_until(&mut counter, "the confirmed mark", |counter| {
        counter.query_by_label_contains("Ana Prueba ✔").is_some()
    });

    // Page Down turns to tomorrow, which is empty; Home comes back.
    counter.key_press(egui::Key::PageDown);
    counter.step();
    crate::wait_until(&mut counter, "tomorrow, blocked for training", |counter| {
        counter.query_by_label_contains("Ana Prueba").is_none()
            && counter
                .query_all_by_label("Blocked · Training day")
                .next()
                .is_some()
    });
    counter.key_press(egui::Key::Home);
    counter.step();
    wait_for(&mut counter, "Ana Prueba ✔");

    // Dr. Zhang's week (the first provider by name): seven days, Monday first, her visit on
    // today's.
    click(&mut counter, "Week");
    crate::wait_until(&mut counter, "the week", |counter| {
        counter.query_by_label_contains("Monday ").is_some()
            && counter.query_by_label_contains("Sunday ").is_some()
            && counter
                .query_all_by_label_contains("Ana Prueba ✔")
                .any(|node| node.accesskit_node().role() == egui::accesskit::Role::Button)
    });
    let monday = counter.get_by_label_contains("Monday ").rect();
    let sunday = counter.get_by_label_contains("Sunday ").rect();
    assert!(monday.left() < sunday.left());
    assert!(counter.query_by_label("Dra. Ana Ruiz").is_none());
}

/// Drags on the book from `from` to `to`, as a hand on the mouse does.
fn drag(
    counter: &mut egui_kittest::Harness<'_, clinic_kiosk::KioskApp>,
    from: egui::Pos2,
    to: egui::Pos2,
) {
    counter.hover_at(from);
    counter.step();
    counter.drag_at(from);
    counter.step();
    for step in 1..=5 {
        counter.hover_at(from + (to - from) * (step as f32 / 5.0));
        counter.step();
    }
    counter.drop_at(to);
    counter.step();
}

#[test]
fn a_move_the_other_provider_cannot_take_is_refused_in_the_screens_language_and_stays_put() {
    use clinic_common::auth::Role;
    use clinic_proto::common::v1::Date;
    use clinic_proto::patients::v1 as patients;
    use clinic_proto::scheduling::v1 as scheduling;

    let clinic = Clinic::start();
    let booked = clinic.book();
    let mut registry = clinic.patients(Role::Reception);
    let mut manager = clinic.scheduling(Role::Manager);
    clinic.runtime.block_on(async {
        let wei = manager
            .create_provider(scheduling::CreateProviderRequest {
                provider: Some(scheduling::Provider {
                    display_name: "Dr. Wei Zhang".into(),
                    kind: scheduling::ProviderKind::Dentist as i32,
                    ..Default::default()
                }),
                request_id: "flow-busy-dentist".into(),
            })
            .await
            .expect("provider")
            .into_inner();
        let luis = registry
            .create_patient(patients::CreatePatientRequest {
                patient: Some(patients::Patient {
                    given_name: "Luis".into(),
                    family_name: "Ocupado".into(),
                    date_of_birth: Some(Date {
                        year: 1990,
                        month: 7,
                        day: 21,
                    }),
                    phone: "+525598765432".into(),
                    ..Default::default()
                }),
                request_id: "flow-busy-patient".into(),
            })
            .await
            .expect("registered")
            .into_inner();
        let anas = manager
            .get_appointment(scheduling::GetAppointmentRequest {
                appointment_id: booked.appointment_id.clone(),
            })
            .await
            .expect("Ana's visit")
            .into_inner();
        manager
            .create_appointment(scheduling::CreateAppointmentRequest {
                appointment: Some(scheduling::Appointment {
                    patient_id: luis.patient_id,
                    provider_id: wei.provider_id,
                    start_time: anas.start_time,
                    end_time: anas.end_time,
                    ..Default::default()
                }),
                request_id: "flow-busy-visit".into(),
            })
            .await
            .expect("Dr. Zhang is booked then");
    });
    let mut counter = clinic.harness(Mode::Counter, Lang::Es);
    let before = settled_block(&mut counter, "Ana Prueba");
    let wei = counter.get_by_label("Dr. Wei Zhang").rect();

    drag(
        &mut counter,
        before.center(),
        egui::pos2(wei.left() + 40.0, before.center().y),
    );

    wait_for(&mut counter, "Ese profesional ya tiene una cita de");
    let after = block(&counter, "Ana Prueba");
    assert!(
        after.left() == before.left() && (after.top() - before.top()).abs() < 2.0,
        "the block went from {before:?} to {after:?}"
    );
}
