//! The worklist over real gRPC: ranked by the documented score, only accounts on which some
//! contact is allowed now, and assignable to collectors.

use chrono::{DateTime, Utc};
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::collections::v1 as pb;
use clinic_proto::patients::v1::ContactConsent;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, date, eventually};

backend_tests!(
    the_worklist_ranks_by_score_and_leaves_out_accounts_nobody_may_contact_now,
    after_hours_only_letters_remain_and_a_collector_sees_the_accounts_assigned_to_them,
    only_managers_assign_accounts_that_exist_and_bad_fields_are_named,
);

fn every_channel() -> ContactConsent {
    ContactConsent {
        sms: true,
        whatsapp: true,
        email: true,
        phone_call: true,
    }
}

fn worklist_request(collector: &str) -> pb::ListWorklistRequest {
    pb::ListWorklistRequest {
        as_of: None,
        collector: collector.into(),
        page: None,
    }
}

async fn worklist(clinic: &TestClinic, collector: &str) -> Vec<pb::WorklistItem> {
    clinic
        .collections()
        .client(Role::Collections)
        .await
        .list_worklist(worklist_request(collector))
        .await
        .expect("listed")
        .into_inner()
        .items
}

/// (patient id, score) in worklist order.
fn ranking(items: &[pb::WorklistItem]) -> Vec<(String, i64)> {
    items
        .iter()
        .map(|item| (item.patient_id.clone(), item.score))
        .collect()
}

/// Three reachable patients in Mexico City: `older` owes one consultation from Oct 23 (30 days
/// past due), `larger` three from Nov 20, `ceased` two and asked not to be contacted. Waits
/// until the registry has described them all.
async fn three_accounts(clinic: &TestClinic) -> (String, String, String) {
    let older = clinic
        .register_reachable("+525511140001", "America/Mexico_City", every_channel())
        .await;
    let larger = clinic
        .register_reachable("+525511140002", "America/Mexico_City", every_channel())
        .await;
    let ceased = clinic
        .register_reachable("+525511140003", "America/Mexico_City", every_channel())
        .await;
    clinic.price_consultation().await;
    clinic.charge(&older, 1, date(2026, 10, 23)).await;
    clinic.charge(&larger, 3, date(2026, 11, 20)).await;
    clinic.charge(&ceased, 2, date(2026, 11, 21)).await;
    clinic
        .collections()
        .client(Role::Collections)
        .await
        .record_contact(pb::RecordContactRequest {
            contact: Some(pb::Contact {
                patient_id: ceased.clone(),
                channel: pb::ContactChannel::PhoneCall as i32,
                direction: pb::ContactDirection::Inbound as i32,
                kind: pb::ContactKind::Conversation as i32,
                outcome: pb::ContactOutcome::CeaseRequested as i32,
                ..Default::default()
            }),
            request_id: "cease-1".into(),
        })
        .await
        .expect("recorded");
    clinic.caught_up().await;
    eventually(
        "the registry has described every account holder",
        || async {
            let items = worklist(clinic, "").await;
            (items.len() == 2 && items.iter().all(|item| !item.patient_name.is_empty()))
                .then_some(())
        },
    )
    .await;
    (older, larger, ceased)
}

async fn the_worklist_ranks_by_score_and_leaves_out_accounts_nobody_may_contact_now(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let (older, larger, _ceased) = three_accounts(&clinic).await;
    let before = worklist(&clinic, "").await;

    // Act: a collector calls the top account; nobody answers.
    clinic
        .collections()
        .client(Role::Collections)
        .await
        .record_contact(pb::RecordContactRequest {
            contact: Some(pb::Contact {
                patient_id: older.clone(),
                channel: pb::ContactChannel::PhoneCall as i32,
                direction: pb::ContactDirection::Outbound as i32,
                kind: pb::ContactKind::Attempt as i32,
                outcome: pb::ContactOutcome::NoAnswer as i32,
                ..Default::default()
            }),
            request_id: "call-older-1".into(),
        })
        .await
        .expect("recorded");
    let after = worklist(&clinic, "").await;

    // Assert: older = 50 (balance) + 150 (30 days) + 300 (never contacted) + 15 (risk: never
    // paid) = 515; larger = 150 + 10 + 300 + 15 = 475; after the call older loses its 300
    // contact points.
    assert_eq!(
        ranking(&before),
        [(older.clone(), 515), (larger.clone(), 475)]
    );
    assert_eq!(before[0].days_past_due, 30);
    assert_eq!(before[0].last_contact_time, None);
    assert_eq!(
        before[0].allowed_channels,
        [
            pb::ContactChannel::PhoneCall as i32,
            pb::ContactChannel::Whatsapp as i32,
            pb::ContactChannel::Sms as i32,
            pb::ContactChannel::Email as i32,
            pb::ContactChannel::Letter as i32,
        ]
    );
    assert_eq!(ranking(&after), [(larger, 475), (older, 215)]);
    assert!(after[1].last_contact_time.is_some());
}

async fn after_hours_only_letters_remain_and_a_collector_sees_the_accounts_assigned_to_them(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let (older, _larger, _ceased) = three_accounts(&clinic).await;
    let mut manager = clinic.collections().client(Role::Manager).await;
    let assigned = manager
        .assign_account(pb::AssignAccountRequest {
            patient_id: older.clone(),
            collector: "collections:ana".into(),
        })
        .await
        .expect("assigned")
        .into_inner();

    // Act
    let anas = worklist(&clinic, "collections:ana").await;
    let luis = worklist(&clinic, "collections:luis").await;
    let late: DateTime<Utc> = "2026-11-23T04:00:00Z".parse().expect("valid"); // 22:00 local
    clinic.clock.set(late);
    let after_hours = worklist(&clinic, "").await;
    manager
        .assign_account(pb::AssignAccountRequest {
            patient_id: older.clone(),
            collector: String::new(),
        })
        .await
        .expect("unassigned");
    let anas_after_unassigning = worklist(&clinic, "collections:ana").await;

    // Assert
    assert_eq!(assigned.collector, "collections:ana");
    assert_eq!(anas.len(), 1);
    assert_eq!(anas[0].patient_id, older);
    assert_eq!(anas[0].collector, "collections:ana");
    assert!(luis.is_empty());
    assert_eq!(after_hours.len(), 2);
    for item in &after_hours {
        assert_eq!(
            item.allowed_channels,
            [pb::ContactChannel::Letter as i32],
            "letters are not bound by contact hours"
        );
    }
    assert!(anas_after_unassigning.is_empty());
}

async fn only_managers_assign_accounts_that_exist_and_bad_fields_are_named(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let assign = |patient_id: String| pb::AssignAccountRequest {
        patient_id,
        collector: "collections:ana".into(),
    };
    let stranger = clinic_common::ids::PatientId::new().to_string();

    // Act
    let by_collector = clinic
        .collections()
        .client(Role::Collections)
        .await
        .assign_account(assign(stranger.clone()))
        .await
        .expect_err("refused");
    let mut manager = clinic.collections().client(Role::Manager).await;
    let unknown = manager
        .assign_account(assign(stranger))
        .await
        .expect_err("refused");
    let invalid = manager
        .assign_account(pb::AssignAccountRequest {
            patient_id: "nobody".into(),
            collector: "c".repeat(101),
        })
        .await
        .expect_err("refused");
    let listed_by_reception = clinic
        .collections()
        .client(Role::Reception)
        .await
        .list_worklist(worklist_request(""))
        .await
        .expect_err("refused");
    let bad_list = manager
        .list_worklist(pb::ListWorklistRequest {
            as_of: Some(date(2026, 0, 1)),
            collector: "c".repeat(101),
            page: None,
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(by_collector.code(), Code::PermissionDenied);
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&invalid), ["patient_id", "collector"]);
    assert_eq!(listed_by_reception.code(), Code::PermissionDenied);
    assert_eq!(violated_fields(&bad_list), ["as_of", "collector"]);
}
