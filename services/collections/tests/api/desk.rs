//! The collections desk over real gRPC, following a real billing service and asking a real
//! registry: plan history and settlements, payments taken by phone, the account view and its
//! audit, billing-issue trends and the contact log's retention, escalations and disputes,
//! notices in the patient's language, and the KPIs with their exports.

use chrono::{DateTime, Months, TimeDelta, Utc};
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::billing::v1 as billing;
use clinic_proto::collections::v1 as pb;
use clinic_proto::patients::v1 as patients;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::{TestClinic, date, mxn};

backend_tests!(
    restructuring_keeps_the_old_plan_as_history_and_only_a_manager_grants_a_discount,
    a_plan_on_track_keeps_its_account_off_the_worklist_until_an_instalment_is_missed,
    a_payment_taken_by_phone_goes_through_billing_once_and_shows_on_the_account_at_once,
    opening_an_account_shows_balances_and_contact_data_and_is_audited,
    issue_trends_count_per_week_and_the_purge_removes_only_entries_past_three_years,
    escalation_follows_the_policy_and_waits_for_an_open_dispute,
    a_dispute_opens_from_a_contact_and_its_answer_closes_it_and_ends_the_hold,
    notices_come_in_the_patient_s_language_as_text_and_as_pdf,
    kpis_for_a_month_and_their_csv_and_xlsx_exports,
    the_desk_s_calls_name_every_bad_field_and_admit_only_their_roles,
    a_manager_carries_over_a_promise_and_a_plan_from_earlier_records,
    a_plan_paid_in_full_has_billing_write_off_its_settlement_discount,
    free_text_with_a_control_character_is_refused_naming_its_field,
);

fn instant(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("a valid instant")
}

/// The reason in a refusal's `ErrorInfo`.
fn reason_of(status: &Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .expect("a refusal carries ErrorInfo")
}

fn sorted(mut fields: Vec<String>) -> Vec<String> {
    fields.sort();
    fields
}

/// A patient who consented to every channel and owes `quantity` $500.00 consultations from
/// `service_date`, as collections sees them once caught up.
async fn owing(
    clinic: &TestClinic,
    phone: &str,
    quantity: i32,
    service_date: clinic_proto::common::v1::Date,
) -> String {
    let patient = clinic
        .register_reachable(
            phone,
            "America/Mexico_City",
            patients::ContactConsent {
                sms: true,
                whatsapp: true,
                email: true,
                phone_call: true,
            },
        )
        .await;
    clinic.price_consultation().await;
    clinic.charge(&patient, quantity, service_date).await;
    clinic.caught_up().await;
    patient
}

fn weekly_plan(total: i64, first_day: i32) -> pb::PaymentPlan {
    pb::PaymentPlan {
        total: Some(mxn(total)),
        instalment_count: 2,
        frequency: pb::PaymentPlanFrequency::Weekly as i32,
        first_date: Some(date(2026, 11, first_day)),
        ..Default::default()
    }
}

async fn restructuring_keeps_the_old_plan_as_history_and_only_a_manager_grants_a_discount(
    database: TestDatabase,
) {
    // Arrange: $1,500.00 owed; a two-instalment plan for $1,000.00 agreed on Nov 22.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170001", 3, date(2026, 11, 20)).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let mut manager = clinic.collections().client(Role::Manager).await;
    let first = collector
        .create_payment_plan(pb::CreatePaymentPlanRequest {
            plan: Some(pb::PaymentPlan {
                patient_id: patient.clone(),
                ..weekly_plan(100_000, 23)
            }),
            request_id: "plan-1".into(),
            agreed_time: None,
        })
        .await
        .expect("created")
        .into_inner();
    let restructure = |request_id: &str, discount: i64| pb::RestructurePaymentPlanRequest {
        plan_id: first.plan_id.clone(),
        plan: Some(pb::PaymentPlan {
            instalment_count: 4,
            settlement_discount: Some(mxn(discount)),
            ..weekly_plan(120_000, 30)
        }),
        reason: "Perdió su empleo; pagos más pequeños.".into(),
        request_id: request_id.into(),
    };

    // Act
    let collector_discount = collector
        .restructure_payment_plan(restructure("restructure-1", 30_000))
        .await
        .expect_err("refused");
    let too_much = manager
        .restructure_payment_plan(restructure("restructure-2", 40_000))
        .await
        .expect_err("refused");
    let second = manager
        .restructure_payment_plan(restructure("restructure-3", 30_000))
        .await
        .expect("restructured")
        .into_inner();
    let retried = manager
        .restructure_payment_plan(restructure("restructure-3", 30_000))
        .await
        .expect("a retry gets the first result")
        .into_inner();
    let again = manager
        .restructure_payment_plan(restructure("restructure-4", 0))
        .await
        .expect_err("refused");
    let history = collector
        .list_payment_plans(pb::ListPaymentPlansRequest {
            patient_id: patient.clone(),
        })
        .await
        .expect("listed")
        .into_inner()
        .plans;
    let active = collector
        .get_payment_plan(pb::GetPaymentPlanRequest {
            plan_id: String::new(),
            patient_id: patient.clone(),
        })
        .await
        .expect("found")
        .into_inner();

    // Assert
    assert_eq!(reason_of(&collector_discount), "SETTLEMENT_NEEDS_MANAGER");
    assert_eq!(reason_of(&too_much), "PLAN_EXCEEDS_BALANCE");
    assert_eq!(retried, second);
    assert_eq!(reason_of(&again), "PLAN_NOT_ACTIVE");
    assert_eq!(second.replaces, first.plan_id);
    assert_eq!(second.settlement_discount, Some(mxn(30_000)));
    assert_eq!(second.discount_approved_by, "manager:tester");
    assert_eq!(second.schedule.len(), 4);
    assert_eq!(active.plan_id, second.plan_id);
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].plan_id, second.plan_id);
    let old = &history[1];
    assert_eq!(old.plan_id, first.plan_id);
    assert_eq!(old.replaced_by, second.plan_id);
    assert_eq!(old.replace_reason, "Perdió su empleo; pagos más pequeños.");
    assert!(old.replace_time.is_some());
    assert_eq!(
        old.schedule, first.schedule,
        "the old schedule is kept as it was"
    );
}

async fn a_plan_on_track_keeps_its_account_off_the_worklist_until_an_instalment_is_missed(
    database: TestDatabase,
) {
    // Arrange: $1,000.00 owed from Nov 20; a plan of two weekly $500.00 instalments from Nov 23.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170002", 2, date(2026, 11, 20)).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    collector
        .create_payment_plan(pb::CreatePaymentPlanRequest {
            plan: Some(pb::PaymentPlan {
                patient_id: patient.clone(),
                ..weekly_plan(100_000, 23)
            }),
            request_id: "plan-1".into(),
            agreed_time: None,
        })
        .await
        .expect("created");
    let worklist = |collector: &mut crate::Client| {
        let mut collector = collector.clone();
        async move {
            collector
                .list_worklist(pb::ListWorklistRequest::default())
                .await
                .expect("listed")
                .into_inner()
                .items
        }
    };

    // Act: the first instalment is paid on its day; the second (Nov 30) is not.
    let while_planned = worklist(&mut collector).await;
    clinic.advance(TimeDelta::days(1));
    clinic.pay(&patient, 50_000, "instalment-1").await;
    clinic.caught_up().await;
    clinic.clock.set(instant("2026-11-30T18:00:00Z"));
    let on_the_second_day = worklist(&mut collector).await;
    clinic.clock.set(instant("2026-12-01T18:00:00Z"));
    let the_day_after = worklist(&mut collector).await;

    // Assert
    assert!(while_planned.is_empty(), "a plan on track is being worked");
    assert!(
        on_the_second_day.is_empty(),
        "an instalment is due through its day"
    );
    assert_eq!(the_day_after.len(), 1);
    let item = &the_day_after[0];
    assert_eq!(item.patient_id, patient);
    assert_eq!(item.missed_instalments, 1);
    // 50 (balance) + 55 (11 days) + 300 (never contacted) + 150 (one missed) + 20 (risk).
    assert_eq!(item.risk_score, 20);
    assert_eq!(item.score, 575);
}

fn card() -> pb::take_payment_request::Method {
    pb::take_payment_request::Method::Card(billing::CardPayment {
        authorization_code: "A1B2C3".into(),
        last_four: "4242".into(),
        card_type: billing::CardType::Credit as i32,
    })
}

async fn a_payment_taken_by_phone_goes_through_billing_once_and_shows_on_the_account_at_once(
    database: TestDatabase,
) {
    // Arrange: $1,500.00 owed. Collections polls billing only once a minute, so only taking
    // the payment itself can make it show at once.
    let mut clinic = TestClinic::start_upstream(database).await;
    let patient = clinic.register("Rosa", "Méndez", "+525511170003").await;
    clinic.price_consultation().await;
    clinic.charge(&patient, 3, date(2026, 11, 20)).await;
    clinic.start_collections(60_000).await;
    clinic.caught_up().await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let take = pb::TakePaymentRequest {
        patient_id: patient.clone(),
        amount: Some(mxn(40_000)),
        method: Some(card()),
        request_id: "phone-pay-1".into(),
    };

    // Act
    let taken = collector
        .take_payment(take.clone())
        .await
        .expect("taken")
        .into_inner();
    let listed = collector
        .list_receivables(pb::ListReceivablesRequest { page: None })
        .await
        .expect("listed")
        .into_inner();
    let retried = collector
        .take_payment(take)
        .await
        .expect("a retry gets the first payment")
        .into_inner();
    let balance = clinic
        .billing(Role::Manager)
        .await
        .get_account_balance(billing::GetAccountBalanceRequest {
            patient_id: patient.clone(),
            identity: None,
        })
        .await
        .expect("answered")
        .into_inner();

    // Assert
    let payment = taken.payment.clone().expect("billing's payment");
    assert_eq!(payment.received_by, "collections:tester");
    assert_eq!(payment.method, billing::PaymentMethod::Card as i32);
    assert_eq!(payment.balance_after, Some(mxn(110_000)));
    assert_eq!(
        taken.account.expect("still owing").balance,
        Some(mxn(110_000))
    );
    assert_eq!(listed.total_open, Some(mxn(110_000)), "shown at once");
    assert_eq!(retried.payment, taken.payment);
    assert_eq!(balance.balance, Some(mxn(110_000)), "charged once");
}

async fn opening_an_account_shows_balances_and_contact_data_and_is_audited(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170004", 2, date(2026, 10, 1)).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let mut manager = clinic.collections().client(Role::Manager).await;

    // Act
    let account = collector
        .get_account(pb::GetAccountRequest {
            patient_id: patient.clone(),
        })
        .await
        .expect("opened")
        .into_inner();
    clinic.advance(TimeDelta::minutes(5));
    manager
        .get_account(pb::GetAccountRequest {
            patient_id: patient.clone(),
        })
        .await
        .expect("opened");
    let audit = manager
        .list_account_access_log(pb::ListAccountAccessLogRequest {
            patient_id: patient.clone(),
            page: None,
        })
        .await
        .expect("listed")
        .into_inner()
        .entries;
    let collector_reads_audit = collector
        .list_account_access_log(pb::ListAccountAccessLogRequest {
            patient_id: patient.clone(),
            page: None,
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(account.patient_name, "Paciente Contacto");
    assert_eq!(account.phone, "+525511170004");
    assert_eq!(account.time_zone, "America/Mexico_City");
    assert_eq!(account.balance, Some(mxn(100_000)));
    assert_eq!(account.days_past_due, 52);
    let aging = account.aging.expect("aged");
    assert_eq!(aging.days_31_to_60, Some(mxn(100_000)));
    assert_eq!(account.consented_channels.len(), 5);
    assert_eq!(
        account.contact_state.expect("state").patient_id,
        patient.clone()
    );
    let who: Vec<(String, String)> = audit
        .iter()
        .map(|entry| (entry.subject.clone(), entry.role.clone()))
        .collect();
    assert_eq!(
        who,
        [
            ("collections:tester".to_owned(), "collections".to_owned()),
            ("manager:tester".to_owned(), "manager".to_owned()),
        ]
    );
    assert_eq!(collector_reads_audit.code(), Code::PermissionDenied);
}

fn inbound(patient_id: &str, issue: pb::BillingIssue, outcome: pb::ContactOutcome) -> pb::Contact {
    pb::Contact {
        patient_id: patient_id.into(),
        channel: pb::ContactChannel::PhoneCall as i32,
        direction: pb::ContactDirection::Inbound as i32,
        kind: pb::ContactKind::Conversation as i32,
        outcome: outcome as i32,
        billing_issue: issue as i32,
        ..Default::default()
    }
}

async fn record(client: &mut crate::Client, contact: pb::Contact, request_id: &str) -> pb::Contact {
    client
        .record_contact(pb::RecordContactRequest {
            contact: Some(contact),
            request_id: request_id.into(),
        })
        .await
        .expect("recorded")
        .into_inner()
}

async fn issue_trends_count_per_week_and_the_purge_removes_only_entries_past_three_years(
    database: TestDatabase,
) {
    // Arrange: calls on Sunday Nov 22, Monday Nov 23 (two) and Monday Nov 30.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170005", 1, date(2026, 11, 20)).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let mut manager = clinic.collections().client(Role::Manager).await;
    let spoke = pb::ContactOutcome::Spoke;
    let first = record(
        &mut collector,
        inbound(&patient, pb::BillingIssue::WrongCharge, spoke),
        "c-1",
    )
    .await;
    clinic.clock.set(instant("2026-11-23T18:00:00Z"));
    record(
        &mut collector,
        inbound(&patient, pb::BillingIssue::Insurance, spoke),
        "c-2",
    )
    .await;
    record(
        &mut collector,
        inbound(&patient, pb::BillingIssue::Unspecified, spoke),
        "c-3",
    )
    .await;
    clinic.clock.set(instant("2026-11-30T18:00:00Z"));
    record(
        &mut collector,
        inbound(&patient, pb::BillingIssue::WrongCharge, spoke),
        "c-4",
    )
    .await;

    // Act
    let trends = collector
        .get_billing_issue_trends(pb::GetBillingIssueTrendsRequest {
            from_date: Some(date(2026, 11, 16)),
            to_date: Some(date(2026, 12, 6)),
            period: pb::TrendPeriod::Week as i32,
        })
        .await
        .expect("counted")
        .into_inner();
    let purged_by_collector = collector
        .purge_contact_log(pb::PurgeContactLogRequest {})
        .await
        .expect_err("refused");
    let first_at = instant("2026-11-22T18:00:00Z");
    clinic
        .clock
        .set(first_at.checked_add_months(Months::new(36)).expect("valid") - TimeDelta::seconds(1));
    let just_before = manager
        .purge_contact_log(pb::PurgeContactLogRequest {})
        .await
        .expect("purged")
        .into_inner();
    clinic
        .clock
        .set(first_at.checked_add_months(Months::new(36)).expect("valid"));
    let three_years_on = manager
        .purge_contact_log(pb::PurgeContactLogRequest {})
        .await
        .expect("purged")
        .into_inner();
    let left = collector
        .list_contacts(pb::ListContactsRequest {
            patient_id: patient.clone(),
            page: None,
        })
        .await
        .expect("listed")
        .into_inner()
        .contacts;

    // Assert
    let weeks: Vec<(i32, Vec<i64>, i64)> = trends
        .periods
        .iter()
        .map(|period| {
            (
                period.period_start.expect("start").day,
                period.counts.iter().map(|count| count.contacts).collect(),
                period.contacts,
            )
        })
        .collect();
    assert_eq!(
        weeks,
        [
            (16, vec![1, 0, 0, 0], 1),
            (23, vec![0, 1, 0, 0], 2),
            (30, vec![1, 0, 0, 0], 1),
        ]
    );
    let totals: Vec<(i32, i64)> = trends
        .totals
        .iter()
        .map(|count| (count.issue, count.contacts))
        .collect();
    assert_eq!(
        totals,
        [
            (pb::BillingIssue::WrongCharge as i32, 2),
            (pb::BillingIssue::Insurance as i32, 1),
            (pb::BillingIssue::Price as i32, 0),
            (pb::BillingIssue::ServiceComplaint as i32, 0),
        ]
    );
    assert_eq!(purged_by_collector.code(), Code::PermissionDenied);
    assert_eq!(just_before.purged, 0);
    assert_eq!(three_years_on.purged, 1);
    assert_eq!(left.len(), 3);
    assert!(
        left.iter()
            .all(|contact| contact.contact_id != first.contact_id)
    );
}

fn escalate(
    patient_id: &str,
    target: pb::EscalationTarget,
    request_id: &str,
) -> pb::EscalateAccountRequest {
    pb::EscalateAccountRequest {
        patient_id: patient_id.into(),
        target: target as i32,
        reason: "Sin respuesta en tres meses.".into(),
        request_id: request_id.into(),
    }
}

async fn escalation_follows_the_policy_and_waits_for_an_open_dispute(database: TestDatabase) {
    // Arrange: a debt from Aug 1, 113 days past due on Nov 22.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170006", 1, date(2026, 8, 1)).await;
    let mut collector = clinic.collections().client(Role::Collections).await;

    // Act
    let agency = collector
        .escalate_account(escalate(
            &patient,
            pb::EscalationTarget::ExternalAgency,
            "e-1",
        ))
        .await
        .expect("allowed past 90 days")
        .into_inner();
    let retried = collector
        .escalate_account(escalate(
            &patient,
            pb::EscalationTarget::ExternalAgency,
            "e-1",
        ))
        .await
        .expect("a retry gets the first")
        .into_inner();
    let write_off = collector
        .escalate_account(escalate(
            &patient,
            pb::EscalationTarget::WriteOffProposal,
            "e-2",
        ))
        .await
        .expect_err("refused before 180 days");
    record(
        &mut collector,
        inbound(
            &patient,
            pb::BillingIssue::Price,
            pb::ContactOutcome::Disputed,
        ),
        "dispute-1",
    )
    .await;
    let during_dispute = collector
        .escalate_account(escalate(&patient, pb::EscalationTarget::Manager, "e-3"))
        .await
        .expect_err("refused while disputed");
    let listed = collector
        .list_escalations(pb::ListEscalationsRequest {
            patient_id: patient.clone(),
            page: None,
        })
        .await
        .expect("listed")
        .into_inner()
        .escalations;

    // Assert
    assert_eq!(agency.target, pb::EscalationTarget::ExternalAgency as i32);
    assert_eq!(agency.days_past_due, 113);
    assert_eq!(agency.balance, Some(mxn(50_000)));
    assert_eq!(agency.escalated_by, "collections:tester");
    assert_eq!(retried, agency);
    assert_eq!(reason_of(&write_off), "ESCALATION_POLICY");
    assert_eq!(reason_of(&during_dispute), "DISPUTE_HOLD");
    assert_eq!(listed, [agency]);
}

/// Billing's id of the patient's first charge, from billing's ledger.
async fn first_charge_of(clinic: &TestClinic, patient_id: &str) -> String {
    clinic
        .billing(Role::Manager)
        .await
        .list_ledger_entries(billing::ListLedgerEntriesRequest {
            after_sequence: 0,
            page_size: 1000,
        })
        .await
        .expect("the ledger")
        .into_inner()
        .entries
        .into_iter()
        .find(|entry| {
            entry.patient_id == patient_id && entry.kind == billing::LedgerEntryKind::Charge as i32
        })
        .expect("a charge")
        .source_id
}

async fn a_dispute_opens_from_a_contact_and_its_answer_closes_it_and_ends_the_hold(
    database: TestDatabase,
) {
    // Arrange: the patient calls to dispute a $1,000.00 charge; another patient owes too.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170007", 2, date(2026, 11, 20)).await;
    let other = owing(&clinic, "+525511170011", 1, date(2026, 11, 20)).await;
    let charge = first_charge_of(&clinic, &patient).await;
    let others_charge = first_charge_of(&clinic, &other).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let mut manager = clinic.collections().client(Role::Manager).await;
    let raised = record(
        &mut collector,
        inbound(
            &patient,
            pb::BillingIssue::WrongCharge,
            pb::ContactOutcome::Disputed,
        ),
        "dispute-1",
    )
    .await;
    let answer =
        |request_id: &str, charge_id: &str, amount: Option<i64>| pb::AnswerDisputeRequest {
            patient_id: patient.clone(),
            answer: pb::DisputeAnswer::CreditNote as i32,
            answer_note: "Se cobró dos veces la consulta.".into(),
            charge_id: charge_id.into(),
            amount: amount.map(mxn),
            request_id: request_id.into(),
        };
    let call = pb::Contact {
        direction: pb::ContactDirection::Outbound as i32,
        kind: pb::ContactKind::Attempt as i32,
        outcome: pb::ContactOutcome::NoAnswer as i32,
        ..inbound(
            &patient,
            pb::BillingIssue::Unspecified,
            pb::ContactOutcome::NoAnswer,
        )
    };

    // Act
    let open = collector
        .list_disputes(pb::ListDisputesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .disputes;
    let held = collector
        .record_contact(pb::RecordContactRequest {
            contact: Some(call.clone()),
            request_id: "call-1".into(),
        })
        .await
        .expect_err("held");
    let by_collector = collector
        .answer_dispute(answer("answer-0", &charge, Some(50_000)))
        .await
        .expect_err("refused");
    let without_charge = manager
        .answer_dispute(answer("answer-1", "", None))
        .await
        .expect_err("refused");
    let someone_elses = manager
        .answer_dispute(answer("answer-2", &others_charge, Some(50_000)))
        .await
        .expect_err("refused");
    let answered = manager
        .answer_dispute(answer("answer-3", &charge, Some(50_000)))
        .await
        .expect("answered")
        .into_inner();
    let at_once = collector
        .list_receivables(pb::ListReceivablesRequest { page: None })
        .await
        .expect("listed")
        .into_inner();
    let retried = manager
        .answer_dispute(answer("answer-3", &charge, Some(50_000)))
        .await
        .expect("a retry gets the first answer")
        .into_inner();
    let nothing_open = manager
        .answer_dispute(pb::AnswerDisputeRequest {
            answer: pb::DisputeAnswer::Upheld as i32,
            ..answer("answer-4", "", None)
        })
        .await
        .expect_err("refused");
    let after = collector
        .record_contact(pb::RecordContactRequest {
            contact: Some(call),
            request_id: "call-2".into(),
        })
        .await;
    let open_after = collector
        .list_disputes(pb::ListDisputesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .disputes;
    let in_billing = clinic
        .billing(Role::Manager)
        .await
        .get_account_balance(billing::GetAccountBalanceRequest {
            patient_id: patient.clone(),
            identity: None,
        })
        .await
        .expect("answered")
        .into_inner();

    // Assert
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].contact_id, raised.contact_id);
    assert_eq!(open[0].billing_issue, pb::BillingIssue::WrongCharge as i32);
    assert_eq!(open[0].answer_time, None);
    assert_eq!(reason_of(&held), "DISPUTE_HOLD");
    assert_eq!(by_collector.code(), Code::PermissionDenied);
    assert_eq!(
        sorted(violated_fields(&without_charge)),
        ["amount", "charge_id"]
    );
    assert_eq!(someone_elses.code(), Code::NotFound);
    assert_eq!(answered.dispute_id, open[0].dispute_id);
    assert_eq!(answered.answer, pb::DisputeAnswer::CreditNote as i32);
    assert!(
        answered.billing_reference.starts_with("NC-"),
        "billing's credit note: {}",
        answered.billing_reference
    );
    assert_eq!(answered.answered_by, "manager:tester");
    assert!(answered.answer_time.is_some());
    let owed: Vec<(String, Option<clinic_proto::common::v1::Money>)> = at_once
        .accounts
        .iter()
        .map(|account| (account.patient_id.clone(), account.balance.clone()))
        .collect();
    assert!(
        owed.contains(&(patient.clone(), Some(mxn(50_000)))),
        "the credit note shows at once: {owed:?}"
    );
    assert_eq!(retried, answered);
    assert_eq!(in_billing.balance, Some(mxn(50_000)), "one credit note");
    assert_eq!(reason_of(&nothing_open), "NO_OPEN_DISPUTE");
    assert!(after.is_ok(), "the hold ended with the answer");
    assert!(open_after.is_empty());
}

async fn notices_come_in_the_patient_s_language_as_text_and_as_pdf(database: TestDatabase) {
    // Arrange: a Russian-speaking patient owing one consultation from Nov 2.
    let clinic = TestClinic::start(database).await;
    let mut reception = PatientServiceClient::new(
        clinic
            .patients
            .channel_as(Role::Reception, "reception:tester")
            .await,
    );
    let patient = reception
        .create_patient(patients::CreatePatientRequest {
            patient: Some(patients::Patient {
                given_name: "Ольга".into(),
                family_name: "Смирнова".into(),
                date_of_birth: Some(date(1979, 3, 4)),
                phone: "+525511170008".into(),
                preferred_language: "ru".into(),
                ..Default::default()
            }),
            request_id: "register-olga".into(),
        })
        .await
        .expect("registered")
        .into_inner()
        .patient_id;
    clinic.price_consultation().await;
    clinic.charge(&patient, 1, date(2026, 11, 2)).await;
    clinic.caught_up().await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let render =
        |kind: pb::NoticeKind, format: pb::NoticeFormat, language: &str| pb::RenderNoticeRequest {
            patient_id: patient.clone(),
            kind: kind as i32,
            format: format as i32,
            language: language.into(),
        };

    // Act
    let first = collector
        .render_notice(render(
            pb::NoticeKind::FirstNotice,
            pb::NoticeFormat::Text,
            "",
        ))
        .await
        .expect("rendered")
        .into_inner();
    let in_english = collector
        .render_notice(render(
            pb::NoticeKind::Reminder,
            pb::NoticeFormat::Text,
            "en",
        ))
        .await
        .expect("rendered")
        .into_inner();
    let statement = collector
        .render_notice(render(
            pb::NoticeKind::Statement,
            pb::NoticeFormat::Pdf,
            "zh",
        ))
        .await
        .expect("rendered")
        .into_inner();

    // Assert
    let text = String::from_utf8(first.content).expect("UTF-8");
    assert_eq!(first.language, "ru");
    assert_eq!(first.content_type, "text/plain; charset=utf-8");
    assert_eq!(first.file_name, "first-notice-2026-11-22.txt");
    assert!(text.contains("Пациент: Ольга Смирнова"), "{text}");
    assert!(text.contains("Кредитор: Clínica Dental"), "{text}");
    assert!(text.contains("CONS-01"), "billing's description: {text}");
    assert!(text.contains("$500.00 MXN"), "{text}");
    assert!(text.contains("Оспорить до: 2026-12-22"), "{text}");
    let reminder = String::from_utf8(in_english.content).expect("UTF-8");
    assert!(reminder.contains("Days past due: 20"), "{reminder}");
    assert_eq!(statement.content_type, "application/pdf");
    assert_eq!(statement.language, "zh");
    assert!(statement.content.starts_with(b"%PDF-"));
}

async fn kpis_for_a_month_and_their_csv_and_xlsx_exports(database: TestDatabase) {
    // Arrange, on Nov 22: $2,000.00 charged; a call ending in a promise of $100.00 for today,
    // kept by a $500.00 cash payment, whose next step (today) is followed up; $200.00 taken by
    // phone.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170009", 4, date(2026, 11, 20)).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let promised_in = record(
        &mut collector,
        pb::Contact {
            next_step: "Llamar por la tarde".into(),
            next_step_date: Some(date(2026, 11, 22)),
            ..inbound(
                &patient,
                pb::BillingIssue::Unspecified,
                pb::ContactOutcome::Promise,
            )
        },
        "c-1",
    )
    .await;
    collector
        .record_promise(pb::RecordPromiseRequest {
            promise: Some(pb::Promise {
                patient_id: patient.clone(),
                amount: Some(mxn(10_000)),
                promised_date: Some(date(2026, 11, 22)),
                contact_id: promised_in.contact_id,
                ..Default::default()
            }),
            request_id: "promise-1".into(),
            made_time: None,
        })
        .await
        .expect("promised");
    clinic.advance(TimeDelta::hours(1));
    clinic.pay(&patient, 50_000, "cash-1").await;
    collector
        .take_payment(pb::TakePaymentRequest {
            patient_id: patient.clone(),
            amount: Some(mxn(20_000)),
            method: Some(card()),
            request_id: "phone-1".into(),
        })
        .await
        .expect("taken");
    record(
        &mut collector,
        inbound(
            &patient,
            pb::BillingIssue::Unspecified,
            pb::ContactOutcome::Spoke,
        ),
        "c-2",
    )
    .await;
    clinic.caught_up().await;

    // Act
    let month = collector
        .get_collections_kpis(pb::GetCollectionsKpisRequest {
            period: pb::TrendPeriod::Month as i32,
            day: None,
        })
        .await
        .expect("computed")
        .into_inner();
    let csv = collector
        .export_collections_kpis(pb::ExportCollectionsKpisRequest {
            period: pb::TrendPeriod::Month as i32,
            day: Some(date(2026, 11, 5)),
            format: pb::ExportFormat::Csv as i32,
        })
        .await
        .expect("exported")
        .into_inner();
    let xlsx = collector
        .export_collections_kpis(pb::ExportCollectionsKpisRequest {
            period: pb::TrendPeriod::Month as i32,
            day: None,
            format: pb::ExportFormat::Xlsx as i32,
        })
        .await
        .expect("exported")
        .into_inner();

    // Assert
    assert_eq!(month.period_start, Some(date(2026, 11, 1)));
    assert_eq!(month.period_end, Some(date(2026, 11, 30)));
    assert_eq!(month.collected, Some(mxn(70_000)));
    assert_eq!(month.collectible, Some(mxn(200_000)));
    assert_eq!(
        (month.recovery_rate_bp, month.recovery_rate_defined),
        (3_500, true)
    );
    assert_eq!(month.receivables, Some(mxn(130_000)));
    assert_eq!(
        (month.current_receivables_bp, month.overdue_receivables_bp),
        (0, 10_000)
    );
    // 1,300.00 / 2,000.00 x 22 days = 14.30 days.
    assert_eq!((month.dso_centidays, month.dso_defined), (1_430, true));
    assert_eq!((month.promises_kept_bp, month.promises_judged), (10_000, 1));
    assert_eq!(
        (month.follow_ups_on_time_bp, month.follow_ups_due),
        (10_000, 1)
    );
    assert_eq!(month.by_collector.len(), 1);
    assert_eq!(month.by_collector[0].collector, "collections:tester");
    assert_eq!(month.by_collector[0].collected, Some(mxn(20_000)));
    let csv_text = String::from_utf8(csv.content).expect("UTF-8");
    assert_eq!(csv.file_name, "collections-kpis-month-2026-11-01.csv");
    assert!(csv_text.starts_with("kpi,item,value\r\n"));
    assert!(
        csv_text.contains("recovery_rate_percent,,35.00\r\n"),
        "{csv_text}"
    );
    assert!(csv_text.contains("collected_by_collector,collections:tester,200.00\r\n"));
    assert!(xlsx.content.starts_with(b"PK"), "an XLSX is a zip");
    assert_eq!(
        xlsx.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
}

async fn the_desk_s_calls_name_every_bad_field_and_admit_only_their_roles(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.collections().client(Role::Manager).await;

    // Act
    let escalation = manager
        .escalate_account(pb::EscalateAccountRequest {
            patient_id: "nobody".into(),
            target: 0,
            reason: String::new(),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let trends = manager
        .get_billing_issue_trends(pb::GetBillingIssueTrendsRequest {
            from_date: Some(date(2026, 11, 22)),
            to_date: Some(date(2026, 11, 1)),
            period: 0,
        })
        .await
        .expect_err("refused");
    let payment = manager
        .take_payment(pb::TakePaymentRequest {
            patient_id: String::new(),
            amount: Some(mxn(0)),
            method: None,
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let notice = manager
        .render_notice(pb::RenderNoticeRequest {
            patient_id: "x".into(),
            kind: 0,
            format: 9,
            language: "fr".into(),
        })
        .await
        .expect_err("refused");
    let restructured = manager
        .restructure_payment_plan(pb::RestructurePaymentPlanRequest {
            plan_id: "p".into(),
            plan: Some(pb::PaymentPlan {
                instalment_count: 0,
                ..Default::default()
            }),
            reason: String::new(),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let kpis = manager
        .export_collections_kpis(pb::ExportCollectionsKpisRequest {
            period: 0,
            day: Some(date(2026, 2, 30)),
            format: 0,
        })
        .await
        .expect_err("refused");
    let mut roles = Vec::new();
    for role in [Role::Kiosk, Role::Reception, Role::Service] {
        let mut client = clinic.collections().client(role).await;
        roles.push(
            client
                .get_account(pb::GetAccountRequest {
                    patient_id: clinic_common::ids::PatientId::new().to_string(),
                })
                .await
                .expect_err("refused")
                .code(),
        );
        roles.push(
            client
                .get_collections_kpis(pb::GetCollectionsKpisRequest::default())
                .await
                .expect_err("refused")
                .code(),
        );
    }

    // Assert
    assert_eq!(
        sorted(violated_fields(&escalation)),
        ["patient_id", "reason", "request_id", "target"]
    );
    assert_eq!(sorted(violated_fields(&trends)), ["period", "to_date"]);
    assert_eq!(
        sorted(violated_fields(&payment)),
        ["amount", "method", "patient_id", "request_id"]
    );
    assert_eq!(
        sorted(violated_fields(&notice)),
        ["format", "kind", "language", "patient_id"]
    );
    assert_eq!(
        sorted(violated_fields(&restructured)),
        [
            "plan.first_date",
            "plan.frequency",
            "plan.instalment_count",
            "plan.total",
            "plan_id",
            "reason",
            "request_id"
        ]
    );
    assert_eq!(sorted(violated_fields(&kpis)), ["day", "format", "period"]);
    assert_eq!(roles, [Code::PermissionDenied; 6]);
}

async fn a_manager_carries_over_a_promise_and_a_plan_from_earlier_records(database: TestDatabase) {
    // Arrange: $1,000.00 owed from Oct 1; on paper, a promise made Nov 2 for Nov 12, and a
    // plan agreed Nov 1 of two weekly instalments from Nov 8; nothing was paid.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170010", 2, date(2026, 10, 1)).await;
    let mut manager = clinic.collections().client(Role::Manager).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let promise = |made_time: &str, request_id: &str| pb::RecordPromiseRequest {
        promise: Some(pb::Promise {
            patient_id: patient.clone(),
            amount: Some(mxn(20_000)),
            promised_date: Some(date(2026, 11, 12)),
            ..Default::default()
        }),
        request_id: request_id.into(),
        made_time: Some(clinic_proto::timestamp_to_proto(instant(made_time))),
    };

    // Act
    let by_collector = collector
        .record_promise(promise("2026-11-02T18:00:00Z", "p-0"))
        .await
        .expect_err("refused");
    let in_the_future = manager
        .record_promise(promise("2026-11-23T18:00:00Z", "p-1"))
        .await
        .expect_err("refused");
    let carried = manager
        .record_promise(promise("2026-11-02T18:00:00Z", "p-2"))
        .await
        .expect("carried over")
        .into_inner();
    let plan = manager
        .create_payment_plan(pb::CreatePaymentPlanRequest {
            plan: Some(pb::PaymentPlan {
                patient_id: patient.clone(),
                ..weekly_plan(60_000, 8)
            }),
            request_id: "plan-1".into(),
            agreed_time: Some(clinic_proto::timestamp_to_proto(instant(
                "2026-11-01T18:00:00Z",
            ))),
        })
        .await
        .expect("carried over")
        .into_inner();

    // Assert
    assert_eq!(by_collector.code(), Code::PermissionDenied);
    assert_eq!(violated_fields(&in_the_future), ["made_time"]);
    assert_eq!(carried.status, pb::PromiseStatus::Broken as i32);
    assert_eq!(
        carried.create_time,
        Some(clinic_proto::timestamp_to_proto(instant(
            "2026-11-02T18:00:00Z"
        )))
    );
    let statuses: Vec<i32> = plan.schedule.iter().map(|line| line.status).collect();
    assert_eq!(
        statuses,
        [
            pb::InstalmentStatus::Missed as i32,
            pb::InstalmentStatus::Missed as i32
        ]
    );
}

async fn a_plan_paid_in_full_has_billing_write_off_its_settlement_discount(database: TestDatabase) {
    // Arrange: $1,500.00 owed; a manager settles for $1,000.00 in one payment, forgiving
    // $300.00 of the rest once it is paid.
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170012", 3, date(2026, 11, 20)).await;
    let mut manager = clinic.collections().client(Role::Manager).await;
    let plan = manager
        .create_payment_plan(pb::CreatePaymentPlanRequest {
            plan: Some(pb::PaymentPlan {
                patient_id: patient.clone(),
                total: Some(mxn(100_000)),
                instalment_count: 1,
                frequency: pb::PaymentPlanFrequency::Weekly as i32,
                first_date: Some(date(2026, 11, 23)),
                settlement_discount: Some(mxn(30_000)),
                ..Default::default()
            }),
            request_id: "plan-settled".into(),
            agreed_time: None,
        })
        .await
        .expect("agreed")
        .into_inner();

    // Act
    clinic.pay(&patient, 100_000, "settlement-payment").await;
    let settled = crate::eventually("the settlement is written off", || {
        let mut manager = manager.clone();
        let plan_id = plan.plan_id.clone();
        async move {
            let plan = manager
                .get_payment_plan(pb::GetPaymentPlanRequest {
                    plan_id,
                    patient_id: String::new(),
                })
                .await
                .expect("found")
                .into_inner();
            plan.settle_time.is_some().then_some(plan)
        }
    })
    .await;
    let status = clinic.caught_up().await;
    let in_billing = clinic
        .billing(Role::Manager)
        .await
        .get_account_balance(billing::GetAccountBalanceRequest {
            patient_id: patient.clone(),
            identity: None,
        })
        .await
        .expect("answered")
        .into_inner();
    let receivables = manager
        .list_receivables(pb::ListReceivablesRequest { page: None })
        .await
        .expect("listed")
        .into_inner();

    // Assert
    assert_eq!(plan.discount_approved_by, "manager:tester");
    assert!(settled.settle_time.is_some());
    assert_eq!(
        in_billing.balance,
        Some(mxn(20_000)),
        "$300.00 written off once"
    );
    assert_eq!(receivables.total_open, Some(mxn(20_000)));
    assert!(status.applied_sequence >= 3);
}

async fn free_text_with_a_control_character_is_refused_naming_its_field(database: TestDatabase) {
    // Arrange: an account that may be escalated and assigned, so the text would reach the
    // database (PostgreSQL cannot store a NUL).
    let clinic = TestClinic::start(database).await;
    let patient = owing(&clinic, "+525511170031", 1, date(2026, 8, 1)).await;
    let mut manager = clinic.collections().client(Role::Manager).await;

    // Act
    let escalation = manager
        .escalate_account(pb::EscalateAccountRequest {
            reason: "Sin respuesta\0".into(),
            ..escalate(&patient, pb::EscalationTarget::Manager, "e-nul")
        })
        .await
        .expect_err("refused");
    let assignment = manager
        .assign_account(pb::AssignAccountRequest {
            patient_id: patient.clone(),
            collector: "collections:\0ana".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    for (status, field) in [(&escalation, "reason"), (&assignment, "collector")] {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(violated_fields(status), [field]);
    }
}
