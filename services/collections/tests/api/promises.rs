//! Promises to pay over real gRPC: recorded against the open balance, judged from the payments
//! billing records afterwards, one running promise per account, and a broken promise lifting its
//! account on the worklist from the day after the promised day.

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::common::v1::Money;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{TestClinic, TestCollections, date, mxn};

backend_tests!(
    a_promise_paid_by_its_day_is_kept_and_an_unpaid_one_breaks_and_lifts_its_account_next_day,
    a_new_promise_supersedes_the_running_one_and_a_retry_returns_the_first,
    a_promise_may_not_exceed_the_open_balance_and_may_name_the_conversation_it_was_made_in,
    record_promise_names_every_bad_field_and_writes_nothing,
    only_collections_staff_and_managers_handle_promises,
    a_promise_needs_the_conversation_it_was_made_in_logged_today,
);

fn promise_request(
    patient_id: &str,
    contact_id: &str,
    amount: Money,
    day: u32,
    request_id: &str,
) -> pb::RecordPromiseRequest {
    pb::RecordPromiseRequest {
        promise: Some(pb::Promise {
            patient_id: patient_id.into(),
            amount: Some(amount),
            promised_date: Some(date(2026, 11, day as i32)),
            note: "pagará en efectivo".into(),
            contact_id: contact_id.into(),
            ..Default::default()
        }),
        request_id: request_id.into(),
        made_time: None,
    }
}

/// The patient calls in and promises to pay: the conversation a promise is made in, logged.
async fn promised_on_the_phone(
    collector: &mut crate::Client,
    patient_id: &str,
    request_id: &str,
) -> String {
    collector
        .record_contact(pb::RecordContactRequest {
            contact: Some(pb::Contact {
                patient_id: patient_id.into(),
                channel: pb::ContactChannel::PhoneCall as i32,
                direction: pb::ContactDirection::Inbound as i32,
                kind: pb::ContactKind::Conversation as i32,
                outcome: pb::ContactOutcome::Promise as i32,
                ..Default::default()
            }),
            request_id: request_id.into(),
        })
        .await
        .expect("recorded")
        .into_inner()
        .contact_id
}

/// Two patients each owing one $500.00 consultation from Nov 20, as collections sees them.
async fn two_accounts(clinic: &TestClinic) -> (String, String) {
    let first = clinic.register("Ana", "Pérez", "+525511150001").await;
    let second = clinic.register("Luis", "Gómez", "+525511150002").await;
    clinic.price_consultation().await;
    clinic.charge(&first, 1, date(2026, 11, 20)).await;
    clinic.charge(&second, 1, date(2026, 11, 20)).await;
    clinic.caught_up().await;
    (first, second)
}

async fn promises_of(clinic: &TestClinic, patient_id: &str) -> Vec<pb::Promise> {
    clinic
        .collections()
        .client(Role::Collections)
        .await
        .list_promises(pb::ListPromisesRequest {
            patient_id: patient_id.into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .promises
}

async fn a_promise_paid_by_its_day_is_kept_and_an_unpaid_one_breaks_and_lifts_its_account_next_day(
    database: TestDatabase,
) {
    // Arrange: on Nov 22 both promise to pay by Nov 24; only the first pays.
    let clinic = TestClinic::start(database).await;
    let (payer, breaker) = two_accounts(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let payer_call = promised_on_the_phone(&mut collector, &payer, "call-payer").await;
    let breaker_call = promised_on_the_phone(&mut collector, &breaker, "call-breaker").await;
    let made = collector
        .record_promise(promise_request(
            &payer,
            &payer_call,
            mxn(30_000),
            24,
            "promise-payer",
        ))
        .await
        .expect("recorded")
        .into_inner();
    collector
        .record_promise(promise_request(
            &breaker,
            &breaker_call,
            mxn(20_000),
            24,
            "promise-breaker",
        ))
        .await
        .expect("recorded");
    clinic.pay(&payer, 30_000, "pay-payer").await;
    clinic.caught_up().await;
    let on_the_day = collector
        .list_promises(pb::ListPromisesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .promises;
    let worklist_before = collector
        .list_worklist(pb::ListWorklistRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .items;

    // Act: Nov 25, the day after the promised day.
    clinic.advance(TimeDelta::days(3));
    let needing_attention = collector
        .list_promises(pb::ListPromisesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .promises;
    let worklist_after = collector
        .list_worklist(pb::ListWorklistRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .items;

    // Assert
    assert_eq!(made.status, pb::PromiseStatus::Open as i32);
    assert_eq!(made.amount_paid, Some(mxn(0)));
    assert_eq!(made.recorded_by, "collections:tester");
    let kept = &promises_of(&clinic, &payer).await[0];
    assert_eq!(kept.status, pb::PromiseStatus::Kept as i32);
    assert_eq!(kept.amount_paid, Some(mxn(30_000)));
    // On Nov 22 the kept promise needs no attention; the unpaid one is still open.
    assert_eq!(on_the_day.len(), 1);
    assert_eq!(on_the_day[0].patient_id, breaker);
    assert_eq!(on_the_day[0].status, pb::PromiseStatus::Open as i32);
    assert_eq!(needing_attention.len(), 1);
    assert_eq!(
        needing_attention[0].status,
        pb::PromiseStatus::Broken as i32
    );
    // Judged as at the end of Nov 24, the promise was still open.
    let as_of_the_day = collector
        .list_promises(pb::ListPromisesRequest {
            patient_id: breaker.clone(),
            as_of: Some(date(2026, 11, 23)),
            page: None,
        })
        .await
        .expect("listed")
        .into_inner()
        .promises;
    assert_eq!(as_of_the_day[0].status, pb::PromiseStatus::Open as i32);

    let item = |items: &[pb::WorklistItem], patient_id: &str| {
        items
            .iter()
            .find(|item| item.patient_id == patient_id)
            .cloned()
            .expect("on the worklist")
    };
    // Nov 22: the promise is still open, so nobody chases the account.
    assert!(
        worklist_before
            .iter()
            .all(|item| item.patient_id != breaker),
        "an account with a running promise is being worked already"
    );
    // Nov 25, the day after: back on the list with 50 (balance) + 5 days * 5 + 30 (3 days
    // since the call the promise was made in) + 400 (broken now) + 100 (one broken promise) + 40
    // (risk: 25 for the broken promise, 15 for never having paid).
    let broken = item(&worklist_after, &breaker);
    assert_eq!(broken.score, 645);
    assert_eq!((broken.broken_promises, broken.risk_score), (1, 40));
    assert_eq!(
        broken.promise.expect("shown").status,
        pb::PromiseStatus::Broken as i32
    );
    // The payer owes $200.00: 20 + 25 + 30, no promise points for a kept promise, no risk.
    let payer_item = item(&worklist_after, &payer);
    assert_eq!(payer_item.score, 75);
    assert_eq!(
        payer_item.promise.expect("shown").status,
        pb::PromiseStatus::Kept as i32
    );
    assert_eq!(worklist_after[0].patient_id, breaker);
}

async fn a_new_promise_supersedes_the_running_one_and_a_retry_returns_the_first(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let (patient, _other) = two_accounts(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let call = promised_on_the_phone(&mut collector, &patient, "call-1").await;
    let first = collector
        .record_promise(promise_request(
            &patient,
            &call,
            mxn(10_000),
            24,
            "promise-1",
        ))
        .await
        .expect("recorded")
        .into_inner();

    // Act
    let retried = collector
        .record_promise(promise_request(
            &patient,
            &call,
            mxn(10_000),
            24,
            "promise-1",
        ))
        .await
        .expect("retried")
        .into_inner();
    let reused = collector
        .record_promise(promise_request(
            &patient,
            &call,
            mxn(15_000),
            24,
            "promise-1",
        ))
        .await
        .expect_err("a different request");
    let second = collector
        .record_promise(promise_request(
            &patient,
            &call,
            mxn(20_000),
            30,
            "promise-2",
        ))
        .await
        .expect("recorded")
        .into_inner();

    // Assert
    assert_eq!(retried, first);
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    let listed = promises_of(&clinic, &patient).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].promise_id, second.promise_id);
    assert_eq!(listed[0].status, pb::PromiseStatus::Open as i32);
    assert_eq!(listed[1].promise_id, first.promise_id);
    assert_eq!(listed[1].status, pb::PromiseStatus::Superseded as i32);
    assert_eq!(listed[1].superseded_by, second.promise_id);
    assert!(listed[1].supersede_time.is_some());
}

async fn a_promise_may_not_exceed_the_open_balance_and_may_name_the_conversation_it_was_made_in(
    database: TestDatabase,
) {
    // Arrange: the patient calls in and promises; the conversation is in the contact log.
    let clinic = TestClinic::start(database).await;
    let (patient, other) = two_accounts(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let conversation = collector
        .record_contact(pb::RecordContactRequest {
            contact: Some(pb::Contact {
                patient_id: patient.clone(),
                channel: pb::ContactChannel::PhoneCall as i32,
                direction: pb::ContactDirection::Inbound as i32,
                kind: pb::ContactKind::Conversation as i32,
                outcome: pb::ContactOutcome::Promise as i32,
                ..Default::default()
            }),
            request_id: "call-in-1".into(),
        })
        .await
        .expect("recorded")
        .into_inner();
    let mut linked = promise_request(
        &patient,
        &conversation.contact_id,
        mxn(50_000),
        24,
        "promise-linked",
    );
    if let Some(promise) = linked.promise.as_mut() {
        promise.contact_id = conversation.contact_id.clone();
    }
    let mut foreign = promise_request(
        &other,
        &conversation.contact_id,
        mxn(10_000),
        24,
        "promise-foreign",
    );
    if let Some(promise) = foreign.promise.as_mut() {
        promise.contact_id = conversation.contact_id.clone();
    }

    // Act
    let too_much = collector
        .record_promise(promise_request(
            &patient,
            &conversation.contact_id,
            mxn(50_001),
            24,
            "promise-too-much",
        ))
        .await
        .expect_err("over the balance");
    let recorded = collector
        .record_promise(linked)
        .await
        .expect("the whole balance")
        .into_inner();
    let not_theirs = collector
        .record_promise(foreign)
        .await
        .expect_err("another patient's conversation");

    // Assert
    assert_eq!(too_much.code(), Code::FailedPrecondition);
    assert_eq!(
        too_much
            .get_error_details()
            .error_info()
            .expect("error info")
            .reason,
        "PROMISE_EXCEEDS_BALANCE"
    );
    assert_eq!(recorded.contact_id, conversation.contact_id);
    assert_eq!(recorded.amount, Some(mxn(50_000)));
    assert_eq!(not_theirs.code(), Code::NotFound);
    assert_eq!(promises_of(&clinic, &patient).await, [recorded]);
    assert!(promises_of(&clinic, &other).await.is_empty());
}

async fn record_promise_names_every_bad_field_and_writes_nothing(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let (patient, _other) = two_accounts(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let call = promised_on_the_phone(&mut collector, &patient, "call-1").await;
    let everything_wrong = pb::RecordPromiseRequest {
        promise: Some(pb::Promise {
            patient_id: "not-a-patient".into(),
            amount: Some(Money {
                minor_units: 10_000,
                currency_code: "USD".into(),
            }),
            promised_date: Some(date(2026, 11, 21)),
            note: "x".repeat(2001),
            contact_id: "not-a-contact".into(),
            ..Default::default()
        }),
        request_id: String::new(),
        made_time: None,
    };
    // Nov 22 + 90 days is Feb 20, 2027.
    let mut too_far = promise_request(&patient, &call, mxn(-1), 1, "promise-far");
    if let Some(promise) = too_far.promise.as_mut() {
        promise.promised_date = Some(date(2027, 2, 21));
    }
    let mut farthest = promise_request(&patient, &call, mxn(100), 1, "promise-farthest");
    if let Some(promise) = farthest.promise.as_mut() {
        promise.promised_date = Some(date(2027, 2, 20));
    }

    // Act
    let invalid = collector
        .record_promise(everything_wrong)
        .await
        .expect_err("invalid");
    let beyond = collector
        .record_promise(too_far)
        .await
        .expect_err("invalid");
    let missing = collector
        .record_promise(pb::RecordPromiseRequest {
            promise: None,
            request_id: "promise-none".into(),
            made_time: None,
        })
        .await
        .expect_err("invalid");
    let written_before = promises_of(&clinic, &patient).await;
    let accepted = collector.record_promise(farthest).await;

    // Assert
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&invalid),
        [
            "request_id",
            "promise.patient_id",
            "promise.amount",
            "promise.promised_date",
            "promise.note",
            "promise.contact_id",
        ]
    );
    assert_eq!(
        violated_fields(&beyond),
        ["promise.amount", "promise.promised_date"]
    );
    assert_eq!(violated_fields(&missing), ["promise"]);
    assert!(written_before.is_empty());
    assert!(accepted.is_ok(), "90 days ahead is allowed");
}

async fn only_collections_staff_and_managers_handle_promises(database: TestDatabase) {
    let collections = TestCollections::alone(database).await;
    let mut anonymous = CollectionsServiceClient::new(collections.service.channel().await);
    let request = promise_request(
        "7f1d1c1e-2b43-4a4e-9a7e-0d7c3b9f1a10",
        "5b0c2a9e-8d1f-4c3a-9e6b-2f4d7a1c0e35",
        mxn(100),
        24,
        "promise-anon",
    );

    let unauthenticated = anonymous
        .record_promise(request.clone())
        .await
        .expect_err("refused");
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    for role in [Role::Kiosk, Role::Reception, Role::Service] {
        let mut client = collections.client(role).await;
        let recorded = client
            .record_promise(request.clone())
            .await
            .expect_err("refused");
        let listed = client
            .list_promises(pb::ListPromisesRequest::default())
            .await
            .expect_err("refused");
        assert_eq!(
            recorded.code(),
            Code::PermissionDenied,
            "{role} may not record"
        );
        assert_eq!(listed.code(), Code::PermissionDenied, "{role} may not list");
    }
    for role in [Role::Collections, Role::Manager] {
        let listed = collections
            .client(role)
            .await
            .list_promises(pb::ListPromisesRequest::default())
            .await;
        assert!(listed.is_ok(), "{role} may list promises");
    }
}

async fn a_promise_needs_the_conversation_it_was_made_in_logged_today(database: TestDatabase) {
    // Arrange: on Nov 22 a reminder letter goes out, the patient calls about something else, and
    // the day before a call ended in a promise; today's call ends in one too.
    let clinic = TestClinic::start(database).await;
    let (patient, _other) = two_accounts(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let yesterdays_call = promised_on_the_phone(&mut collector, &patient, "call-0").await;
    clinic.advance(TimeDelta::days(1));
    let mut logged = Vec::new();
    for (request_id, channel, direction, kind, outcome) in [
        (
            "letter-1",
            pb::ContactChannel::Letter,
            pb::ContactDirection::Outbound,
            pb::ContactKind::Attempt,
            pb::ContactOutcome::LeftMessage,
        ),
        (
            "call-1",
            pb::ContactChannel::PhoneCall,
            pb::ContactDirection::Inbound,
            pb::ContactKind::Conversation,
            pb::ContactOutcome::Spoke,
        ),
    ] {
        let contact = collector
            .record_contact(pb::RecordContactRequest {
                contact: Some(pb::Contact {
                    patient_id: patient.clone(),
                    channel: channel as i32,
                    direction: direction as i32,
                    kind: kind as i32,
                    outcome: outcome as i32,
                    ..Default::default()
                }),
                request_id: request_id.into(),
            })
            .await
            .expect("recorded")
            .into_inner();
        logged.push(contact.contact_id);
    }
    let todays_call = promised_on_the_phone(&mut collector, &patient, "call-2").await;
    let promise = |contact_id: &str, request_id: &str| {
        promise_request(&patient, contact_id, mxn(10_000), 30, request_id)
    };

    // Act
    let mut refusals = Vec::new();
    for (contact_id, request_id) in [
        ("", "promise-0"),
        (logged[0].as_str(), "promise-1"),
        (logged[1].as_str(), "promise-2"),
        (yesterdays_call.as_str(), "promise-3"),
    ] {
        refusals.push(
            collector
                .record_promise(promise(contact_id, request_id))
                .await
                .expect_err("refused"),
        );
    }
    let written_before = promises_of(&clinic, &patient).await;
    let recorded = collector
        .record_promise(promise(&todays_call, "promise-4"))
        .await
        .expect("made in today's call")
        .into_inner();

    // Assert
    assert_eq!(refusals[0].code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refusals[0]), ["promise.contact_id"]);
    for refusal in &refusals[1..] {
        assert_eq!(refusal.code(), Code::FailedPrecondition, "{refusal:?}");
        assert_eq!(
            refusal
                .get_error_details()
                .error_info()
                .expect("error info")
                .reason,
            "PROMISE_NEEDS_CONVERSATION"
        );
        assert_eq!(violated_fields(refusal), ["promise.contact_id"]);
        assert!(refusal.message().contains("conversation"), "{refusal:?}");
    }
    assert!(written_before.is_empty());
    assert_eq!(recorded.contact_id, todays_call);
}
