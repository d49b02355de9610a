//! A collector's work on one overdue account: find it on the worklist, open it, ask whether a call
//! is allowed (the patient never consented to calls), log a letter, record a promise, take the
//! promised amount by phone, and save the patient's statement as a PDF.

use chrono::{Days, TimeDelta};
use clinic_common::clock::{Clock, SystemClock};
use clinic_common::time::local_date;
use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::Lang;
use clinic_proto::date_to_proto;
use egui_kittest::kittest::Queryable;

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

    // A letter needs no consent.
    click(&mut desk, "Letter");
    click(&mut desk, "Left a message");
    type_into(
        &mut desk,
        "Notes",
        "Reminder letter sent to the home address",
    );
    click(&mut desk, "Record contact");
    wait_for(&mut desk, "Contact recorded.");
    wait_for(&mut desk, "Reminder letter sent to the home address");

    // A promise of $200 within a week.
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
