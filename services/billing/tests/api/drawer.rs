//! The cash drawer: opening with a counted float, cash payments and movements counted into it,
//! the X report, the blind close with its difference rules and manager approval, and the
//! guarantees under retries and concurrency.

use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{Client, TestClinic, card, cash, charge, mxn, whole_ledger};

backend_tests!(
    a_drawer_opens_with_its_counted_float,
    the_x_report_counts_cash_taken_change_and_movements_at_that_terminal_only,
    cash_at_a_terminal_without_an_open_drawer_is_refused_and_writes_nothing,
    movements_need_an_open_drawer,
    a_matching_blind_count_closes_the_drawer_with_its_z_report,
    a_difference_without_a_reason_is_refused_and_the_drawer_stays_open,
    a_difference_over_the_limit_waits_for_another_manager,
    the_difference_limit_is_configurable,
    the_next_float_is_checked_against_the_last_closing_count,
    a_terminal_has_one_drawer_even_when_opened_concurrently,
    retries_return_the_first_result_and_write_once,
    reusing_a_request_id_for_a_different_drawer_request_is_refused,
    payments_racing_a_close_are_either_in_its_z_report_or_refused,
    invalid_drawer_requests_name_every_bad_field,
    drawer_calls_without_a_token_are_unauthenticated,
);

const NOTE: pb::DenominationKind = pb::DenominationKind::Note;
const COIN: pb::DenominationKind = pb::DenominationKind::Coin;

fn count(lines: &[(pb::DenominationKind, i64, i32)]) -> Vec<pb::DenominationCount> {
    lines
        .iter()
        .map(|(kind, value, pieces)| pb::DenominationCount {
            kind: (*kind).into(),
            value: Some(mxn(*value)),
            count: *pieces,
        })
        .collect()
}

/// $1,000.00 as two 500 notes.
fn a_thousand() -> Vec<pb::DenominationCount> {
    count(&[(NOTE, 50_000, 2)])
}

fn open(
    terminal_id: &str,
    lines: Vec<pb::DenominationCount>,
    request_id: &str,
) -> pb::OpenCashDrawerRequest {
    pb::OpenCashDrawerRequest {
        terminal_id: terminal_id.into(),
        opening_count: lines,
        opening_difference_reason: String::new(),
        request_id: request_id.into(),
    }
}

fn close(
    terminal_id: &str,
    lines: Vec<pb::DenominationCount>,
    reason: &str,
    request_id: &str,
) -> pb::CloseCashDrawerRequest {
    pb::CloseCashDrawerRequest {
        terminal_id: terminal_id.into(),
        closing_count: lines,
        difference_reason: reason.into(),
        request_id: request_id.into(),
    }
}

fn movement(
    terminal_id: &str,
    direction: pb::CashMovementDirection,
    category: pb::CashMovementCategory,
    amount_minor: i64,
    request_id: &str,
) -> pb::RecordCashMovementRequest {
    pb::RecordCashMovementRequest {
        terminal_id: terminal_id.into(),
        direction: direction.into(),
        category: category.into(),
        amount: Some(mxn(amount_minor)),
        note: String::new(),
        request_id: request_id.into(),
    }
}

fn at_terminal(mut request: pb::PostPaymentRequest, terminal_id: &str) -> pb::PostPaymentRequest {
    request.terminal_id = terminal_id.into();
    request
}

async fn drawer_of(client: &mut Client, terminal_id: &str) -> pb::CashDrawerSession {
    client
        .get_cash_drawer(pb::GetCashDrawerRequest {
            terminal_id: terminal_id.into(),
            ..Default::default()
        })
        .await
        .expect("the drawer is read")
        .into_inner()
}

async fn session(client: &mut Client, session_id: &str) -> pb::CashDrawerSession {
    client
        .get_cash_drawer(pb::GetCashDrawerRequest {
            session_id: session_id.into(),
            ..Default::default()
        })
        .await
        .expect("the session is read")
        .into_inner()
}

async fn opened(
    client: &mut Client,
    terminal_id: &str,
    lines: Vec<pb::DenominationCount>,
) -> pb::CashDrawerSession {
    client
        .open_cash_drawer(open(terminal_id, lines, &format!("open-{terminal_id}")))
        .await
        .expect("the drawer opens")
        .into_inner()
}

fn report(session: &pb::CashDrawerSession) -> pb::CashDrawerReport {
    session.report.clone().expect("a report")
}

async fn a_drawer_opens_with_its_counted_float(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let session = reception
        .open_cash_drawer(open(
            "Counter-1",
            count(&[
                (NOTE, 50_000, 1),
                (COIN, 1_000, 3),
                (COIN, 50, 4),
                (NOTE, 2_000, 5),
            ]),
            "open-1",
        ))
        .await
        .expect("opens")
        .into_inner();

    // Assert
    assert_eq!(session.state(), pb::CashDrawerState::Open);
    assert_eq!(session.terminal_id, "counter-1");
    assert_eq!(
        session.opening_float,
        Some(mxn(50_000 + 3_000 + 200 + 10_000))
    );
    assert_eq!(session.previous_closing_count, None);
    assert_eq!(session.opening_difference, Some(mxn(0)));
    assert_eq!(session.opened_by, "reception:tester");
    // Listed in the table's order: notes largest first, then coins.
    let values: Vec<(i32, i64)> = session
        .opening_count
        .iter()
        .map(|line| (line.kind, line.value.as_ref().expect("value").minor_units))
        .collect();
    assert_eq!(
        values,
        [
            (NOTE as i32, 50_000),
            (NOTE as i32, 2_000),
            (COIN as i32, 1_000),
            (COIN as i32, 50)
        ]
    );
    // Blind to reception; a manager sees what the drawer should hold.
    let blind = report(&session);
    assert_eq!((blind.expected, blind.cash_taken), (None, None));
    assert_eq!(drawer_of(&mut reception, "counter-1").await, session);
    let mut manager = clinic.client(Role::Manager).await;
    let report = report(&drawer_of(&mut manager, "counter-1").await);
    assert_eq!(report.opening_float, Some(mxn(63_200)));
    assert_eq!(report.expected, Some(mxn(63_200)));
    assert_eq!(report.cash_taken, Some(mxn(0)));
}

async fn the_x_report_counts_cash_taken_change_and_movements_at_that_terminal_only(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    let drawer = opened(&mut reception, "counter-1", a_thousand()).await;
    opened(&mut reception, "counter-2", a_thousand()).await;

    // Act
    let counted = reception
        .post_payment(at_terminal(
            cash(&patient_id, 45_000, 50_000, "pay-1"),
            "counter-1",
        ))
        .await
        .expect("paid")
        .into_inner();
    let by_card = reception
        .post_payment(at_terminal(card(&patient_id, 10_000, "pay-2"), "counter-1"))
        .await
        .expect("paid")
        .into_inner();
    let without_terminal = reception
        .post_payment(cash(&patient_id, 5_000, 5_000, "pay-3"))
        .await
        .expect("paid")
        .into_inner();
    reception
        .post_payment(at_terminal(
            cash(&patient_id, 7_000, 10_000, "pay-4"),
            "counter-2",
        ))
        .await
        .expect("paid");
    reception
        .record_cash_movement(movement(
            "counter-1",
            pb::CashMovementDirection::In,
            pb::CashMovementCategory::ChangeFund,
            20_000,
            "move-1",
        ))
        .await
        .expect("recorded");
    let expense = reception
        .record_cash_movement(pb::RecordCashMovementRequest {
            note: "Garrafones de agua".into(),
            ..movement(
                "counter-1",
                pb::CashMovementDirection::Out,
                pb::CashMovementCategory::Expenses,
                10_000,
                "move-2",
            )
        })
        .await
        .expect("recorded")
        .into_inner();
    let x = drawer_of(&mut clinic.client(Role::Manager).await, "counter-1").await;

    // Assert
    assert_eq!(counted.cash_drawer_session_id, drawer.session_id);
    assert_eq!(by_card.cash_drawer_session_id, "");
    assert_eq!(without_terminal.cash_drawer_session_id, "");
    assert_eq!(expense.session_id, drawer.session_id);
    assert_eq!(expense.category(), pb::CashMovementCategory::Expenses);
    assert_eq!(expense.note, "Garrafones de agua");
    assert_eq!(expense.recorded_by, "reception:tester");
    assert_eq!(x.state(), pb::CashDrawerState::Open);
    let report = report(&x);
    assert_eq!(report.opening_float, Some(mxn(100_000)));
    assert_eq!(report.cash_taken, Some(mxn(50_000)));
    assert_eq!(report.change_given, Some(mxn(5_000)));
    assert_eq!(report.cash_in, Some(mxn(20_000)));
    assert_eq!(report.cash_out, Some(mxn(10_000)));
    // 1000 + 500 - 50 + 200 - 100
    assert_eq!(report.expected, Some(mxn(155_000)));
    assert_eq!(report.cash_payment_count, 1);
    assert_eq!(report.cash_movement_count, 2);
    assert_eq!(x.counted, None);
}

async fn cash_at_a_terminal_without_an_open_drawer_is_refused_and_writes_nothing(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let status = reception
        .post_payment(at_terminal(
            cash(&patient_id, 10_000, 10_000, "pay-1"),
            "counter-9",
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("counter-9"),
        "{}",
        status.message()
    );
    assert!(
        whole_ledger(&mut clinic.client(Role::Service).await)
            .await
            .is_empty()
    );
    // The key was not spent: once the drawer is open the same request goes through.
    opened(&mut reception, "counter-9", a_thousand()).await;
    let payment = reception
        .post_payment(at_terminal(
            cash(&patient_id, 10_000, 10_000, "pay-1"),
            "counter-9",
        ))
        .await
        .expect("paid")
        .into_inner();
    assert_eq!(payment.receipt_number, "R-000001");
}

async fn movements_need_an_open_drawer(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let status = reception
        .record_cash_movement(movement(
            "counter-1",
            pb::CashMovementDirection::Out,
            pb::CashMovementCategory::PettyCash,
            5_000,
            "move-1",
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::FailedPrecondition);
}

async fn a_matching_blind_count_closes_the_drawer_with_its_z_report(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    let mut reception = clinic.client(Role::Reception).await;
    let drawer = opened(&mut reception, "counter-1", a_thousand()).await;
    reception
        .post_payment(at_terminal(
            cash(&patient_id, 45_000, 50_000, "pay-1"),
            "counter-1",
        ))
        .await
        .expect("paid");

    // Act: 1450.00 = 2 x 500 + 2 x 200 + 1 x 50 note
    let z = reception
        .close_cash_drawer(close(
            "counter-1",
            count(&[(NOTE, 50_000, 2), (NOTE, 20_000, 2), (NOTE, 5_000, 1)]),
            "",
            "close-1",
        ))
        .await
        .expect("closes")
        .into_inner();

    // Assert
    assert_eq!(z.session_id, drawer.session_id);
    assert_eq!(z.state(), pb::CashDrawerState::Closed);
    assert_eq!(z.counted, Some(mxn(145_000)));
    // The Z report is blind to reception too; a manager sees the rest.
    assert_eq!((z.difference.clone(), report(&z).expected), (None, None));
    let full = session(&mut clinic.client(Role::Manager).await, &z.session_id).await;
    assert_eq!(full.difference, Some(mxn(0)));
    assert_eq!(report(&full).expected, Some(mxn(145_000)));
    assert_eq!(report(&full).cash_taken, Some(mxn(50_000)));
    assert_eq!(report(&z).cash_payment_count, 1);
    assert_eq!(z.closed_by, "reception:tester");
    assert!(z.close_time.is_some());
    assert_eq!(z.approved_by, "");
    assert_eq!(session(&mut reception, &z.session_id).await, z);
    let no_current = reception
        .get_cash_drawer(pb::GetCashDrawerRequest {
            terminal_id: "counter-1".into(),
            ..Default::default()
        })
        .await
        .expect_err("no current drawer");
    assert_eq!(no_current.code(), Code::NotFound);
    let after_close = reception
        .post_payment(at_terminal(
            cash(&patient_id, 100, 100, "pay-2"),
            "counter-1",
        ))
        .await
        .expect_err("the drawer is closed");
    assert_eq!(after_close.code(), Code::FailedPrecondition);
}

async fn a_difference_without_a_reason_is_refused_and_the_drawer_stays_open(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    opened(&mut reception, "counter-1", a_thousand()).await;

    // Act: ten pesos short.
    let status = reception
        .close_cash_drawer(close(
            "counter-1",
            count(&[
                (NOTE, 50_000, 1),
                (NOTE, 20_000, 2),
                (NOTE, 5_000, 1),
                (NOTE, 2_000, 2),
            ]),
            "",
            "close-1",
        ))
        .await
        .expect_err("refused");

    // Assert: the message does not reveal the expected amount; the close stays blind.
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["difference_reason"]);
    assert!(!status.message().contains("1000"), "{}", status.message());
    let drawer = drawer_of(&mut reception, "counter-1").await;
    assert_eq!(drawer.state(), pb::CashDrawerState::Open);
    assert!(drawer.closing_count.is_empty());
}

async fn a_difference_over_the_limit_waits_for_another_manager(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut ana = clinic.client_as(Role::Manager, "manager:ana").await;
    let mut luis = clinic.client_as(Role::Manager, "manager:luis").await;
    let mut reception = clinic.client(Role::Reception).await;
    opened(&mut ana, "counter-1", a_thousand()).await;
    opened(&mut ana, "counter-2", a_thousand()).await;

    // Act: counter-1 is exactly $50.00 short (at the limit), counter-2 $50.50 short (over it).
    let at_limit = ana
        .close_cash_drawer(close(
            "counter-1",
            count(&[(NOTE, 50_000, 1), (NOTE, 20_000, 2), (NOTE, 5_000, 1)]),
            "Cambio mal entregado",
            "close-1",
        ))
        .await
        .expect("closes")
        .into_inner();
    let over_limit = ana
        .close_cash_drawer(close(
            "counter-2",
            count(&[
                (NOTE, 50_000, 1),
                (NOTE, 20_000, 2),
                (COIN, 1_000, 4),
                (COIN, 500, 1),
                (COIN, 200, 2),
                (COIN, 50, 1),
            ]),
            "Faltante sin explicar",
            "close-2",
        ))
        .await
        .expect("closes pending approval")
        .into_inner();
    let reopen = ana
        .open_cash_drawer(open("counter-2", a_thousand(), "open-again"))
        .await
        .expect_err("still awaiting approval");
    let approval = pb::ApproveCashDrawerCloseRequest {
        session_id: over_limit.session_id.clone(),
    };
    let by_reception = reception
        .approve_cash_drawer_close(approval.clone())
        .await
        .expect_err("reception cannot approve");
    let by_closer = ana
        .approve_cash_drawer_close(approval.clone())
        .await
        .expect_err("the closer cannot approve");
    let approved = luis
        .approve_cash_drawer_close(approval.clone())
        .await
        .expect("approved")
        .into_inner();
    let approved_again = luis
        .approve_cash_drawer_close(approval)
        .await
        .expect("approving twice is harmless")
        .into_inner();
    let not_pending = luis
        .approve_cash_drawer_close(pb::ApproveCashDrawerCloseRequest {
            session_id: at_limit.session_id.clone(),
        })
        .await
        .expect_err("nothing to approve");

    // Assert
    assert_eq!(at_limit.state(), pb::CashDrawerState::Closed);
    assert_eq!(at_limit.difference, Some(mxn(-5_000)));
    assert_eq!(at_limit.difference_reason, "Cambio mal entregado");
    assert_eq!(over_limit.state(), pb::CashDrawerState::PendingApproval);
    assert_eq!(over_limit.difference, Some(mxn(-5_050)));
    assert_eq!(over_limit.counted, Some(mxn(94_950)));
    assert_eq!(reopen.code(), Code::FailedPrecondition);
    assert_eq!(by_reception.code(), Code::PermissionDenied);
    assert_eq!(by_closer.code(), Code::FailedPrecondition);
    assert_eq!(approved.state(), pb::CashDrawerState::Closed);
    assert_eq!(approved.approved_by, "manager:luis");
    assert!(approved.approve_time.is_some());
    assert_eq!(approved.difference, Some(mxn(-5_050)));
    assert_eq!(approved_again, approved);
    assert_eq!(not_pending.code(), Code::FailedPrecondition);
}

async fn the_difference_limit_is_configurable(database: TestDatabase) {
    let clinic = TestClinic::start_with_drawer_limit(database, 0).await;
    let mut reception = clinic.client(Role::Reception).await;
    opened(&mut reception, "counter-1", a_thousand()).await;

    // Act: fifty centavos over.
    let z = reception
        .close_cash_drawer(close(
            "counter-1",
            count(&[(NOTE, 50_000, 2), (COIN, 50, 1)]),
            "Sobrante",
            "close-1",
        ))
        .await
        .expect("closes")
        .into_inner();

    // Assert
    let z = session(&mut clinic.client(Role::Manager).await, &z.session_id).await;
    assert_eq!(z.difference, Some(mxn(50)));
    assert_eq!(z.state(), pb::CashDrawerState::PendingApproval);
}

async fn the_next_float_is_checked_against_the_last_closing_count(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    opened(&mut reception, "counter-1", a_thousand()).await;
    reception
        .close_cash_drawer(close("counter-1", a_thousand(), "", "close-1"))
        .await
        .expect("closes");
    let nine_hundred = count(&[(NOTE, 50_000, 1), (NOTE, 20_000, 2)]);

    // Act
    let unexplained = reception
        .open_cash_drawer(open("counter-1", nine_hundred.clone(), "open-2"))
        .await
        .expect_err("refused");
    let explained = reception
        .open_cash_drawer(pb::OpenCashDrawerRequest {
            opening_difference_reason: "Se retiraron $100 para gastos".into(),
            ..open("counter-1", nine_hundred, "open-3")
        })
        .await
        .expect("opens")
        .into_inner();
    let elsewhere = reception
        .open_cash_drawer(open("counter-2", count(&[(NOTE, 20_000, 1)]), "open-4"))
        .await
        .expect("another terminal has its own history")
        .into_inner();

    // Assert
    assert_eq!(unexplained.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&unexplained), ["opening_difference_reason"]);
    assert_eq!(explained.previous_closing_count, Some(mxn(100_000)));
    assert_eq!(explained.opening_difference, Some(mxn(-10_000)));
    assert_eq!(
        explained.opening_difference_reason,
        "Se retiraron $100 para gastos"
    );
    assert_eq!(elsewhere.previous_closing_count, None);
}

async fn a_terminal_has_one_drawer_even_when_opened_concurrently(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let reception = clinic.client(Role::Reception).await;

    // Act: six counters try to open the same terminal at once, each with its own key.
    let mut calls = Vec::new();
    for attempt in 0..6 {
        let mut client = reception.clone();
        calls.push(tokio::spawn(async move {
            client
                .open_cash_drawer(open("counter-1", a_thousand(), &format!("open-{attempt}")))
                .await
        }));
    }
    let mut opened = Vec::new();
    let mut refused = Vec::new();
    for call in calls {
        match call.await.expect("the call ran") {
            Ok(session) => opened.push(session.into_inner()),
            Err(status) => refused.push(status.code()),
        }
    }

    // Assert
    assert_eq!(opened.len(), 1, "refusals: {refused:?}");
    assert_eq!(refused, vec![Code::FailedPrecondition; 5]);
}

async fn retries_return_the_first_result_and_write_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let first_open = opened(&mut reception, "counter-1", a_thousand()).await;
    let retried_open = opened(&mut reception, "counter-1", a_thousand()).await;
    let deposit = movement(
        "counter-1",
        pb::CashMovementDirection::Out,
        pb::CashMovementCategory::BankDeposit,
        30_000,
        "deposit-1",
    );
    let first_move = reception
        .record_cash_movement(deposit.clone())
        .await
        .expect("recorded")
        .into_inner();
    let retried_move = reception
        .record_cash_movement(deposit.clone())
        .await
        .expect("retried")
        .into_inner();
    let closing = close(
        "counter-1",
        count(&[(NOTE, 20_000, 3), (NOTE, 10_000, 1)]),
        "",
        "close-1",
    );
    let first_close = reception
        .close_cash_drawer(closing.clone())
        .await
        .expect("closes")
        .into_inner();
    let retried_close = reception
        .close_cash_drawer(closing)
        .await
        .expect("retried")
        .into_inner();
    let move_after_close = reception
        .record_cash_movement(deposit)
        .await
        .expect("a retry is answered even after the close")
        .into_inner();
    let open_after_close = opened(&mut reception, "counter-1", a_thousand()).await;

    // Assert
    assert_eq!(retried_open.session_id, first_open.session_id);
    assert_eq!(retried_move, first_move);
    assert_eq!(move_after_close, first_move);
    assert_eq!(retried_close, first_close);
    assert_eq!(first_close.state(), pb::CashDrawerState::Closed);
    assert_eq!(report(&first_close).cash_movement_count, 1);
    assert_eq!(report(&first_close).cash_out, Some(mxn(30_000)));
    let full = session(
        &mut clinic.client(Role::Manager).await,
        &first_close.session_id,
    )
    .await;
    assert_eq!(full.difference, Some(mxn(0)));
    assert_eq!(open_after_close.session_id, first_open.session_id);
    assert_eq!(open_after_close.state(), pb::CashDrawerState::Closed);
}

async fn reusing_a_request_id_for_a_different_drawer_request_is_refused(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;
    opened(&mut reception, "counter-1", a_thousand()).await;
    reception
        .record_cash_movement(movement(
            "counter-1",
            pb::CashMovementDirection::In,
            pb::CashMovementCategory::ChangeFund,
            10_000,
            "move-1",
        ))
        .await
        .expect("recorded");

    // Act
    let other_amount = reception
        .record_cash_movement(movement(
            "counter-1",
            pb::CashMovementDirection::In,
            pb::CashMovementCategory::ChangeFund,
            20_000,
            "move-1",
        ))
        .await
        .expect_err("refused");
    let other_float = reception
        .open_cash_drawer(open(
            "counter-1",
            count(&[(NOTE, 50_000, 1)]),
            "open-counter-1",
        ))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(violated_fields(&other_amount), ["request_id"]);
    assert_eq!(violated_fields(&other_float), ["request_id"]);
    let report = report(&drawer_of(&mut reception, "counter-1").await);
    assert_eq!(report.cash_in, Some(mxn(10_000)));
}

async fn payments_racing_a_close_are_either_in_its_z_report_or_refused(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let patient_id = clinic.register_patient().await;
    clinic.add_item("CONS-01", 100_000).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .post_charge(charge(&patient_id, "CONS-01", "charge-1"))
        .await
        .expect("charged");
    let drawer = opened(&mut reception, "counter-1", a_thousand()).await;

    // Act: eight cash payments of $10 race the close.
    let mut calls = Vec::new();
    for attempt in 0..8 {
        let mut client = reception.clone();
        let request = at_terminal(
            cash(&patient_id, 1_000, 1_000, &format!("pay-{attempt}")),
            "counter-1",
        );
        calls.push(tokio::spawn(
            async move { client.post_payment(request).await },
        ));
    }
    let closed = reception
        .close_cash_drawer(close(
            "counter-1",
            a_thousand(),
            "Conteo durante cobros",
            "close-1",
        ))
        .await
        .expect("closes")
        .into_inner();
    let mut counted = 0;
    for call in calls {
        match call.await.expect("the call ran") {
            Ok(payment) => {
                assert_eq!(
                    payment.into_inner().cash_drawer_session_id,
                    drawer.session_id
                );
                counted += 1;
            }
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition),
        }
    }

    // Assert
    let z = session(&mut clinic.client(Role::Manager).await, &closed.session_id).await;
    assert_eq!(report(&z).cash_payment_count, counted);
    assert_eq!(report(&z).cash_taken, Some(mxn(1_000 * i64::from(counted))));
    assert_eq!(
        report(&z).expected,
        Some(mxn(100_000 + 1_000 * i64::from(counted)))
    );
    assert_eq!(z.difference, Some(mxn(-1_000 * i64::from(counted))));
}

async fn invalid_drawer_requests_name_every_bad_field(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Act
    let bad_open = reception
        .open_cash_drawer(pb::OpenCashDrawerRequest {
            terminal_id: "counter 1".into(),
            opening_count: vec![
                pb::DenominationCount {
                    kind: NOTE.into(),
                    value: Some(mxn(30_000)),
                    count: 1,
                },
                pb::DenominationCount {
                    kind: pb::DenominationKind::Unspecified.into(),
                    value: Some(mxn(10_000)),
                    count: -1,
                },
            ],
            opening_difference_reason: "x".repeat(501),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let repeated = reception
        .open_cash_drawer(open(
            "counter-1",
            count(&[(NOTE, 50_000, 1), (COIN, 100, 100_001), (NOTE, 50_000, 1)]),
            "open-1",
        ))
        .await
        .expect_err("refused");
    let bad_movement = reception
        .record_cash_movement(pb::RecordCashMovementRequest {
            terminal_id: String::new(),
            direction: 0,
            category: pb::CashMovementCategory::Other.into(),
            amount: Some(mxn(0)),
            note: " ".into(),
            request_id: "move 1".into(),
        })
        .await
        .expect_err("refused");
    let bad_close = reception
        .close_cash_drawer(close("", Vec::new(), "", ""))
        .await
        .expect_err("refused");
    let neither = reception
        .get_cash_drawer(pb::GetCashDrawerRequest::default())
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(bad_open.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad_open),
        [
            "terminal_id",
            "opening_count[1].kind",
            "opening_count[1].count",
            "opening_count[0].value",
            "opening_difference_reason",
            "request_id"
        ]
    );
    assert_eq!(
        violated_fields(&repeated),
        ["opening_count[1].count", "opening_count[2]"]
    );
    assert_eq!(
        violated_fields(&bad_movement),
        ["terminal_id", "direction", "amount", "note", "request_id"]
    );
    assert_eq!(violated_fields(&bad_close), ["terminal_id", "request_id"]);
    assert_eq!(violated_fields(&neither), ["session_id", "terminal_id"]);
    let nothing_open = reception
        .get_cash_drawer(pb::GetCashDrawerRequest {
            terminal_id: "counter-1".into(),
            ..Default::default()
        })
        .await
        .expect_err("nothing was opened");
    assert_eq!(nothing_open.code(), Code::NotFound);
}

async fn drawer_calls_without_a_token_are_unauthenticated(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut anonymous = BillingServiceClient::new(clinic.billing.channel().await);

    // Act
    let status = anonymous
        .open_cash_drawer(open("counter-1", a_thousand(), "open-1"))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(status.code(), Code::Unauthenticated);
}
