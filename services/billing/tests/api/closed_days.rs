//! Closing a day: once closed, nothing more can be dated on it or before it; a correction is an
//! entry on a later day. A day with an uncounted drawer cannot be closed.

use clinic_common::auth::Role;
use clinic_proto::billing::v1 as pb;
use clinic_proto::common::v1::Date;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, card, charge, mxn, whole_ledger};

backend_tests!(
    a_closed_day_takes_no_more_entries_and_corrections_go_on_a_later_day,
    a_day_with_an_uncounted_drawer_cannot_be_closed,
    reception_closes_today_only,
);

fn day(day: i32) -> Option<Date> {
    Some(Date {
        year: 2026,
        month: 11,
        day,
    })
}

async fn a_closed_day_takes_no_more_entries_and_corrections_go_on_a_later_day(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("CONS-01", 50_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    let yesterdays = reception
        .post_charge(pb::PostChargeRequest {
            service_date: day(21),
            ..charge(&patient_id, "CONS-01", "charge-21")
        })
        .await
        .expect("charged")
        .into_inner();
    let mut manager = clinic.client_as(Role::Manager, "manager:luis").await;

    // Act
    let closed = manager
        .close_day(pb::CloseDayRequest { day: day(21) })
        .await
        .expect("yesterday closes")
        .into_inner();
    let closed_again = manager
        .close_day(pb::CloseDayRequest { day: day(21) })
        .await
        .expect("closing again changes nothing")
        .into_inner();
    let back_dated = reception
        .post_charge(pb::PostChargeRequest {
            service_date: day(21),
            ..charge(&patient_id, "CONS-01", "charge-21-late")
        })
        .await
        .expect_err("refused");
    let further_back = reception
        .post_charge(pb::PostChargeRequest {
            service_date: day(3),
            ..charge(&patient_id, "CONS-01", "charge-3-late")
        })
        .await
        .expect_err("refused");
    let corrected_today = manager
        .issue_credit_note(pb::IssueCreditNoteRequest {
            charge_id: yesterdays.charge_id.clone(),
            amount: Some(mxn(10_000)),
            reason: "Precio de promoción no aplicado".into(),
            request_id: "credit-yesterday".into(),
        })
        .await
        .expect("a closed day's charge is corrected today")
        .into_inner();
    let paid_today = reception
        .post_payment(card(&patient_id, 40_000, "pay-today"))
        .await
        .expect("today is open")
        .into_inner();
    let today_closed = manager
        .close_day(pb::CloseDayRequest { day: None })
        .await
        .expect("today closes")
        .into_inner();
    let after_close = reception
        .post_payment(card(&patient_id, 1_000, "pay-after-close"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(closed.day, day(21));
    assert_eq!(closed.closed_by, "manager:luis");
    assert_eq!(closed_again, closed);
    for refused in [&back_dated, &further_back, &after_close] {
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(refused.message().contains("is closed"), "{refused:?}");
    }
    assert_eq!(corrected_today.service_date, day(22));
    assert_eq!(paid_today.balance_after, Some(mxn(0)));
    assert_eq!(today_closed.day, day(22));
    let ledger = whole_ledger(&mut clinic.client(Role::Service).await).await;
    assert_eq!(
        ledger.len(),
        3,
        "the charge, the credit note and one payment"
    );
}

async fn a_day_with_an_uncounted_drawer_cannot_be_closed(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    let float = vec![pb::DenominationCount {
        kind: pb::DenominationKind::Note.into(),
        value: Some(mxn(50_000)),
        count: 2,
    }];
    reception
        .open_cash_drawer(pb::OpenCashDrawerRequest {
            terminal_id: "counter-1".into(),
            opening_count: float.clone(),
            opening_difference_reason: String::new(),
            request_id: "open-1".into(),
        })
        .await
        .expect("opened");

    // Act
    let refused = reception
        .close_day(pb::CloseDayRequest { day: None })
        .await
        .expect_err("refused");
    reception
        .close_cash_drawer(pb::CloseCashDrawerRequest {
            terminal_id: "counter-1".into(),
            closing_count: float,
            difference_reason: String::new(),
            request_id: "close-1".into(),
        })
        .await
        .expect("counted and closed");
    let closed = reception
        .close_day(pb::CloseDayRequest { day: None })
        .await
        .expect("closes once the drawer is counted")
        .into_inner();

    // Assert
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("still open"), "{refused:?}");
    assert_eq!(closed.day, day(22));
}

async fn reception_closes_today_only(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let yesterday = reception
        .close_day(pb::CloseDayRequest { day: day(21) })
        .await
        .expect_err("refused");
    let tomorrow = clinic
        .client(Role::Manager)
        .await
        .close_day(pb::CloseDayRequest { day: day(23) })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(yesterday.code(), Code::PermissionDenied);
    assert_eq!(tomorrow.code(), Code::InvalidArgument);
    assert_eq!(clinic_common::status::violated_fields(&tomorrow), ["day"]);
}
