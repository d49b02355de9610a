//! The kiosk finds today's appointment by the reminder's code or by who the patient is, shows
//! only what check-in needs, answers every miss alike, and stops a kiosk that guesses.

use chrono::TimeDelta;
use clinic_common::auth::Role;
use std::time::Duration;

use clinic_common::status::{retry_after, violated_fields};
use clinic_proto::common::v1::Date;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::find_todays_appointment_request::Lookup;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::{TestClinic, maria_born};

backend_tests!(
    a_kiosk_finds_todays_appointment_by_code_and_date_of_birth,
    a_kiosk_finds_todays_appointment_by_name_regardless_of_accents_and_case,
    a_name_in_chinese_characters_is_found_as_written_or_in_pinyin,
    every_miss_answers_the_same_not_found,
    a_kiosk_that_misses_too_often_waits_while_staff_and_other_kiosks_do_not,
    a_patient_seen_before_is_not_on_a_first_visit,
    invalid_lookups_name_every_bad_field,
    a_kiosk_checks_in_by_code_with_the_date_of_birth_alone,
    the_lookup_prefers_the_next_visit_still_to_check_in,
    checking_in_by_code_answers_every_miss_alike_and_counts_it,
    misses_at_one_patient_hold_back_only_that_patients_lookups_and_reception_is_told,
);

pub fn by_code(code: &str, date_of_birth: Date) -> pb::FindTodaysAppointmentRequest {
    pb::FindTodaysAppointmentRequest {
        lookup: Some(Lookup::ByCode(pb::KioskLookupByCode {
            confirmation_code: code.into(),
            date_of_birth: Some(date_of_birth),
        })),
    }
}

pub fn by_name(
    family: &str,
    given: &str,
    date_of_birth: Date,
    last_four: &str,
) -> pb::FindTodaysAppointmentRequest {
    pb::FindTodaysAppointmentRequest {
        lookup: Some(Lookup::ByName(pb::KioskLookupByName {
            family_name: family.into(),
            given_name: given.into(),
            date_of_birth: Some(date_of_birth),
            phone_last_four: last_four.into(),
        })),
    }
}

async fn a_kiosk_finds_todays_appointment_by_code_and_date_of_birth(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    let found = kiosk
        .find_todays_appointment(by_code(
            &booked.confirmation_code.to_lowercase(),
            maria_born(),
        ))
        .await
        .expect("found")
        .into_inner();

    assert_eq!(
        found,
        pb::KioskAppointment {
            appointment_id: booked.appointment_id.clone(),
            patient_id: maria.clone(),
            start_time: booked.start_time,
            provider_display_name: "Dra. Ana Ruiz".into(),
            patient_given_name: "María".into(),
            patient_initials: "M. G.".into(),
            status: pb::AppointmentStatus::Scheduled.into(),
            first_visit: true,
        }
    );
}

async fn a_kiosk_finds_todays_appointment_by_name_regardless_of_accents_and_case(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic
        .register("María José", "García-Núñez", "+52 55 1234 5678")
        .await;
    let lucia = clinic.register("Lucía", "Pérez", "+52 55 8765 4321").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    clinic.book(&lucia, &ana, (22, "09:00"), 30).await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    let found = kiosk
        .find_todays_appointment(by_name("garcia nunez", "MARIA  jose", maria_born(), "5678"))
        .await
        .expect("found")
        .into_inner();

    assert_eq!(found.appointment_id, booked.appointment_id);
    assert_eq!(found.patient_given_name, "María José");
}

async fn a_name_in_chinese_characters_is_found_as_written_or_in_pinyin(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let wang = clinic.register("静", "王", "+86 138 0013 8000").await;
    let ouyang = clinic.register("娜娜", "欧阳", "+86 138 0013 9000").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let wang_booked = clinic.book(&wang, &ana, (22, "09:00"), 30).await;
    let ouyang_booked = clinic.book(&ouyang, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    for (family, given, last_four, booked) in [
        ("王", "静", "8000", &wang_booked),
        ("Wang", "Jing", "8000", &wang_booked),
        ("欧阳", "娜娜", "9000", &ouyang_booked),
        ("Ou Yang", "Na Na", "9000", &ouyang_booked),
        ("OUYANG", "nana", "9000", &ouyang_booked),
    ] {
        let found = kiosk
            .find_todays_appointment(by_name(family, given, maria_born(), last_four))
            .await
            .unwrap_or_else(|status| panic!("{family} {given}: {status:?}"))
            .into_inner();
        assert_eq!(
            found.appointment_id, booked.appointment_id,
            "{family} {given}"
        );
    }
    // Pinyin stands for the name in its own field, with the rest of the evidence.
    for (family, given, last_four) in [("Jing", "Wang", "8000"), ("Wang", "Jing", "9000")] {
        let status = kiosk
            .find_todays_appointment(by_name(family, given, maria_born(), last_four))
            .await
            .expect_err("a miss");
        assert_eq!(status.code(), Code::NotFound, "{family} {given}");
    }
}

async fn every_miss_answers_the_same_not_found(database: TestDatabase) {
    let clinic = TestClinic::start_with(database, |settings| settings.kiosk.max_misses = 100).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let today = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let tomorrow = clinic.book(&maria, &ana, (23, "10:00"), 30).await;
    let cancelled = clinic.book(&maria, &ana, (22, "12:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: cancelled.appointment_id.clone(),
            reason: "patient travelling".into(),
        })
        .await
        .expect("cancelled");
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let other_day = Date {
        year: 1985,
        month: 3,
        day: 15,
    };

    let misses = [
        by_code(&today.confirmation_code, other_day),
        by_code("ZZZZZZ", maria_born()),
        by_code(&tomorrow.confirmation_code, maria_born()),
        by_code(&cancelled.confirmation_code, maria_born()),
        by_name("García", "María", maria_born(), "5679"),
        by_name("García", "Mario", maria_born(), "5678"),
        by_name("Garcías", "María", maria_born(), "5678"),
        by_name("García", "María", other_day, "5678"),
    ];
    for (index, miss) in misses.into_iter().enumerate() {
        let status = kiosk
            .find_todays_appointment(miss)
            .await
            .expect_err("a miss");
        assert_eq!(status.code(), Code::NotFound, "miss {index}");
        assert_eq!(
            status.message(),
            "no appointment today matches those details",
            "miss {index}"
        );
    }
    let found = kiosk
        .find_todays_appointment(by_name("García", "María", maria_born(), "5678"))
        .await
        .expect("the exact details find it");
    assert_eq!(found.into_inner().appointment_id, today.appointment_id);
}

async fn a_kiosk_that_misses_too_often_waits_while_staff_and_other_kiosks_do_not(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut lobby = clinic.client_as(Role::Kiosk, "kiosk:lobby-1").await;
    let right = || by_code(&booked.confirmation_code, maria_born());

    // Ten codes tried, none twice: the kiosk's own limit.
    for guess in [
        "AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE", "FFFFFF", "GGGGGG", "HHHHHH", "JJJJJJ",
        "KKKKKK",
    ] {
        let status = lobby
            .find_todays_appointment(by_code(guess, maria_born()))
            .await
            .expect_err("a miss");
        assert_eq!(status.code(), Code::NotFound);
    }
    let refused = lobby
        .find_todays_appointment(right())
        .await
        .expect_err("the kiosk must wait");
    let other_kiosk = clinic
        .client_as(Role::Kiosk, "kiosk:lobby-2")
        .await
        .find_todays_appointment(right())
        .await;
    let desk = clinic
        .client(Role::Reception)
        .await
        .find_todays_appointment(right())
        .await;
    let check_in_refused = lobby
        .check_in_appointment(pb::CheckInAppointmentRequest {
            confirmation_code: booked.confirmation_code.clone(),
            identity: Some(pb::IdentityEvidence {
                date_of_birth: Some(maria_born()),
                phone_last_four: String::new(),
            }),
            ..Default::default()
        })
        .await
        .expect_err("the kiosk must wait");
    clinic.clock.advance(TimeDelta::minutes(15));
    let later = lobby.find_todays_appointment(right()).await;

    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_eq!(retry_after(&refused), Some(Duration::from_secs(15 * 60)));
    assert_eq!(check_in_refused.code(), Code::ResourceExhausted);
    assert!(other_kiosk.is_ok(), "{other_kiosk:?}");
    assert!(desk.is_ok(), "{desk:?}");
    assert!(later.is_ok(), "the misses have left the window: {later:?}");
}

async fn a_patient_seen_before_is_not_on_a_first_visit(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    // Yesterday María came and was seen.
    clinic.clock.advance(TimeDelta::days(-1));
    let yesterday = clinic.book(&maria, &ana, (21, "10:00"), 30).await;
    let checked_in = reception
        .check_in_appointment(crate::check_in::by_id(&yesterday.appointment_id))
        .await
        .expect("checked in")
        .into_inner();
    let entry = checked_in.queue_entry.expect("queued");
    assert!(entry.first_visit);
    reception
        .seat_queue_entry(pb::SeatQueueEntryRequest {
            queue_entry_id: entry.queue_entry_id,
        })
        .await
        .expect("seated");
    clinic.clock.advance(TimeDelta::days(1));
    let today = clinic.book(&maria, &ana, (22, "10:00"), 30).await;

    let found = clinic
        .client(Role::Kiosk)
        .await
        .find_todays_appointment(by_code(&today.confirmation_code, maria_born()))
        .await
        .expect("found")
        .into_inner();

    assert!(!found.first_visit);
}

async fn invalid_lookups_name_every_bad_field(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;

    let by_name = kiosk
        .find_todays_appointment(pb::FindTodaysAppointmentRequest {
            lookup: Some(Lookup::ByName(pb::KioskLookupByName {
                family_name: " ".into(),
                given_name: "--".into(),
                date_of_birth: Some(Date {
                    year: 1985,
                    month: 2,
                    day: 30,
                }),
                phone_last_four: "12a4".into(),
            })),
        })
        .await
        .expect_err("refused");
    let by_code = kiosk
        .find_todays_appointment(pb::FindTodaysAppointmentRequest {
            lookup: Some(Lookup::ByCode(pb::KioskLookupByCode {
                confirmation_code: "ABC10O".into(),
                date_of_birth: None,
            })),
        })
        .await
        .expect_err("refused");
    let neither = kiosk
        .find_todays_appointment(pb::FindTodaysAppointmentRequest { lookup: None })
        .await
        .expect_err("refused");

    assert_eq!(by_name.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&by_name),
        [
            "by_name.family_name",
            "by_name.given_name",
            "by_name.date_of_birth",
            "by_name.phone_last_four"
        ]
    );
    assert_eq!(
        violated_fields(&by_code),
        ["by_code.confirmation_code", "by_code.date_of_birth"]
    );
    assert_eq!(violated_fields(&neither), ["lookup"]);
}

async fn a_kiosk_checks_in_by_code_with_the_date_of_birth_alone(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let birthday_only = Some(pb::IdentityEvidence {
        date_of_birth: Some(maria_born()),
        phone_last_four: String::new(),
    });

    let by_id = kiosk
        .check_in_appointment(pb::CheckInAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
            identity: birthday_only.clone(),
            ..Default::default()
        })
        .await
        .expect_err("the phone's digits are needed with an id");
    let wrong_birthday = kiosk
        .check_in_appointment(pb::CheckInAppointmentRequest {
            confirmation_code: booked.confirmation_code.clone(),
            identity: Some(pb::IdentityEvidence {
                date_of_birth: Some(crate::november(1)),
                phone_last_four: String::new(),
            }),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let checked_in = kiosk
        .check_in_appointment(pb::CheckInAppointmentRequest {
            confirmation_code: booked.confirmation_code.clone(),
            identity: birthday_only,
            ..Default::default()
        })
        .await
        .expect("checked in")
        .into_inner();

    assert_eq!(violated_fields(&by_id), ["identity.phone_last_four"]);
    assert_eq!(wrong_birthday.code(), Code::NotFound);
    assert_eq!(
        checked_in.queue_entry.expect("queued").ticket_number,
        "A-001"
    );
}

async fn the_lookup_prefers_the_next_visit_still_to_check_in(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let early = clinic.book(&maria, &ana, (22, "09:00"), 30).await;
    let later = clinic.book(&maria, &ana, (22, "16:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: early.appointment_id.clone(),
            reason: "moved to the afternoon".into(),
        })
        .await
        .expect("cancelled");

    let found = clinic
        .client(Role::Kiosk)
        .await
        .find_todays_appointment(by_name("Garcia", "Maria", maria_born(), "5678"))
        .await
        .expect("found")
        .into_inner();

    assert_eq!(found.appointment_id, later.appointment_id);
}

async fn checking_in_by_code_answers_every_miss_alike_and_counts_it(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let mut kiosk = clinic.client(Role::Kiosk).await;
    let check_in = |code: &str, born: Date| pb::CheckInAppointmentRequest {
        confirmation_code: code.into(),
        identity: Some(pb::IdentityEvidence {
            date_of_birth: Some(born),
            phone_last_four: String::new(),
        }),
        ..Default::default()
    };
    let wrong_day = crate::november(1);

    let mut misses = Vec::new();
    for request in [
        check_in("ZZZZZZ", maria_born()),
        check_in(&booked.confirmation_code, wrong_day),
        check_in("YYYYYY", wrong_day),
        check_in(&booked.confirmation_code, wrong_day),
        check_in("XXXXXX", maria_born()),
        check_in(&booked.confirmation_code, wrong_day),
    ] {
        misses.push(
            kiosk
                .check_in_appointment(request)
                .await
                .expect_err("a miss"),
        );
    }
    let after_three_at_her_code = kiosk
        .check_in_appointment(check_in(&booked.confirmation_code, maria_born()))
        .await
        .expect_err("lookups of this code must wait");

    for (index, status) in misses.iter().enumerate() {
        assert_eq!(status.code(), Code::NotFound, "miss {index}: {status:?}");
        assert_eq!(
            status.message(),
            "no appointment today matches those details",
            "miss {index}"
        );
    }
    assert_eq!(
        after_three_at_her_code.code(),
        Code::ResourceExhausted,
        "{after_three_at_her_code:?}"
    );
}

async fn misses_at_one_patient_hold_back_only_that_patients_lookups_and_reception_is_told(
    database: TestDatabase,
) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let juan = clinic.register("Juan", "Pérez", "+52 55 9876 5432").await;
    let ana = clinic.provider("Dra. Ana Ruiz").await;
    let marias = clinic.book(&maria, &ana, (22, "10:00"), 30).await;
    let juans = clinic.book(&juan, &ana, (22, "10:30"), 30).await;
    let mut lobby = clinic.client_as(Role::Kiosk, "kiosk:lobby-1").await;
    let mut reception = clinic.client(Role::Reception).await;
    let wrong_day = crate::november(1);

    // Act: three wrong birth dates for María's code, from the lobby kiosk.
    for _ in 0..3 {
        let miss = lobby
            .find_todays_appointment(by_code(&marias.confirmation_code, wrong_day))
            .await
            .expect_err("a miss");
        assert_eq!(miss.code(), Code::NotFound);
    }
    clinic.clock.advance(TimeDelta::minutes(5));
    let maria_refused = clinic
        .client_as(Role::Kiosk, "kiosk:lobby-2")
        .await
        .find_todays_appointment(by_code(&marias.confirmation_code, maria_born()))
        .await
        .expect_err("her lookups wait, at any kiosk");
    let juan_found = lobby
        // `register` gives everyone María's birth date.
        .find_todays_appointment(by_code(&juans.confirmation_code, maria_born()))
        .await;
    let mut watch = reception
        .watch_queue(pb::WatchQueueRequest {})
        .await
        .expect("watching")
        .into_inner();
    let snapshot = watch.message().await.expect("a snapshot").expect("open");
    clinic.clock.advance(TimeDelta::minutes(10));
    let maria_later = lobby
        .find_todays_appointment(by_code(&marias.confirmation_code, maria_born()))
        .await;

    // Assert: only María's lookups wait, for what is left of the window, and reception sees it.
    assert_eq!(
        maria_refused.code(),
        Code::ResourceExhausted,
        "{maria_refused:?}"
    );
    assert_eq!(
        retry_after(&maria_refused),
        Some(Duration::from_secs(10 * 60))
    );
    assert!(maria_refused.message().contains("ask at reception"));
    assert!(
        juan_found.is_ok(),
        "another patient checks in: {juan_found:?}"
    );
    let locks: Vec<(String, bool, Option<i64>)> = snapshot
        .kiosk_locks
        .iter()
        .map(|lock| {
            (
                lock.kiosk.clone(),
                lock.whole_kiosk,
                lock.until.map(|t| t.seconds),
            )
        })
        .collect();
    assert_eq!(
        locks,
        [(
            "kiosk:lobby-1".to_owned(),
            false,
            Some(crate::local(22, "08:15").seconds)
        )]
    );
    assert!(
        maria_later.is_ok(),
        "the misses have left the window: {maria_later:?}"
    );
}
