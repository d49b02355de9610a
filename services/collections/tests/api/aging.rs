//! Aging over real gRPC: buckets by days past due, on any day, with the clinic's payment terms.

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::collections::v1 as pb;
use clinic_proto::common::v1::{Date, PageRequest};
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{POLL_INTERVAL_MS, TestClinic, date, eventually, mxn};

backend_tests!(
    aging_buckets_each_open_charge_by_days_past_its_due_day,
    aging_on_a_past_day_leaves_out_later_charges_and_later_payments,
    payment_terms_move_the_due_day_for_aging_and_the_receivables_list,
    aging_totals_every_account_while_paging_them_or_ages_one_patient,
    aging_names_every_bad_field_and_admits_only_collections_staff_and_managers,
);

fn aging_request(as_of: Option<Date>, patient_id: &str) -> pb::GetAgingRequest {
    pb::GetAgingRequest {
        as_of,
        patient_id: patient_id.into(),
        page: None,
    }
}

async fn aging(clinic: &TestClinic, request: pb::GetAgingRequest) -> pb::GetAgingResponse {
    clinic
        .collections()
        .client(Role::Collections)
        .await
        .get_aging(request)
        .await
        .expect("aged")
        .into_inner()
}

/// Buckets from minor units: not yet due, 0–30, 31–60, 61–90, 91–120, over 120.
fn buckets(amounts: [i64; 6]) -> pb::AgingBuckets {
    pb::AgingBuckets {
        not_yet_due: Some(mxn(amounts[0])),
        days_0_to_30: Some(mxn(amounts[1])),
        days_31_to_60: Some(mxn(amounts[2])),
        days_61_to_90: Some(mxn(amounts[3])),
        days_91_to_120: Some(mxn(amounts[4])),
        over_120_days: Some(mxn(amounts[5])),
        total: Some(mxn(amounts.iter().sum())),
    }
}

async fn aging_buckets_each_open_charge_by_days_past_its_due_day(database: TestDatabase) {
    // Arrange: today is 2026-11-22 in the clinic; charges are due on their service day (billing
    // takes no charge for a future day, so "not yet due" needs payment terms: see below).
    let clinic = TestClinic::start(database).await;
    let ana = clinic.register("Ana", "Ruiz", "+525511120001").await;
    clinic.price_consultation().await;
    clinic.charge(&ana, 1, date(2026, 11, 22)).await; // day 0
    clinic.charge(&ana, 1, date(2026, 10, 23)).await; // day 30
    clinic.charge(&ana, 2, date(2026, 10, 22)).await; // day 31
    clinic.charge(&ana, 3, date(2026, 7, 25)).await; // day 120
    clinic.charge(&ana, 4, date(2026, 7, 24)).await; // day 121
    clinic.caught_up().await;

    // Act
    let aged = aging(&clinic, aging_request(Some(date(2026, 11, 22)), "")).await;
    let listed = clinic
        .collections()
        .client(Role::Collections)
        .await
        .list_receivables(pb::ListReceivablesRequest { page: None })
        .await
        .expect("listed")
        .into_inner();

    // Assert
    let expected = buckets([0, 100_000, 100_000, 0, 150_000, 200_000]);
    assert_eq!(aged.total, Some(expected.clone()));
    let [account] = &aged.accounts[..] else {
        panic!("one account owes, got {:?}", aged.accounts);
    };
    assert_eq!(account.patient_id, ana);
    assert_eq!(account.buckets, Some(expected));
    assert_eq!(account.days_past_due, 121);
    assert_eq!(aged.as_of, Some(date(2026, 11, 22)));
    assert_eq!(aged.as_of_sequence, 5);
    assert_eq!(listed.accounts[0].days_past_due, 121);
}

async fn aging_on_a_past_day_leaves_out_later_charges_and_later_payments(database: TestDatabase) {
    // Arrange: a charge posted on the 22nd; on the 23rd a part payment and a new charge.
    let clinic = TestClinic::start(database).await;
    let ana = clinic.register("Ana", "Ruiz", "+525511120002").await;
    clinic.price_consultation().await;
    clinic.charge(&ana, 1, date(2026, 11, 1)).await;
    clinic.advance(TimeDelta::days(1));
    clinic.pay(&ana, 20_000, "pay-ana-aging").await;
    clinic.charge(&ana, 1, date(2026, 11, 23)).await;
    clinic.caught_up().await;

    // Act
    let before_anything = aging(&clinic, aging_request(Some(date(2026, 11, 21)), "")).await;
    let on_the_22nd = aging(&clinic, aging_request(Some(date(2026, 11, 22)), "")).await;
    let on_the_23rd = aging(&clinic, aging_request(Some(date(2026, 11, 23)), "")).await;
    let today = aging(&clinic, aging_request(None, "")).await;

    // Assert
    assert!(before_anything.accounts.is_empty());
    assert_eq!(before_anything.total, Some(buckets([0; 6])));
    assert_eq!(
        on_the_22nd.total,
        Some(buckets([0, 50_000, 0, 0, 0, 0])),
        "neither the payment nor the second charge had happened"
    );
    assert_eq!(on_the_22nd.accounts[0].days_past_due, 21);
    assert_eq!(on_the_23rd.total, Some(buckets([0, 80_000, 0, 0, 0, 0])));
    assert_eq!(on_the_23rd.accounts[0].days_past_due, 22);
    assert_eq!(today.as_of, Some(date(2026, 11, 23)));
    assert_eq!(today.total, on_the_23rd.total);
}

async fn payment_terms_move_the_due_day_for_aging_and_the_receivables_list(database: TestDatabase) {
    // Arrange: 30-day terms; Luis was seen on Nov 1 (due Dec 1), Ana on Oct 1 (due Oct 31).
    let mut clinic = TestClinic::start_upstream(database).await;
    clinic
        .start_collections_with_terms(POLL_INTERVAL_MS, 30)
        .await;
    let ana = clinic.register("Ana", "Ruiz", "+525511120003").await;
    let luis = clinic.register("Luis", "Pérez", "+525511120004").await;
    clinic.price_consultation().await;
    clinic.charge(&luis, 2, date(2026, 11, 1)).await;
    clinic.charge(&ana, 1, date(2026, 10, 1)).await;
    clinic.caught_up().await;

    // Act
    let aged = aging(&clinic, aging_request(None, "")).await;
    let listed = clinic
        .collections()
        .client(Role::Manager)
        .await
        .list_receivables(pb::ListReceivablesRequest { page: None })
        .await
        .expect("listed")
        .into_inner();

    // Assert
    assert_eq!(aged.total, Some(buckets([100_000, 50_000, 0, 0, 0, 0])));
    let days: Vec<(String, i32)> = listed
        .accounts
        .iter()
        .map(|account| (account.patient_id.clone(), account.days_past_due))
        .collect();
    assert_eq!(days, [(luis, -9), (ana, 22)]);
}

async fn aging_totals_every_account_while_paging_them_or_ages_one_patient(database: TestDatabase) {
    // Arrange: three patients owing 1, 3 and 2 consultations; names arrive from the registry.
    let clinic = TestClinic::start(database).await;
    clinic.price_consultation().await;
    let mut patients = Vec::new();
    for (index, quantity) in [1, 3, 2].into_iter().enumerate() {
        let patient = clinic
            .register(
                "Paciente",
                &format!("Aging{index}"),
                &format!("+52551112010{index}"),
            )
            .await;
        clinic.charge(&patient, quantity, date(2026, 11, 20)).await;
        patients.push(patient);
    }
    clinic.caught_up().await;
    eventually("every account holder is named", || async {
        let aged = aging(&clinic, aging_request(None, "")).await;
        aged.accounts
            .iter()
            .all(|account| !account.patient_name.is_empty())
            .then_some(())
    })
    .await;

    // Act
    let page = |token: String| pb::GetAgingRequest {
        as_of: None,
        patient_id: String::new(),
        page: Some(PageRequest {
            page_size: 2,
            page_token: token,
        }),
    };
    let first = aging(&clinic, page(String::new())).await;
    let second = aging(&clinic, page(first.next_page_token.clone())).await;
    let one = aging(&clinic, aging_request(None, &patients[2])).await;

    // Assert
    let ids = |response: &pb::GetAgingResponse| -> Vec<String> {
        response
            .accounts
            .iter()
            .map(|account| account.patient_id.clone())
            .collect()
    };
    assert_eq!(ids(&first), [patients[1].clone(), patients[2].clone()]);
    assert_eq!(ids(&second), [patients[0].clone()]);
    assert_eq!(second.next_page_token, "");
    assert_eq!(first.accounts[0].patient_name, "Paciente Aging1");
    for response in [&first, &second] {
        assert_eq!(response.total, Some(buckets([0, 300_000, 0, 0, 0, 0])));
    }
    assert_eq!(ids(&one), [patients[2].clone()]);
    assert_eq!(one.total, Some(buckets([0, 100_000, 0, 0, 0, 0])));
}

async fn aging_names_every_bad_field_and_admits_only_collections_staff_and_managers(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let bad = pb::GetAgingRequest {
        as_of: Some(date(2026, 13, 1)),
        patient_id: "nobody".into(),
        page: Some(PageRequest {
            page_size: -1,
            page_token: String::new(),
        }),
    };

    // Act
    let invalid = clinic
        .collections()
        .client(Role::Manager)
        .await
        .get_aging(bad)
        .await
        .expect_err("refused");
    let mut refusals = Vec::new();
    for role in [Role::Reception, Role::Kiosk, Role::Service] {
        refusals.push(
            clinic
                .collections()
                .client(role)
                .await
                .get_aging(aging_request(None, ""))
                .await
                .expect_err("refused")
                .code(),
        );
    }
    let mut anonymous = pb::collections_service_client::CollectionsServiceClient::new(
        clinic.collections().service.channel().await,
    );
    let unauthenticated = anonymous
        .get_aging(aging_request(None, ""))
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&invalid), ["as_of", "patient_id", "page"]);
    assert_eq!(refusals, [Code::PermissionDenied; 3]);
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
}
