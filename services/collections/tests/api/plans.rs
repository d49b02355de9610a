//! Payment plans over real gRPC: a schedule that sums exactly, payments billing records
//! afterwards filling it oldest line first, missed and partly paid instalments, one plan per
//! account.

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
    a_plan_schedules_equal_instalments_and_payments_fill_the_oldest_line_first,
    one_plan_per_account_within_the_balance_and_a_retry_returns_the_first,
    create_payment_plan_names_every_bad_field_and_writes_nothing,
    only_collections_staff_and_managers_handle_payment_plans,
);

/// $1,000.00 with $100.00 down and 7 weekly instalments from Nov 30.
fn plan_request(patient_id: &str, total: i64, request_id: &str) -> pb::CreatePaymentPlanRequest {
    pb::CreatePaymentPlanRequest {
        plan: Some(pb::PaymentPlan {
            patient_id: patient_id.into(),
            total: Some(mxn(total)),
            down_payment: Some(mxn(10_000)),
            instalment_count: 7,
            frequency: pb::PaymentPlanFrequency::Weekly as i32,
            first_date: Some(date(2026, 11, 30)),
            ..Default::default()
        }),
        request_id: request_id.into(),
        agreed_time: None,
    }
}

/// A patient owing three $500.00 consultations from Nov 20, as collections sees them.
async fn an_account(clinic: &TestClinic) -> String {
    let patient = clinic.register("Ana", "Pérez", "+525511160001").await;
    clinic.price_consultation().await;
    clinic.charge(&patient, 3, date(2026, 11, 20)).await;
    clinic.caught_up().await;
    patient
}

fn lines(plan: &pb::PaymentPlan) -> Vec<(i32, i64, i64, i32)> {
    plan.schedule
        .iter()
        .map(|line| {
            (
                line.number,
                line.amount.as_ref().map_or(0, |money| money.minor_units),
                line.amount_paid
                    .as_ref()
                    .map_or(0, |money| money.minor_units),
                line.status,
            )
        })
        .collect()
}

async fn a_plan_schedules_equal_instalments_and_payments_fill_the_oldest_line_first(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient = an_account(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;

    // Act: the plan is agreed on Nov 22; $350.00 is paid; then it is Dec 15.
    let created = collector
        .create_payment_plan(plan_request(&patient, 100_000, "plan-1"))
        .await
        .expect("created")
        .into_inner();
    clinic.pay(&patient, 35_000, "pay-plan-1").await;
    clinic.caught_up().await;
    clinic.advance(TimeDelta::days(23));
    let on_dec_15 = collector
        .get_payment_plan(pb::GetPaymentPlanRequest {
            patient_id: patient.clone(),
            plan_id: String::new(),
        })
        .await
        .expect("found")
        .into_inner();

    // Assert: 900.00 in 7 is 128.57 each, the last 128.58; the whole sums to 1,000.00.
    let (due, paid, partly, missed) = (
        pb::InstalmentStatus::Due as i32,
        pb::InstalmentStatus::Paid as i32,
        pb::InstalmentStatus::PartlyPaid as i32,
        pb::InstalmentStatus::Missed as i32,
    );
    assert_eq!(
        lines(&created),
        [
            (0, 10_000, 0, due),
            (1, 12_857, 0, due),
            (2, 12_857, 0, due),
            (3, 12_857, 0, due),
            (4, 12_857, 0, due),
            (5, 12_857, 0, due),
            (6, 12_857, 0, due),
            (7, 12_858, 0, due),
        ]
    );
    assert_eq!(created.schedule[0].due_date, Some(date(2026, 11, 22)));
    assert_eq!(created.schedule[1].due_date, Some(date(2026, 11, 30)));
    assert_eq!(created.schedule[7].due_date, Some(date(2027, 1, 11)));
    assert_eq!(created.created_by, "collections:tester");
    // $350.00 pays the down payment and instalment 1, and 121.43 of instalment 2 (due Dec 7);
    // instalment 3 (due Dec 14) got nothing; instalment 4 is due Dec 21.
    assert_eq!(
        lines(&on_dec_15)[..5],
        [
            (0, 10_000, 10_000, paid),
            (1, 12_857, 12_857, paid),
            (2, 12_857, 12_143, partly),
            (3, 12_857, 0, missed),
            (4, 12_857, 0, due),
        ]
    );
    assert_eq!(on_dec_15.plan_id, created.plan_id);
}

async fn one_plan_per_account_within_the_balance_and_a_retry_returns_the_first(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient = an_account(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;

    // Act
    let too_much = collector
        .create_payment_plan(plan_request(&patient, 150_001, "plan-too-much"))
        .await
        .expect_err("over the balance");
    let first = collector
        .create_payment_plan(plan_request(&patient, 150_000, "plan-1"))
        .await
        .expect("the whole balance")
        .into_inner();
    let retried = collector
        .create_payment_plan(plan_request(&patient, 150_000, "plan-1"))
        .await
        .expect("retried")
        .into_inner();
    let reused = collector
        .create_payment_plan(plan_request(&patient, 140_000, "plan-1"))
        .await
        .expect_err("a different request");
    let second = collector
        .create_payment_plan(plan_request(&patient, 100_000, "plan-2"))
        .await
        .expect_err("one plan per account");
    let by_id = collector
        .get_payment_plan(pb::GetPaymentPlanRequest {
            plan_id: first.plan_id.clone(),
            patient_id: String::new(),
        })
        .await
        .expect("found")
        .into_inner();

    // Assert
    assert_eq!(too_much.code(), Code::FailedPrecondition);
    assert_eq!(
        too_much
            .get_error_details()
            .error_info()
            .expect("error info")
            .reason,
        "PLAN_EXCEEDS_BALANCE"
    );
    assert_eq!(retried, first);
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_eq!(second.code(), Code::AlreadyExists);
    assert_eq!(by_id, first);
}

async fn create_payment_plan_names_every_bad_field_and_writes_nothing(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient = an_account(&clinic).await;
    let mut collector = clinic.collections().client(Role::Collections).await;
    let everything_wrong = pb::CreatePaymentPlanRequest {
        plan: Some(pb::PaymentPlan {
            patient_id: "not-a-patient".into(),
            total: Some(mxn(0)),
            down_payment: Some(Money {
                minor_units: 100,
                currency_code: "USD".into(),
            }),
            instalment_count: 25,
            frequency: pb::PaymentPlanFrequency::Unspecified as i32,
            first_date: Some(date(2026, 11, 21)),
            ..Default::default()
        }),
        request_id: String::new(),
        agreed_time: None,
    };
    let mut down_too_big = plan_request(&patient, 10_000, "plan-down");
    if let Some(plan) = down_too_big.plan.as_mut() {
        plan.instalment_count = 0;
        plan.first_date = Some(date(2027, 2, 21));
    }

    // Act
    let invalid = collector
        .create_payment_plan(everything_wrong)
        .await
        .expect_err("invalid");
    let also_invalid = collector
        .create_payment_plan(down_too_big)
        .await
        .expect_err("invalid");
    let neither = collector
        .get_payment_plan(pb::GetPaymentPlanRequest::default())
        .await
        .expect_err("invalid");
    let none_yet = collector
        .get_payment_plan(pb::GetPaymentPlanRequest {
            patient_id: patient.clone(),
            plan_id: String::new(),
        })
        .await
        .expect_err("no plan");

    // Assert
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&invalid),
        [
            "request_id",
            "plan.patient_id",
            "plan.total",
            "plan.down_payment",
            "plan.instalment_count",
            "plan.frequency",
            "plan.first_date",
        ]
    );
    assert_eq!(
        violated_fields(&also_invalid),
        [
            "plan.down_payment",
            "plan.instalment_count",
            "plan.first_date"
        ]
    );
    assert_eq!(violated_fields(&neither), ["plan_id", "patient_id"]);
    assert_eq!(none_yet.code(), Code::NotFound);
}

async fn only_collections_staff_and_managers_handle_payment_plans(database: TestDatabase) {
    let collections = TestCollections::alone(database).await;
    let mut anonymous = CollectionsServiceClient::new(collections.service.channel().await);
    let request = plan_request("7f1d1c1e-2b43-4a4e-9a7e-0d7c3b9f1a10", 100_000, "plan-anon");
    let lookup = pb::GetPaymentPlanRequest {
        plan_id: String::new(),
        patient_id: "7f1d1c1e-2b43-4a4e-9a7e-0d7c3b9f1a10".into(),
    };

    let unauthenticated = anonymous
        .create_payment_plan(request.clone())
        .await
        .expect_err("refused");
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    for role in [Role::Kiosk, Role::Reception, Role::Service] {
        let mut client = collections.client(role).await;
        let created = client
            .create_payment_plan(request.clone())
            .await
            .expect_err("refused");
        let got = client
            .get_payment_plan(lookup.clone())
            .await
            .expect_err("refused");
        assert_eq!(
            created.code(),
            Code::PermissionDenied,
            "{role} may not create"
        );
        assert_eq!(got.code(), Code::PermissionDenied, "{role} may not read");
    }
    for role in [Role::Collections, Role::Manager] {
        let got = collections
            .client(role)
            .await
            .get_payment_plan(lookup.clone())
            .await
            .expect_err("no such plan");
        assert_eq!(got.code(), Code::NotFound, "{role} may look");
    }
}
