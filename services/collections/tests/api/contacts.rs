//! The contact log and the contact rules over real gRPC, with contact profiles from a real
//! registry and a fixed clock: each rule refuses exactly at its edge, with its code in the
//! status, and a refused contact leaves no trace.

use chrono::{DateTime, TimeDelta, Utc};
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::collections::v1 as pb;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::patients::v1::ContactConsent;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::{TestClinic, date};

backend_tests!(
    contact_hours_end_at_their_edges_in_the_patient_s_own_time_zone,
    the_eighth_call_in_seven_days_is_refused_until_the_first_leaves_the_window,
    inbound_calls_are_always_recorded_and_never_count_against_the_rules,
    a_call_six_days_after_a_conversation_is_refused_and_seven_days_after_allowed,
    cease_and_refusal_end_outreach_but_still_allow_a_permitted_notice,
    a_dispute_holds_outreach_until_a_manager_resolves_it,
    a_channel_the_patient_did_not_consent_to_is_refused,
    the_contact_log_lists_every_field_oldest_first,
    a_retried_contact_is_recorded_once_and_a_reused_request_id_is_refused,
    record_contact_names_every_bad_field_and_unknown_patients_are_not_found,
    only_collections_staff_and_managers_work_contacts_and_only_managers_resolve_disputes,
    listing_checking_and_resolving_name_every_bad_field,
    a_clinic_s_own_contact_hours_and_call_limit_replace_the_defaults,
    an_outcome_that_does_not_fit_the_channel_is_refused_and_nothing_is_written,
);

const MEXICO_CITY: &str = "America/Mexico_City";
const LOS_ANGELES: &str = "America/Los_Angeles";

fn every_channel() -> ContactConsent {
    ContactConsent {
        sms: true,
        whatsapp: true,
        email: true,
        phone_call: true,
    }
}

fn instant(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("a valid instant")
}

/// An outbound outreach call nobody answered.
fn unanswered_call(patient_id: &str) -> pb::Contact {
    pb::Contact {
        patient_id: patient_id.into(),
        channel: pb::ContactChannel::PhoneCall as i32,
        direction: pb::ContactDirection::Outbound as i32,
        kind: pb::ContactKind::Attempt as i32,
        outcome: pb::ContactOutcome::NoAnswer as i32,
        ..Default::default()
    }
}

/// An outreach message left on another channel (or as a voicemail).
fn outreach(patient_id: &str, channel: pb::ContactChannel) -> pb::Contact {
    pb::Contact {
        channel: channel as i32,
        outcome: pb::ContactOutcome::LeftMessage as i32,
        ..unanswered_call(patient_id)
    }
}

/// A permitted notice by letter.
fn notice_letter(patient_id: &str) -> pb::Contact {
    pb::Contact {
        purpose: pb::ContactPurpose::PermittedNotice as i32,
        outcome: pb::ContactOutcome::LeftMessage as i32,
        ..outreach(patient_id, pb::ContactChannel::Letter)
    }
}

/// A call the patient made and talked in, ending with `outcome`.
fn inbound_conversation(patient_id: &str, outcome: pb::ContactOutcome) -> pb::Contact {
    pb::Contact {
        direction: pb::ContactDirection::Inbound as i32,
        kind: pb::ContactKind::Conversation as i32,
        outcome: outcome as i32,
        ..unanswered_call(patient_id)
    }
}

/// Records contacts as a collector, each with a fresh request id.
struct Desk {
    client: crate::Client,
    recorded: u32,
}

impl Desk {
    async fn open(clinic: &TestClinic) -> Desk {
        Desk {
            client: clinic.collections().client(Role::Collections).await,
            recorded: 0,
        }
    }

    async fn record(&mut self, contact: pb::Contact) -> Result<pb::Contact, Status> {
        self.recorded += 1;
        self.client
            .record_contact(pb::RecordContactRequest {
                contact: Some(contact),
                request_id: format!("contact-{}", self.recorded),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// The rule code of a refusal, or "ALLOWED" when the contact was recorded.
    async fn verdict(&mut self, contact: pb::Contact) -> String {
        match self.record(contact).await {
            Ok(_) => "ALLOWED".into(),
            Err(status) => rule_of(&status),
        }
    }

    async fn check(&mut self, patient_id: &str, channel: pb::ContactChannel) -> String {
        let answer = self
            .client
            .check_contact(pb::CheckContactRequest {
                patient_id: patient_id.into(),
                channel: channel as i32,
                purpose: pb::ContactPurpose::Outreach as i32,
            })
            .await
            .expect("checked")
            .into_inner();
        if answer.allowed {
            "ALLOWED".into()
        } else {
            answer
                .rule()
                .as_str_name()
                .trim_start_matches("CONTACT_RULE_")
                .to_owned()
        }
    }

    async fn log(&mut self, patient_id: &str) -> Vec<pb::Contact> {
        self.client
            .list_contacts(pb::ListContactsRequest {
                patient_id: patient_id.into(),
                page: None,
            })
            .await
            .expect("listed")
            .into_inner()
            .contacts
    }
}

/// The rule code a refusal carries in its `ErrorInfo`, checking it is a FAILED_PRECONDITION from
/// this service.
fn rule_of(status: &Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let info = status
        .get_error_details()
        .error_info()
        .cloned()
        .expect("a refusal carries ErrorInfo");
    assert_eq!(info.domain, "clinic.collections");
    info.reason
}

async fn contact_hours_end_at_their_edges_in_the_patient_s_own_time_zone(database: TestDatabase) {
    // Arrange: one patient in Mexico City (UTC-6 in November), one in Los Angeles (UTC-8).
    let clinic = TestClinic::start(database).await;
    let mexico = clinic
        .register_reachable("+525511130001", MEXICO_CITY, every_channel())
        .await;
    let los_angeles = clinic
        .register_reachable("+13105550101", LOS_ANGELES, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    let edges = [
        (&mexico, "2026-11-23T13:59:00Z", "CONTACT_HOURS"), // 07:59 in Mexico City
        (&mexico, "2026-11-23T14:00:00Z", "ALLOWED"),       // 08:00
        (&los_angeles, "2026-11-23T14:00:00Z", "CONTACT_HOURS"), // 06:00 in Los Angeles
        (&mexico, "2026-11-24T02:59:00Z", "ALLOWED"),       // 20:59
        (&mexico, "2026-11-24T03:00:00Z", "CONTACT_HOURS"), // 21:00
        (&los_angeles, "2026-11-23T15:59:00Z", "CONTACT_HOURS"), // 07:59 in Los Angeles
        (&los_angeles, "2026-11-23T16:00:00Z", "ALLOWED"),  // 08:00
        (&los_angeles, "2026-11-24T04:59:00Z", "ALLOWED"),  // 20:59
        (&los_angeles, "2026-11-24T05:00:00Z", "CONTACT_HOURS"), // 21:00
    ];

    // Act
    let mut verdicts = Vec::new();
    for (patient_id, at, _) in edges {
        clinic.clock.set(instant(at));
        let checked = desk.check(patient_id, pb::ContactChannel::Sms).await;
        let recorded = desk.verdict(unanswered_call(patient_id)).await;
        verdicts.push((checked, recorded));
    }

    // Assert
    for ((patient_id, at, expected), (checked, recorded)) in edges.iter().zip(&verdicts) {
        assert_eq!(recorded, expected, "a call to {patient_id} at {at}");
        assert_eq!(checked, expected, "checking an SMS to {patient_id} at {at}");
    }
    assert_eq!(
        desk.log(&mexico).await.len(),
        2,
        "refused calls leave no trace"
    );
    assert_eq!(desk.log(&los_angeles).await.len(), 2);
}

async fn the_eighth_call_in_seven_days_is_refused_until_the_first_leaves_the_window(
    database: TestDatabase,
) {
    // Arrange: seven unanswered calls an hour apart from noon on the 22nd (Mexico City).
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130002", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    let first_call = instant("2026-11-22T18:00:00Z");
    for hour in 0..7 {
        clinic.clock.set(first_call + TimeDelta::hours(hour));
        desk.record(unanswered_call(&patient))
            .await
            .expect("within the limit");
    }

    // Act
    clinic.clock.set(first_call + TimeDelta::hours(7));
    let eighth = desk.verdict(unanswered_call(&patient)).await;
    clinic
        .clock
        .set(first_call + TimeDelta::days(7) - TimeDelta::seconds(1));
    let just_before_the_first_leaves = desk.verdict(unanswered_call(&patient)).await;
    let sms_meanwhile = desk
        .verdict(outreach(&patient, pb::ContactChannel::Sms))
        .await;
    clinic.clock.set(first_call + TimeDelta::days(7));
    let once_the_first_left = desk.verdict(unanswered_call(&patient)).await;

    // Assert
    assert_eq!(eighth, "CALL_FREQUENCY");
    assert_eq!(just_before_the_first_leaves, "CALL_FREQUENCY");
    assert_eq!(sms_meanwhile, "ALLOWED", "the limit is on calls");
    assert_eq!(once_the_first_left, "ALLOWED");
}

async fn inbound_calls_are_always_recorded_and_never_count_against_the_rules(
    database: TestDatabase,
) {
    // Arrange: six unanswered calls, then the patient calls back twice, once late at night, and
    // talks.
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130003", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    for _ in 0..6 {
        desk.record(unanswered_call(&patient))
            .await
            .expect("within the limit");
        clinic.advance(TimeDelta::minutes(10));
    }
    let returned_call = inbound_conversation(&patient, pb::ContactOutcome::Spoke);
    desk.record(returned_call.clone())
        .await
        .expect("inbound is recorded");
    clinic.clock.set(instant("2026-11-23T05:30:00Z")); // 23:30 in Mexico City
    let late_call = desk.record(returned_call).await;

    // Act: the next morning, the seventh outbound call.
    clinic.clock.set(instant("2026-11-23T15:00:00Z"));
    let seventh = desk.verdict(unanswered_call(&patient)).await;
    let eighth = desk.check(&patient, pb::ContactChannel::PhoneCall).await;

    // Assert
    assert!(late_call.is_ok(), "inbound contacts ignore contact hours");
    assert_eq!(
        seventh, "ALLOWED",
        "inbound calls are no attempts and start no quiet period"
    );
    assert_eq!(eighth, "CALL_FREQUENCY");
    assert_eq!(desk.log(&patient).await.len(), 9);
}

async fn a_call_six_days_after_a_conversation_is_refused_and_seven_days_after_allowed(
    database: TestDatabase,
) {
    // Arrange: a collector calls and talks with the patient at noon on the 22nd.
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130004", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    desk.record(pb::Contact {
        kind: pb::ContactKind::Conversation as i32,
        outcome: pb::ContactOutcome::Spoke as i32,
        ..unanswered_call(&patient)
    })
    .await
    .expect("recorded");

    // Act
    clinic.advance(TimeDelta::days(6));
    let six_days_after = desk.verdict(unanswered_call(&patient)).await;
    let whatsapp_meanwhile = desk
        .verdict(outreach(&patient, pb::ContactChannel::Whatsapp))
        .await;
    clinic.advance(TimeDelta::days(1));
    let seven_days_after = desk.verdict(unanswered_call(&patient)).await;

    // Assert
    assert_eq!(six_days_after, "AFTER_CONVERSATION");
    assert_eq!(
        whatsapp_meanwhile, "ALLOWED",
        "the quiet period is for calls"
    );
    assert_eq!(seven_days_after, "ALLOWED");
}

async fn cease_and_refusal_end_outreach_but_still_allow_a_permitted_notice(database: TestDatabase) {
    // Arrange: one patient asks by phone not to be contacted; another refuses to pay.
    let clinic = TestClinic::start(database).await;
    let ceased = clinic
        .register_reachable("+525511130005", MEXICO_CITY, every_channel())
        .await;
    let refusing = clinic
        .register_reachable("+525511130006", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    desk.record(inbound_conversation(
        &ceased,
        pb::ContactOutcome::CeaseRequested,
    ))
    .await
    .expect("recorded");
    desk.record(inbound_conversation(
        &refusing,
        pb::ContactOutcome::RefusedToPay,
    ))
    .await
    .expect("recorded");

    // Act
    let sms_after_cease = desk
        .verdict(outreach(&ceased, pb::ContactChannel::Sms))
        .await;
    let letter_after_cease = desk
        .verdict(outreach(&ceased, pb::ContactChannel::Letter))
        .await;
    let notice_after_cease = desk.verdict(notice_letter(&ceased)).await;
    let email_after_refusal = desk
        .verdict(outreach(&refusing, pb::ContactChannel::Email))
        .await;
    let notice_after_refusal = desk.verdict(notice_letter(&refusing)).await;

    // Assert
    assert_eq!(sms_after_cease, "CEASE_REQUESTED");
    assert_eq!(letter_after_cease, "CEASE_REQUESTED");
    assert_eq!(notice_after_cease, "ALLOWED");
    assert_eq!(email_after_refusal, "REFUSED_TO_PAY");
    assert_eq!(notice_after_refusal, "ALLOWED");
}

async fn a_dispute_holds_outreach_until_a_manager_resolves_it(database: TestDatabase) {
    // Arrange: the patient calls to dispute a charge.
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130007", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    desk.record(pb::Contact {
        billing_issue: pb::BillingIssue::WrongCharge as i32,
        ..inbound_conversation(&patient, pb::ContactOutcome::Disputed)
    })
    .await
    .expect("recorded");
    let held = desk.verdict(unanswered_call(&patient)).await;
    let answer_to_dispute = desk.verdict(notice_letter(&patient)).await;

    // Act
    let mut manager = clinic.collections().client(Role::Manager).await;
    let resolved = manager
        .resolve_dispute(pb::ResolveDisputeRequest {
            patient_id: patient.clone(),
        })
        .await
        .expect("resolved")
        .into_inner();
    let resolved_again = manager
        .resolve_dispute(pb::ResolveDisputeRequest {
            patient_id: patient.clone(),
        })
        .await
        .expect("resolving twice is harmless")
        .into_inner();
    let after_resolution = desk.verdict(unanswered_call(&patient)).await;

    // Assert
    assert_eq!(held, "DISPUTE_HOLD");
    assert_eq!(answer_to_dispute, "ALLOWED");
    assert_eq!(
        resolved,
        pb::ContactState {
            patient_id: patient.clone(),
            cease_requested: false,
            refused_to_pay: false,
            dispute_open: false,
        }
    );
    assert_eq!(resolved_again, resolved);
    assert_eq!(after_resolution, "ALLOWED");
}

async fn a_channel_the_patient_did_not_consent_to_is_refused(database: TestDatabase) {
    // Arrange: consent to calls only (and so no email on file).
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable(
            "+525511130008",
            MEXICO_CITY,
            ContactConsent {
                phone_call: true,
                ..Default::default()
            },
        )
        .await;
    let mut desk = Desk::open(&clinic).await;

    // Act
    let sms = desk
        .verdict(outreach(&patient, pb::ContactChannel::Sms))
        .await;
    let email = desk
        .verdict(outreach(&patient, pb::ContactChannel::Email))
        .await;
    let checked_sms = desk.check(&patient, pb::ContactChannel::Sms).await;
    let call = desk.verdict(unanswered_call(&patient)).await;

    // Assert
    assert_eq!(sms, "NO_CONSENT");
    assert_eq!(email, "NO_CONSENT");
    assert_eq!(checked_sms, "NO_CONSENT");
    assert_eq!(call, "ALLOWED");
}

async fn the_contact_log_lists_every_field_oldest_first(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130009", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    let first = desk
        .record(unanswered_call(&patient))
        .await
        .expect("recorded");
    let promise = pb::Contact {
        patient_id: patient.clone(),
        channel: pb::ContactChannel::Whatsapp as i32,
        direction: pb::ContactDirection::Inbound as i32,
        kind: pb::ContactKind::Conversation as i32,
        purpose: pb::ContactPurpose::Outreach as i32,
        outcome: pb::ContactOutcome::Promise as i32,
        notes: "Pagará el viernes; pidió factura con RFC.".into(),
        next_step: "Confirmar pago".into(),
        next_step_date: Some(date(2026, 11, 27)),
        billing_issue: pb::BillingIssue::Insurance as i32,
        ..Default::default()
    };

    // Act
    let second = desk.record(promise.clone()).await.expect("recorded");
    let log = desk.log(&patient).await;

    // Assert
    assert_eq!(log, [first.clone(), second.clone()]);
    assert_ne!(first.contact_id, second.contact_id);
    assert_eq!(
        second,
        pb::Contact {
            contact_id: second.contact_id.clone(),
            create_time: Some(clinic_proto::timestamp_to_proto(instant(
                "2026-11-22T18:00:00Z"
            ))),
            recorded_by: "collections:tester".into(),
            ..promise
        }
    );
    assert_eq!(first.purpose, pb::ContactPurpose::Outreach as i32);
}

async fn a_retried_contact_is_recorded_once_and_a_reused_request_id_is_refused(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130010", MEXICO_CITY, every_channel())
        .await;
    let mut collections = clinic.collections().client(Role::Collections).await;
    let request = pb::RecordContactRequest {
        contact: Some(unanswered_call(&patient)),
        request_id: "call-1".into(),
    };
    let first = collections
        .record_contact(request.clone())
        .await
        .expect("recorded")
        .into_inner();

    // Act: the retry arrives after hours, when a new call would be refused.
    clinic.clock.set(instant("2026-11-23T04:00:00Z"));
    let retried = collections
        .record_contact(request.clone())
        .await
        .expect("a retry gets the first result")
        .into_inner();
    let reused = collections
        .record_contact(pb::RecordContactRequest {
            contact: Some(inbound_conversation(&patient, pb::ContactOutcome::Spoke)),
            request_id: "call-1".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(retried, first);
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_eq!(Desk::open(&clinic).await.log(&patient).await, [first]);
}

async fn record_contact_names_every_bad_field_and_unknown_patients_are_not_found(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let mut collections = clinic.collections().client(Role::Collections).await;
    let bad = pb::RecordContactRequest {
        contact: Some(pb::Contact {
            patient_id: "someone".into(),
            channel: 0,
            direction: 9,
            kind: 0,
            purpose: 7,
            outcome: 0,
            notes: "x".repeat(2001),
            next_step: "y".repeat(201),
            next_step_date: Some(date(2026, 2, 30)),
            billing_issue: 42,
            ..Default::default()
        }),
        request_id: String::new(),
    };

    // Act
    let invalid = collections.record_contact(bad).await.expect_err("refused");
    let unknown = collections
        .record_contact(pb::RecordContactRequest {
            contact: Some(unanswered_call(
                &clinic_common::ids::PatientId::new().to_string(),
            )),
            request_id: "unknown-1".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&invalid),
        [
            "request_id",
            "contact.patient_id",
            "contact.channel",
            "contact.direction",
            "contact.kind",
            "contact.purpose",
            "contact.outcome",
            "contact.notes",
            "contact.next_step",
            "contact.next_step_date",
            "contact.billing_issue",
        ]
    );
    assert_eq!(unknown.code(), Code::NotFound);
}

async fn only_collections_staff_and_managers_work_contacts_and_only_managers_resolve_disputes(
    database: TestDatabase,
) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130011", MEXICO_CITY, every_channel())
        .await;
    let record = |request_id: &str| pb::RecordContactRequest {
        contact: Some(unanswered_call(&patient)),
        request_id: request_id.into(),
    };
    let list = pb::ListContactsRequest {
        patient_id: patient.clone(),
        page: None,
    };
    let check = pb::CheckContactRequest {
        patient_id: patient.clone(),
        channel: pb::ContactChannel::PhoneCall as i32,
        purpose: 0,
    };
    let resolve = pb::ResolveDisputeRequest {
        patient_id: patient.clone(),
    };

    // Act
    let mut codes = Vec::new();
    for role in [Role::Reception, Role::Kiosk, Role::Service] {
        let mut client = clinic.collections().client(role).await;
        codes.push(
            client
                .record_contact(record("r"))
                .await
                .err()
                .map(|s| s.code()),
        );
        codes.push(
            client
                .list_contacts(list.clone())
                .await
                .err()
                .map(|s| s.code()),
        );
        codes.push(
            client
                .check_contact(check.clone())
                .await
                .err()
                .map(|s| s.code()),
        );
        codes.push(
            client
                .resolve_dispute(resolve.clone())
                .await
                .err()
                .map(|s| s.code()),
        );
    }
    let mut collections = clinic.collections().client(Role::Collections).await;
    let collector_resolves = collections.resolve_dispute(resolve.clone()).await;
    let manager = clinic.collections().client(Role::Manager).await;
    let manager_records = manager.clone().record_contact(record("m")).await;
    let mut anonymous = CollectionsServiceClient::new(clinic.collections().service.channel().await);
    let anonymous_records = anonymous.record_contact(record("a")).await;

    // Assert
    assert_eq!(codes, [Some(Code::PermissionDenied); 12]);
    assert_eq!(
        collector_resolves.expect_err("refused").code(),
        Code::PermissionDenied
    );
    assert!(manager_records.is_ok());
    assert_eq!(
        anonymous_records.expect_err("refused").code(),
        Code::Unauthenticated
    );
}

async fn listing_checking_and_resolving_name_every_bad_field(database: TestDatabase) {
    // Arrange
    let clinic = TestClinic::start(database).await;
    let mut manager = clinic.collections().client(Role::Manager).await;

    // Act
    let listed = manager
        .list_contacts(pb::ListContactsRequest {
            patient_id: "nobody".into(),
            page: Some(clinic_proto::common::v1::PageRequest {
                page_size: -1,
                page_token: String::new(),
            }),
        })
        .await
        .expect_err("refused");
    let checked = manager
        .check_contact(pb::CheckContactRequest {
            patient_id: String::new(),
            channel: 0,
            purpose: 9,
        })
        .await
        .expect_err("refused");
    let resolved = manager
        .resolve_dispute(pb::ResolveDisputeRequest {
            patient_id: "nobody".into(),
        })
        .await
        .expect_err("refused");

    // Assert
    assert_eq!(violated_fields(&listed), ["patient_id", "page"]);
    assert_eq!(
        violated_fields(&checked),
        ["patient_id", "channel", "purpose"]
    );
    assert_eq!(violated_fields(&resolved), ["patient_id"]);
    for status in [listed, checked, resolved] {
        assert_eq!(status.code(), Code::InvalidArgument);
    }
}

async fn a_clinic_s_own_contact_hours_and_call_limit_replace_the_defaults(database: TestDatabase) {
    // Arrange: a clinic that calls from 09:00 to 18:00 and at most twice in 3 days.
    let mut clinic = TestClinic::start_upstream(database).await;
    clinic
        .start_collections_with(
            50,
            0,
            clinic_collections::config::ContactRulesSettings {
                earliest: "09:00:00".parse().expect("valid"),
                latest: "18:00:00".parse().expect("valid"),
                max_call_attempts: 2,
                call_window_days: 3,
                quiet_days_after_conversation: 1,
            },
        )
        .await;
    let patient = clinic
        .register_reachable("+525511130012", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;

    // Act (Mexico City is UTC-6)
    clinic.clock.set(instant("2026-11-23T14:30:00Z")); // 08:30
    let before_nine = desk.verdict(unanswered_call(&patient)).await;
    clinic.clock.set(instant("2026-11-23T15:00:00Z")); // 09:00
    let at_nine = desk.verdict(unanswered_call(&patient)).await;
    clinic.clock.set(instant("2026-11-23T23:59:00Z")); // 17:59
    let second = desk.verdict(unanswered_call(&patient)).await;
    let third = desk
        .verdict(outreach(&patient, pb::ContactChannel::Whatsapp))
        .await;
    clinic.clock.set(instant("2026-11-24T00:00:00Z")); // 18:00
    let at_six = desk
        .verdict(outreach(&patient, pb::ContactChannel::Sms))
        .await;
    clinic.clock.set(instant("2026-11-24T15:00:00Z")); // next day, 09:00
    let third_call = desk.verdict(unanswered_call(&patient)).await;
    clinic.clock.set(instant("2026-11-26T15:00:00Z")); // three days after the first
    let once_the_first_left = desk.verdict(unanswered_call(&patient)).await;

    // Assert
    assert_eq!(before_nine, "CONTACT_HOURS");
    assert_eq!(at_nine, "ALLOWED");
    assert_eq!(second, "ALLOWED");
    assert_eq!(third, "ALLOWED", "the limit is on calls");
    assert_eq!(at_six, "CONTACT_HOURS");
    assert_eq!(third_call, "CALL_FREQUENCY");
    assert_eq!(once_the_first_left, "ALLOWED");
}

async fn an_outcome_that_does_not_fit_the_channel_is_refused_and_nothing_is_written(
    database: TestDatabase,
) {
    // Arrange: a patient reachable on every channel, at noon in Mexico City.
    let clinic = TestClinic::start(database).await;
    let patient = clinic
        .register_reachable("+525511130020", MEXICO_CITY, every_channel())
        .await;
    let mut desk = Desk::open(&clinic).await;
    let inbound = |channel: pb::ContactChannel, outcome: pb::ContactOutcome| pb::Contact {
        direction: pb::ContactDirection::Inbound as i32,
        outcome: outcome as i32,
        ..outreach(&patient, channel)
    };
    let unfit = [
        pb::Contact {
            outcome: pb::ContactOutcome::NoAnswer as i32,
            ..outreach(&patient, pb::ContactChannel::Letter)
        },
        pb::Contact {
            outcome: pb::ContactOutcome::WrongNumber as i32,
            ..outreach(&patient, pb::ContactChannel::Sms)
        },
        pb::Contact {
            kind: pb::ContactKind::Conversation as i32,
            outcome: pb::ContactOutcome::Spoke as i32,
            ..outreach(&patient, pb::ContactChannel::Email)
        },
        pb::Contact {
            outcome: pb::ContactOutcome::Promise as i32,
            ..outreach(&patient, pb::ContactChannel::Whatsapp)
        },
        inbound(pb::ContactChannel::PhoneCall, pb::ContactOutcome::NoAnswer),
        inbound(pb::ContactChannel::Letter, pb::ContactOutcome::Spoke),
    ];
    let fitting = [
        outreach(&patient, pb::ContactChannel::Letter),
        unanswered_call(&patient),
        inbound(pb::ContactChannel::Email, pb::ContactOutcome::Disputed),
    ];

    // Act
    let mut refusals = Vec::new();
    for contact in unfit {
        refusals.push(desk.record(contact).await.expect_err("refused"));
    }
    let written_before = desk
        .client
        .list_contacts(pb::ListContactsRequest {
            patient_id: patient.clone(),
            page: None,
        })
        .await
        .expect("listed")
        .into_inner()
        .contacts;
    let mut recorded = Vec::new();
    for contact in fitting {
        recorded.push(desk.record(contact).await);
    }

    // Assert
    for refusal in &refusals {
        assert_eq!(refusal.code(), Code::InvalidArgument, "{refusal:?}");
        assert_eq!(violated_fields(refusal), ["contact.outcome"]);
    }
    assert!(written_before.is_empty());
    for result in recorded {
        assert!(result.is_ok(), "fits its channel: {result:?}");
    }
}
