//! A card payment the terminal approved while billing was down is kept on the counter and
//! recorded once billing is back: never lost, never twice.

use clinic_common::auth::Role;
use clinic_kiosk::config::Mode;
use clinic_kiosk::i18n::Lang;
use clinic_proto::billing::v1 as billing;

use crate::{Clinic, click, outbox_files, type_into, wait_for, wait_until};

#[test]
fn an_approved_card_payment_survives_billing_being_down_and_is_recorded_once() {
    let mut clinic = Clinic::start();
    let booked = clinic.book();
    clinic.charge(&booked.patient_id);
    let mut counter = clinic.harness(Mode::Counter, Lang::En);
    crate::schedule_as_list(&mut counter);
    wait_for(&mut counter, "Ana Prueba");
    click(&mut counter, "Account");
    wait_for(&mut counter, "$500.00");

    // Billing goes down; the terminal approves the card anyway.
    clinic.stop_billing();
    click(&mut counter, "Card");
    type_into(&mut counter, "Authorisation code", "A1B2C3");
    type_into(&mut counter, "Card's last 4", "4242");
    click(&mut counter, "Take payment");
    wait_for(&mut counter, "Payment approved and saved on this device");
    let outbox = clinic.dir.path().join("outbox-counter");
    let saved = outbox_files(&outbox);
    assert_eq!(saved.len(), 1, "the approval is on disk");
    let approved: clinic_kiosk::outbox::ApprovedCardPayment =
        serde_json::from_slice(&std::fs::read(&saved[0]).expect("readable")).expect("parses");
    assert_eq!(approved.amount_minor, 50_000);
    wait_for(
        &mut counter,
        "approved card payment(s) are waiting for billing",
    );

    // Billing comes back: the waiting payment is posted by itself, and the outbox empties.
    clinic.restart_billing();
    wait_until(&mut counter, "the outbox to empty", |_| {
        outbox_files(&outbox).is_empty()
    });

    let statement = clinic.statement(&booked.patient_id);
    let payments: Vec<_> = statement
        .lines
        .iter()
        .filter(|line| line.kind == billing::LedgerEntryKind::Payment as i32)
        .collect();
    assert_eq!(payments.len(), 1);
    assert_eq!(statement.closing_balance.expect("a balance").minor_units, 0);

    // Posting the same approval again (as after an answer lost on the way) changes nothing.
    let mut billing = clinic.billing(Role::Reception);
    let again = clinic
        .runtime
        .block_on(billing.post_payment(approved.request()))
        .expect("a retry is answered")
        .into_inner();
    assert_eq!(again.request_id, approved.request_id);
    let statement = clinic.statement(&booked.patient_id);
    assert_eq!(
        statement
            .lines
            .iter()
            .filter(|line| line.kind == billing::LedgerEntryKind::Payment as i32)
            .count(),
        1
    );
}
