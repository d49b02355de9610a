//! The waitlist: entries with constraints, offers when time frees up (best match first),
//! accepting, declining, expiry and removal.

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::common::v1::DateRange;
use clinic_proto::scheduling::v1 as pb;
use clinic_test_support::{TestDatabase, backend_tests};
use tonic::Code;

use crate::working_hours::{interval, set_hours, time};
use crate::{Client, TestClinic, local, november};

backend_tests!(
    a_cancellation_offers_the_time_to_matching_entries_earliest_request_first,
    accepting_twice_books_once_and_a_taken_offer_cannot_be_accepted,
    declined_expired_and_withdrawn_offers_cannot_be_accepted,
    new_working_hours_offer_the_first_free_slot_that_fits,
    a_no_show_offers_what_is_left_of_its_time,
    a_reschedule_offers_only_the_time_it_really_gave_up,
    creating_an_entry_checks_every_field_and_a_retry_adds_it_once,
);

/// A waitlist entry for `patient_id` over November 22-30, 30 minutes.
fn wish(patient_id: &str, provider_id: &str, after: Option<&str>) -> pb::WaitlistEntry {
    pb::WaitlistEntry {
        patient_id: patient_id.into(),
        provider_id: provider_id.into(),
        duration_minutes: 30,
        preferences: after.map(|after| pb::SlotPreferences {
            earliest_start_time: Some(time(after)),
            ..Default::default()
        }),
        date_range: Some(DateRange {
            start_date: Some(november(22)),
            end_date: Some(november(30)),
        }),
        note: "wants an earlier visit".into(),
        ..Default::default()
    }
}

async fn add(client: &mut Client, entry: pb::WaitlistEntry, key: &str) -> pb::WaitlistEntry {
    client
        .create_waitlist_entry(pb::CreateWaitlistEntryRequest {
            waitlist_entry: Some(entry),
            request_id: key.into(),
        })
        .await
        .expect("on the waitlist")
        .into_inner()
}

async fn offers_of(client: &mut Client, entry: &pb::WaitlistEntry) -> Vec<pb::WaitlistOffer> {
    client
        .list_waitlist_offers(pb::ListWaitlistOffersRequest {
            waitlist_entry_id: entry.waitlist_entry_id.clone(),
            ..Default::default()
        })
        .await
        .expect("offers listed")
        .into_inner()
        .waitlist_offers
}

async fn cancel(client: &mut Client, appointment_id: &str) {
    client
        .cancel_appointment(pb::CancelAppointmentRequest {
            appointment_id: appointment_id.into(),
            reason: "travelling".into(),
        })
        .await
        .expect("cancelled");
}

async fn accept(
    client: &mut Client,
    offer: &pb::WaitlistOffer,
) -> Result<pb::AcceptWaitlistOfferResponse, tonic::Status> {
    client
        .accept_waitlist_offer(pb::AcceptWaitlistOfferRequest {
            waitlist_offer_id: offer.waitlist_offer_id.clone(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Three patients on the waitlist, besides María.
struct Waiting {
    luis: String,
    ana: String,
    rosa: String,
}

async fn three_waiting(clinic: &TestClinic) -> Waiting {
    Waiting {
        luis: clinic.register("Luis", "Pérez", "+52 55 2222 0001").await,
        ana: clinic.register("Ana", "López", "+52 55 2222 0002").await,
        rosa: clinic.register("Rosa", "Díaz", "+52 55 2222 0003").await,
    }
}

async fn a_cancellation_offers_the_time_to_matching_entries_earliest_request_first(
    database: TestDatabase,
) {
    // Arrange: Luis waits for Dr. Ruiz only, Ana for anyone after 18:00, Rosa for anyone.
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let waiting = three_waiting(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let soto = clinic.provider("Dr. Luis Soto").await;
    let mut reception = clinic.client(Role::Reception).await;
    let luis = add(&mut reception, wish(&waiting.luis, &ruiz, None), "w-luis").await;
    let ana = add(
        &mut reception,
        wish(&waiting.ana, "", Some("18:00")),
        "w-ana",
    )
    .await;
    clinic.clock.advance(TimeDelta::minutes(1));
    let rosa = add(&mut reception, wish(&waiting.rosa, "", None), "w-rosa").await;
    let booked = clinic.book(&maria, &ruiz, (24, "10:00"), 30).await;
    let elsewhere = clinic.book(&maria, &soto, (24, "11:00"), 30).await;

    // Act
    cancel(&mut reception, &booked.appointment_id).await;

    // Assert: Luis (earliest request) first, then Rosa; Ana's hours do not fit.
    let luis_offers = offers_of(&mut reception, &luis).await;
    let rosa_offers = offers_of(&mut reception, &rosa).await;
    assert!(offers_of(&mut reception, &ana).await.is_empty());
    assert_eq!(luis_offers.len(), 1);
    assert_eq!(rosa_offers.len(), 1);
    let (first, second) = (&luis_offers[0], &rosa_offers[0]);
    assert_eq!((first.rank, second.rank), (1, 2));
    assert_eq!(first.provider_id, ruiz);
    assert_eq!(first.start_time, Some(local(24, "10:00")));
    assert_eq!(first.end_time, Some(local(24, "10:30")));
    assert_eq!(first.status, i32::from(pb::WaitlistOfferStatus::Open));
    assert_eq!(first.freed_by, "cancelled");
    assert_eq!(first.patient_id, waiting.luis);
    let all = reception
        .list_waitlist_offers(pb::ListWaitlistOffersRequest {
            open_only: true,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .waitlist_offers;
    let ranked: Vec<&str> = all.iter().map(|offer| offer.patient_id.as_str()).collect();
    assert_eq!(ranked, [waiting.luis.as_str(), waiting.rosa.as_str()]);

    // Dr. Soto's cancelled time is not for Luis, who waits for Dr. Ruiz only.
    cancel(&mut reception, &elsewhere.appointment_id).await;
    assert_eq!(offers_of(&mut reception, &luis).await.len(), 1);
    assert_eq!(offers_of(&mut reception, &rosa).await.len(), 2);
}

async fn accepting_twice_books_once_and_a_taken_offer_cannot_be_accepted(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let waiting = three_waiting(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let luis = add(&mut reception, wish(&waiting.luis, &ruiz, None), "w-luis").await;
    clinic.clock.advance(TimeDelta::minutes(1));
    let rosa = add(&mut reception, wish(&waiting.rosa, "", None), "w-rosa").await;
    let booked = clinic.book(&maria, &ruiz, (24, "10:00"), 30).await;
    cancel(&mut reception, &booked.appointment_id).await;
    let luis_offer = offers_of(&mut reception, &luis).await.remove(0);
    let rosa_offer = offers_of(&mut reception, &rosa).await.remove(0);

    // Act
    let first = accept(&mut reception, &luis_offer).await.expect("accepted");
    let again = accept(&mut reception, &luis_offer)
        .await
        .expect("accepted again");
    let late = accept(&mut reception, &rosa_offer)
        .await
        .expect_err("taken");

    // Assert
    let appointment = first.appointment.expect("a booking");
    assert_eq!(appointment.patient_id, waiting.luis);
    assert_eq!(appointment.provider_id, ruiz);
    assert_eq!(appointment.start_time, Some(local(24, "10:00")));
    assert_eq!(
        appointment.status,
        i32::from(pb::AppointmentStatus::Scheduled)
    );
    assert_eq!(
        again.appointment.expect("the same booking").appointment_id,
        appointment.appointment_id
    );
    let accepted = first.waitlist_offer.expect("the offer");
    assert_eq!(
        accepted.status,
        i32::from(pb::WaitlistOfferStatus::Accepted)
    );
    assert_eq!(accepted.appointment_id, appointment.appointment_id);
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(late.message().contains("taken"), "{}", late.message());
    let day = crate::appointments_on(&mut reception, 24).await;
    let active: Vec<&pb::Appointment> = day
        .iter()
        .filter(|a| a.status == i32::from(pb::AppointmentStatus::Scheduled))
        .collect();
    assert_eq!(active.len(), 1, "one booking for the freed time");
    let entries = reception
        .list_waitlist_entries(pb::ListWaitlistEntriesRequest {
            show_closed: true,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .waitlist_entries;
    let luis_now = entries
        .iter()
        .find(|entry| entry.waitlist_entry_id == luis.waitlist_entry_id)
        .expect("Luis's entry");
    assert_eq!(luis_now.status, i32::from(pb::WaitlistEntryStatus::Booked));
    assert_eq!(luis_now.appointment_id, appointment.appointment_id);
    let open = reception
        .list_waitlist_entries(pb::ListWaitlistEntriesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .waitlist_entries;
    let open_ids: Vec<&str> = open.iter().map(|e| e.waitlist_entry_id.as_str()).collect();
    assert_eq!(open_ids, [rosa.waitlist_entry_id.as_str()]);
}

async fn declined_expired_and_withdrawn_offers_cannot_be_accepted(database: TestDatabase) {
    let clinic = TestClinic::start_with(database, |settings| {
        settings.front_desk.offer_hold_minutes = 60;
    })
    .await;
    let maria = clinic.maria().await;
    let waiting = three_waiting(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let luis = add(&mut reception, wish(&waiting.luis, "", None), "w-luis").await;
    let ana = add(&mut reception, wish(&waiting.ana, "", None), "w-ana").await;
    let rosa = add(&mut reception, wish(&waiting.rosa, "", None), "w-rosa").await;
    let booked = clinic.book(&maria, &ruiz, (24, "10:00"), 30).await;
    cancel(&mut reception, &booked.appointment_id).await;
    let luis_offer = offers_of(&mut reception, &luis).await.remove(0);
    let ana_offer = offers_of(&mut reception, &ana).await.remove(0);

    // Declined: stays declined, cannot be accepted; Luis stays on the waitlist.
    let declined = reception
        .decline_waitlist_offer(pb::DeclineWaitlistOfferRequest {
            waitlist_offer_id: luis_offer.waitlist_offer_id.clone(),
        })
        .await
        .expect("declined")
        .into_inner();
    assert_eq!(
        declined.status,
        i32::from(pb::WaitlistOfferStatus::Declined)
    );
    let refused = accept(&mut reception, &luis_offer)
        .await
        .expect_err("declined");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // Removed: Ana's open offer is withdrawn; removing again changes nothing.
    let removed = reception
        .remove_waitlist_entry(pb::RemoveWaitlistEntryRequest {
            waitlist_entry_id: ana.waitlist_entry_id.clone(),
        })
        .await
        .expect("removed")
        .into_inner();
    assert_eq!(removed.status, i32::from(pb::WaitlistEntryStatus::Removed));
    reception
        .remove_waitlist_entry(pb::RemoveWaitlistEntryRequest {
            waitlist_entry_id: ana.waitlist_entry_id.clone(),
        })
        .await
        .expect("removed again");
    let withdrawn = offers_of(&mut reception, &ana).await.remove(0);
    assert_eq!(withdrawn.waitlist_offer_id, ana_offer.waitlist_offer_id);
    assert_eq!(
        withdrawn.status,
        i32::from(pb::WaitlistOfferStatus::Withdrawn)
    );

    // Expired: an hour later Rosa's offer is gone.
    clinic.clock.advance(TimeDelta::minutes(61));
    let expired = offers_of(&mut reception, &rosa).await.remove(0);
    assert_eq!(expired.status, i32::from(pb::WaitlistOfferStatus::Expired));
    let too_late = accept(&mut reception, &expired).await.expect_err("expired");
    assert_eq!(too_late.code(), Code::FailedPrecondition);
    assert!(
        too_late.message().contains("expired"),
        "{}",
        too_late.message()
    );

    let unknown = reception
        .accept_waitlist_offer(pb::AcceptWaitlistOfferRequest {
            waitlist_offer_id: uuid::Uuid::new_v4().to_string(),
        })
        .await
        .expect_err("no such offer");
    assert_eq!(unknown.code(), Code::NotFound);
}

async fn new_working_hours_offer_the_first_free_slot_that_fits(database: TestDatabase) {
    // Arrange: Ana can come after 18:00 only, to Dr. Ruiz only. Now is Sunday the 22nd, 08:00.
    let clinic = TestClinic::start(database).await;
    let waiting = three_waiting(&clinic).await;
    let maria = clinic.maria().await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let ana = add(
        &mut reception,
        wish(&waiting.ana, &ruiz, Some("18:00")),
        "w-ana",
    )
    .await;
    clinic.book(&maria, &ruiz, (24, "18:00"), 30).await;

    // Act: Dr. Ruiz starts working Tuesday evenings.
    set_hours(
        &clinic,
        &ruiz,
        vec![interval(pb::DayOfWeek::Tuesday, "16:00", "20:00")],
    )
    .await;

    // Assert: the first free half hour after 18:00 on Tuesday, María's visit being at 18:00.
    let offers = offers_of(&mut reception, &ana).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].start_time, Some(local(24, "18:30")));
    assert_eq!(offers[0].freed_by, "hours");
    assert_eq!(offers[0].rank, 1);
    let accepted = accept(&mut reception, &offers[0]).await.expect("accepted");
    assert_eq!(
        accepted.appointment.expect("booked").start_time,
        Some(local(24, "18:30"))
    );
}

async fn a_no_show_offers_what_is_left_of_its_time(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let waiting = three_waiting(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let rosa = add(&mut reception, wish(&waiting.rosa, "", None), "w-rosa").await;
    let booked = clinic.book(&maria, &ruiz, (22, "09:00"), 60).await;

    // 09:20: María has not come.
    clinic.clock.advance(TimeDelta::minutes(80));
    reception
        .mark_no_show(pb::MarkNoShowRequest {
            appointment_id: booked.appointment_id.clone(),
        })
        .await
        .expect("no-show");

    let offers = offers_of(&mut reception, &rosa).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].start_time, Some(local(22, "09:30")));
    assert_eq!(offers[0].end_time, Some(local(22, "10:00")));
    assert_eq!(offers[0].freed_by, "no_show");
}

async fn a_reschedule_offers_only_the_time_it_really_gave_up(database: TestDatabase) {
    // Arrange: María 10:00-11:00 moves half an hour later, to 10:30-11:30.
    let clinic = TestClinic::start(database).await;
    let maria = clinic.maria().await;
    let waiting = three_waiting(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;
    let rosa = add(&mut reception, wish(&waiting.rosa, "", None), "w-rosa").await;
    let mut longer = wish(&waiting.luis, "", None);
    longer.duration_minutes = 45;
    let luis = add(&mut reception, longer, "w-luis").await;
    let booked = clinic.book(&maria, &ruiz, (24, "10:00"), 60).await;

    // Act
    reception
        .reschedule_appointment(pb::RescheduleAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
            start_time: Some(local(24, "10:30")),
            end_time: None,
            request_id: "move-maria".into(),
            provider_id: String::new(),
        })
        .await
        .expect("rescheduled");

    // Assert: Rosa's half hour fits in 10:00-10:30; Luis's 45 minutes do not.
    let offers = offers_of(&mut reception, &rosa).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].start_time, Some(local(24, "10:00")));
    assert_eq!(offers[0].end_time, Some(local(24, "10:30")));
    assert_eq!(offers[0].freed_by, "rescheduled");
    assert!(offers_of(&mut reception, &luis).await.is_empty());
    let kiosk = clinic
        .client(Role::Kiosk)
        .await
        .list_waitlist_offers(pb::ListWaitlistOffersRequest::default())
        .await
        .expect_err("not for kiosks");
    assert_eq!(kiosk.code(), Code::PermissionDenied);
}

async fn creating_an_entry_checks_every_field_and_a_retry_adds_it_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let waiting = three_waiting(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let mut reception = clinic.client(Role::Reception).await;

    let first = add(
        &mut reception,
        wish(&waiting.luis, &ruiz, Some("18:00")),
        "w-luis",
    )
    .await;
    let retry = add(
        &mut reception,
        wish(&waiting.luis, &ruiz, Some("18:00")),
        "w-luis",
    )
    .await;
    let reused = reception
        .create_waitlist_entry(pb::CreateWaitlistEntryRequest {
            waitlist_entry: Some(wish(&waiting.ana, &ruiz, None)),
            request_id: "w-luis".into(),
        })
        .await
        .expect_err("key reused");
    let bad = reception
        .create_waitlist_entry(pb::CreateWaitlistEntryRequest {
            waitlist_entry: Some(pb::WaitlistEntry {
                patient_id: "nobody".into(),
                provider_id: "x".into(),
                duration_minutes: 1,
                date_range: Some(DateRange {
                    start_date: Some(november(30)),
                    end_date: Some(november(22)),
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("refused");
    let unregistered = reception
        .create_waitlist_entry(pb::CreateWaitlistEntryRequest {
            waitlist_entry: Some(wish(&uuid::Uuid::new_v4().to_string(), "", None)),
            request_id: "w-ghost".into(),
        })
        .await
        .expect_err("unknown patient");
    let kiosk = clinic
        .client(Role::Kiosk)
        .await
        .create_waitlist_entry(pb::CreateWaitlistEntryRequest {
            waitlist_entry: Some(wish(&waiting.rosa, "", None)),
            request_id: "w-kiosk".into(),
        })
        .await
        .expect_err("not for kiosks");

    assert_eq!(first.waitlist_entry_id, retry.waitlist_entry_id);
    assert_eq!(first.status, i32::from(pb::WaitlistEntryStatus::Waiting));
    assert_eq!(first.provider_id, ruiz);
    assert_eq!(first.duration_minutes, 30);
    assert_eq!(
        first.preferences.and_then(|p| p.earliest_start_time),
        Some(time("18:00"))
    );
    assert_eq!(violated_fields(&reused), ["request_id"]);
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad),
        [
            "request_id",
            "waitlist_entry.patient_id",
            "waitlist_entry.provider_id",
            "waitlist_entry.date_range.end_date",
            "waitlist_entry.duration_minutes",
        ]
    );
    assert_eq!(
        violated_fields(&unregistered),
        ["waitlist_entry.patient_id"]
    );
    assert_eq!(kiosk.code(), Code::PermissionDenied);
    let listed = reception
        .list_waitlist_entries(pb::ListWaitlistEntriesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .waitlist_entries;
    assert_eq!(listed.len(), 1);
}
