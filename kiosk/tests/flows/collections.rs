//! A collector's work on one overdue account: find it on the worklist, open it, ask whether a call
//! is allowed (the patient never consented to calls), log a letter, log the patient's call back
//! and the promise made in it, take the promised amount by phone, and save the patient's
//! statement as a PDF; and the open account fitting a desk's 1280×800 screen.

use chrono::{Days, TimeDelta};
use clinic_common::clock::{Clock, SystemClock};
use clinic_common::time::local_date;
use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::Lang;
use clinic_proto::date_to_proto;
use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};

use crate::{Clinic, PATIENCE, click, type_into, wait_for, wait_until};

#[test]
fn a_collector_works_an_overdue_account_from_the_worklist() {
    let mut clinic = Clinic::start();
    let booked = clinic.book();
    let zone = chrono_tz::America::Mexico_City;
    let today = local_date(SystemClock.now(), zone);
    // A consultation 40 days ago, never paid.
    let forty_days_ago = today - TimeDelta::days(40);
    clinic.charge_on(&booked.patient_id, Some(date_to_proto(forty_days_ago)));
    clinic.start_collections();
    let mut desk = clinic.harness(Mode::Collections, Lang::En);

    // The account is on the worklist once collections has followed billing's ledger, on its
    // own schedule: the collector refreshes until it is. Nothing is assigned to this collector
    // yet: the whole worklist, then.
    desk.get_by_label("Only my accounts").click();
    desk.step();
    refresh_until(&mut desk, "Ana Prueba");
    assert!(desk.query_by_label("$500.00").is_some());
    click(&mut desk, "Open");
    wait_for(&mut desk, "Aging");
    wait_for(&mut desk, "31–60 days");
    assert!(desk.query_all_by_label("$500.00").count() >= 2);

    // She never agreed to be called: the rules say so before anyone dials.
    click(&mut desk, "May I contact?");
    wait_for(
        &mut desk,
        "No: the patient has not consented to this channel",
    );

    // A letter needs no consent. Sent, it can only be a message left: nobody answers a letter.
    click(&mut desk, "Letter");
    for call_only in ["No answer", "Wrong number", "Spoke"] {
        assert!(
            desk.query_by_label(call_only).is_none(),
            "{call_only:?} is offered for a letter"
        );
    }
    click(&mut desk, "Left a message");
    type_into(
        &mut desk,
        "Notes",
        "Reminder letter sent to the home address",
    );
    click(&mut desk, "Record contact");
    wait_for(&mut desk, "Contact recorded.");
    wait_for(&mut desk, "Reminder letter sent to the home address");

    // No promise without the conversation it is made in.
    let record_promise = |desk: &egui_kittest::Harness<'_, clinic_kiosk::KioskApp>| {
        desk.get_by_role_and_label(egui::accesskit::Role::Button, "Record promise")
            .accesskit_node()
            .is_disabled()
    };
    assert!(
        record_promise(&desk),
        "a promise with no conversation logged"
    );

    // She calls back and promises $200 within a week.
    click(&mut desk, "Phone call");
    click(&mut desk, "Inbound");
    click(&mut desk, "Conversation");
    click(&mut desk, "Promise to pay");
    type_into(&mut desk, "Notes", "Called back: pays $200 next week");
    click(&mut desk, "Record contact");
    wait_until(
        &mut desk,
        "the promise form takes the conversation",
        |desk| !record_promise(desk),
    );
    assert!(
        desk.query_by_label_contains("Made in: Phone call")
            .is_some(),
        "the promise shows the conversation it is made in"
    );
    let promised_day = today.checked_add_days(Days::new(7)).expect("a day");
    type_into(&mut desk, "Promised amount", "200");
    type_into(
        &mut desk,
        "Will pay by (YYYY-MM-DD)",
        &promised_day.format("%Y-%m-%d").to_string(),
    );
    click(&mut desk, "Record promise");
    wait_for(&mut desk, "Promise recorded: $200.00");

    // She pays it by phone, by card: billing records it and the account shows it at once.
    type_into(&mut desk, "Amount", "200");
    type_into(&mut desk, "Authorisation code", "PH0NE1");
    type_into(&mut desk, "Card's last 4", "4242");
    click(&mut desk, "Take payment");
    wait_for(&mut desk, "Payment R-");
    wait_for(&mut desk, "Balance: $300.00");
    wait_until(&mut desk, "the promise judged kept", |desk| {
        desk.query_all_by_label_contains("(kept; paid $200.00)")
            .next()
            .is_some()
    });
    let statement = clinic.statement(&booked.patient_id);
    assert_eq!(
        statement.closing_balance.expect("a balance").minor_units,
        30_000
    );

    // Her statement, as a PDF in her language.
    click(&mut desk, "Statement");
    wait_for(&mut desk, "Saved to");
    let notices: Vec<_> = std::fs::read_dir(clinic.dir.path().join("notices"))
        .expect("a notices directory")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(notices.len(), 1);
    let pdf = std::fs::read(notices[0].path()).expect("readable");
    assert!(pdf.starts_with(b"%PDF"));
}

/// A desk's usual screen.
const DESK_SCREEN: egui::Vec2 = egui::vec2(1280.0, 800.0);

#[test]
fn an_open_account_fits_a_1280_by_800_desk_screen() {
    let mut clinic = Clinic::start();
    let booked = clinic.book();
    let today = local_date(SystemClock.now(), chrono_tz::America::Mexico_City);
    clinic.charge_on(
        &booked.patient_id,
        Some(date_to_proto(today - TimeDelta::days(40))),
    );
    clinic.start_collections();
    let mut desk = clinic.harness_sized(Mode::Collections, Lang::En, DESK_SCREEN);
    desk.get_by_label("Only my accounts").click();
    desk.step();
    refresh_until(&mut desk, "Ana Prueba");
    click(&mut desk, "Open");
    wait_for(&mut desk, "Aging");
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, DESK_SCREEN);

    // Nothing on the desk runs off the right edge.
    for node in desk.query_all(egui_kittest::kittest::By::new()) {
        let node = node.accesskit_node();
        if let Some(bounds) = node.bounding_box() {
            assert!(
                bounds.x1 <= f64::from(screen.right()) + 0.5,
                "{:?} is cut off at {bounds:?}",
                node.label().or_else(|| node.value())
            );
        }
    }
    // The promise's date field and its button are wholly in sight, and the field holds a date.
    let date_field = desk.get_by_label("Will pay by (YYYY-MM-DD)").rect();
    let button = desk
        .get_by_role_and_label(egui::accesskit::Role::Button, "Record promise")
        .rect();
    for (what, rect) in [("the date field", date_field), ("the button", button)] {
        assert!(screen.contains_rect(rect), "{what} is cut off at {rect:?}");
    }
    let body = egui::TextStyle::Body.resolve(&desk.ctx.global_style());
    let date_width = desk.ctx.fonts_mut(|fonts| {
        fonts
            .layout_no_wrap("2026-12-31".into(), body, egui::Color32::BLACK)
            .size()
            .x
    });
    assert!(
        date_field.width() >= date_width + 8.0,
        "a date needs {date_width} px; the field is {date_field:?}"
    );
}

/// Clicks Refresh on the worklist until a row containing `text` shows.
fn refresh_until(desk: &mut egui_kittest::Harness<'_, clinic_kiosk::KioskApp>, text: &str) {
    let started = std::time::Instant::now();
    loop {
        for _ in 0..25 {
            desk.step();
            if desk.query_all_by_label_contains(text).next().is_some() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{text:?} never reached the worklist: {:?}",
            crate::labels(desk)
        );
        if desk.query_by_label("Refresh").is_some() {
            click(desk, "Refresh");
        }
    }
}
