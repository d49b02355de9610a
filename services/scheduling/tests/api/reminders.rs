//! Reminders and wait updates in the outbox, sent by the background dispatcher (email over SMTP
//! to a server this test runs on loopback; SMS and WhatsApp to the log sender), and replies that
//! confirm or cancel.

use std::time::Duration;

use chrono::TimeDelta;
use clinic_common::auth::Role;
use clinic_common::status::violated_fields;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as pb;
use clinic_scheduling::config::SmtpSettings;
use clinic_test_support::{TestDatabase, backend_tests};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tonic::Code;

use crate::{Client, TestClinic, local};

backend_tests!(
    reminders_are_written_three_days_and_one_day_ahead_on_consented_channels,
    the_dispatcher_emails_a_reminder_with_the_kiosk_code_once,
    a_message_that_cannot_be_sent_is_retried_later,
    a_message_whose_dispatcher_stopped_while_sending_is_sent_once_its_claim_lapses,
    replies_confirm_or_cancel_and_are_recorded_once,
    a_waiting_patient_is_told_their_place_every_ten_minutes,
);

/// An email as the SMTP server received it.
#[derive(Debug)]
struct Received {
    recipients: Vec<String>,
    data: String,
}

/// A small SMTP server on loopback that accepts every message and hands it over.
async fn smtp_server() -> (u16, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let port = listener.local_addr().expect("an address").port();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.ok();
                let mut recipients = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        write.write_all(b"250-test\r\n250 8BITMIME\r\n").await.ok();
                    } else if upper.starts_with("RCPT TO:") {
                        recipients.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        write.write_all(b"250 OK\r\n").await.ok();
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.ok();
                        let mut data = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            data.push_str(&line);
                            data.push('\n');
                        }
                        sender
                            .send(Received {
                                recipients: std::mem::take(&mut recipients),
                                data,
                            })
                            .ok();
                        write.write_all(b"250 queued\r\n").await.ok();
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.ok();
                        return;
                    } else {
                        write.write_all(b"250 OK\r\n").await.ok();
                    }
                }
            });
        }
    });
    (port, receiver)
}

/// Lucía, who reads English and consented to SMS and email (not WhatsApp).
async fn lucia(clinic: &TestClinic) -> String {
    clinic
        .register_patient(
            patients::Patient {
                given_name: "Lucía".into(),
                family_name: "Torres".into(),
                phone: "+52 55 3333 4444".into(),
                email: "lucia@example.com".into(),
                preferred_language: "en".into(),
                consent: Some(patients::ContactConsent {
                    sms: true,
                    email: true,
                    ..Default::default()
                }),
                ..Default::default()
            },
            "lucia",
        )
        .await
}

async fn outbox(client: &mut Client, appointment_id: &str) -> Vec<pb::OutboxMessage> {
    let mut messages = client
        .list_outbox_messages(pb::ListOutboxMessagesRequest {
            appointment_id: appointment_id.into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .messages;
    messages.sort_by(|a, b| (&a.round, &a.channel).cmp(&(&b.round, &b.channel)));
    messages
}

fn at(day: u32, time: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(local(day, time).seconds, 0).expect("an instant")
}

async fn reminders_are_written_three_days_and_one_day_ahead_on_consented_channels(
    database: TestDatabase,
) {
    // Arrange: Lucía on the 26th at 10:00; María (no consent at all) at 09:30.
    let clinic = TestClinic::start(database).await;
    let lucia = lucia(&clinic).await;
    let maria = clinic.maria().await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let lucias = clinic.book(&lucia, &ruiz, (26, "10:00"), 30).await;
    let marias = clinic.book(&maria, &ruiz, (26, "09:30"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;

    // Four days ahead: nothing yet.
    assert!(
        outbox(&mut reception, &lucias.appointment_id)
            .await
            .is_empty()
    );

    // Three days ahead: the first round, SMS and email in English.
    clinic.clock.set(at(23, "10:00"));
    let first = outbox(&mut reception, &lucias.appointment_id).await;
    let channels: Vec<(&str, &str)> = first
        .iter()
        .map(|m| (m.round.as_str(), m.channel.as_str()))
        .collect();
    assert_eq!(channels, [("72h", "email"), ("72h", "sms")]);
    let email = &first[0];
    assert_eq!(email.recipient, "lucia@example.com");
    assert_eq!(email.language, "en");
    assert_eq!(email.status, "pending");
    assert!(
        email.body.contains(&lucias.confirmation_code),
        "{}",
        email.body
    );
    assert!(email.body.contains("26/11/2026 at 10:00"), "{}", email.body);
    assert_eq!(first[1].recipient, "+525533334444");
    let skipped = outbox(&mut reception, &marias.appointment_id).await;
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (skipped[0].channel.as_str(), skipped[0].status.as_str()),
        ("none", "skipped")
    );
    assert_eq!(skipped[0].language, "es");

    // Listing again writes nothing new; one day ahead, the second round.
    assert_eq!(
        outbox(&mut reception, &lucias.appointment_id).await.len(),
        2
    );
    clinic.clock.set(at(25, "10:00"));
    let both = outbox(&mut reception, &lucias.appointment_id).await;
    let rounds: Vec<&str> = both.iter().map(|m| m.round.as_str()).collect();
    assert_eq!(rounds, ["24h", "24h", "72h", "72h"]);
}

async fn the_dispatcher_emails_a_reminder_with_the_kiosk_code_once(database: TestDatabase) {
    let (port, mut received) = smtp_server().await;
    let clinic = TestClinic::start_with(database, |settings| {
        settings.clinic.name = "Smile Dental".into();
        settings.front_desk.messages_every_seconds = 1;
        settings.front_desk.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            from: "Smile Dental <citas@smile.example>".into(),
        });
    })
    .await;
    let lucia = lucia(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&lucia, &ruiz, (23, "12:00"), 30).await;

    // Act: a day ahead, the background task writes and sends the reminder.
    clinic.clock.set(at(22, "12:00"));
    let email = tokio::time::timeout(Duration::from_secs(30), received.recv())
        .await
        .expect("an email within 30 s")
        .expect("the server runs");

    // Assert: the right recipient, subject and body.
    assert_eq!(email.recipients, ["lucia@example.com"]);
    assert!(
        email
            .data
            .contains("Subject: Reminder of your appointment at Smile Dental"),
        "{}",
        email.data
    );
    assert!(
        email.data.contains(&booked.confirmation_code),
        "{}",
        email.data
    );
    let words = email.data.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("on 23/11/2026 at 12:00 with Dra. Ana Ruiz"),
        "{words}"
    );
    let mut reception = clinic.client(Role::Reception).await;
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = outbox(&mut reception, &booked.appointment_id).await;
        if sent.iter().all(|m| m.status == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let states: Vec<(&str, &str, i32)> = sent
        .iter()
        .map(|m| (m.channel.as_str(), m.status.as_str(), m.attempts))
        .collect();
    assert_eq!(states, [("email", "sent", 1), ("sms", "sent", 1)]);
    // Sent once: nothing else reached the server after the message was marked sent.
    assert!(received.try_recv().is_err());
}

async fn a_message_that_cannot_be_sent_is_retried_later(database: TestDatabase) {
    // A relay nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let port = closed.local_addr().expect("an address").port();
    drop(closed);
    let clinic = TestClinic::start_with(database, |settings| {
        settings.front_desk.messages_every_seconds = 1;
        settings.front_desk.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            from: "citas@smile.example".into(),
        });
    })
    .await;
    let lucia = lucia(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&lucia, &ruiz, (23, "12:00"), 30).await;
    clinic.clock.set(at(22, "12:00"));
    let mut reception = clinic.client(Role::Reception).await;

    let mut email = None;
    for _ in 0..150 {
        let messages = outbox(&mut reception, &booked.appointment_id).await;
        let found = messages.into_iter().find(|m| m.channel == "email");
        if found
            .as_ref()
            .is_some_and(|m| m.attempts == 1 && m.status == "pending")
        {
            email = found;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let email = email.expect("a failed first attempt");

    assert!(email.last_error.starts_with("smtp"), "{}", email.last_error);
    assert_eq!(email.next_attempt_time, Some(local(22, "12:01")));
    assert!(email.sent_time.is_none());
    // The clock has not moved: the retry waits, however often the dispatcher runs.
    let still = outbox(&mut reception, &booked.appointment_id).await;
    let email_now = still.iter().find(|m| m.channel == "email").expect("email");
    assert_eq!(email_now.attempts, 1);

    // Each retry waits longer; after five attempts the message is given up.
    let mut last = email_now.clone();
    for _ in 0..300 {
        if last.status == "failed" {
            break;
        }
        if last.status == "pending" {
            clinic.clock.advance(TimeDelta::hours(1));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let messages = outbox(&mut reception, &booked.appointment_id).await;
        last = messages
            .into_iter()
            .find(|m| m.channel == "email")
            .expect("email");
    }
    assert_eq!((last.status.as_str(), last.attempts), ("failed", 5));
    assert!(last.sent_time.is_none());
}

/// An SMTP relay that accepts connections and never answers: a dispatcher sending to it stays
/// in the middle of sending, as one whose process died would.
async fn silent_smtp_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    port
}

async fn a_message_whose_dispatcher_stopped_while_sending_is_sent_once_its_claim_lapses(
    database: TestDatabase,
) {
    let silent = silent_smtp_server().await;
    let clinic = TestClinic::start_with(database, |settings| {
        settings.front_desk.messages_every_seconds = 1;
        settings.front_desk.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port: silent,
            from: "citas@smile.example".into(),
        });
    })
    .await;
    let lucia = lucia(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&lucia, &ruiz, (23, "12:00"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    let email = |messages: Vec<pb::OutboxMessage>| {
        messages
            .into_iter()
            .find(|m| m.channel == "email")
            .map(|m| (m.status, m.attempts))
    };

    // Arrange: a day ahead the first dispatcher claims the email and never finishes sending it.
    clinic.clock.set(at(22, "12:00"));
    let mut state = None;
    for _ in 0..150 {
        state = email(outbox(&mut reception, &booked.appointment_id).await);
        if state == Some(("sending".into(), 1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, Some(("sending".into(), 1)));
    // A second replica (email to the log) leaves a message another dispatcher holds alone.
    let _second = clinic
        .another_replica_with(|settings| settings.front_desk.messages_every_seconds = 1)
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let held = email(outbox(&mut reception, &booked.appointment_id).await);
    assert_eq!(held, Some(("sending".into(), 1)));

    // Act: the claim lapses.
    clinic.clock.advance(TimeDelta::minutes(6));

    // Assert: the second replica sends it, as the second attempt; the first dispatcher, still
    // waiting on its relay, changes nothing.
    for _ in 0..150 {
        state = email(outbox(&mut reception, &booked.appointment_id).await);
        if state.as_ref().is_some_and(|(status, _)| status == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, Some(("sent".into(), 2)));
}

async fn replies_confirm_or_cancel_and_are_recorded_once(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let lucia = lucia(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let first = clinic.book(&lucia, &ruiz, (24, "10:00"), 30).await;
    let second = clinic.book(&lucia, &ruiz, (25, "10:00"), 30).await;
    let mut gateway = clinic.client(Role::Service).await;
    let reply = |code: &str, text: &str, key: &str| pb::RecordReplyRequest {
        confirmation_code: code.into(),
        channel: "sms".into(),
        text: text.into(),
        request_id: key.into(),
        ..Default::default()
    };

    let confirmed = gateway
        .record_reply(reply(&first.confirmation_code, "Yes", "sms-1"))
        .await
        .expect("recorded")
        .into_inner();
    let unclear = gateway
        .record_reply(reply(
            &second.confirmation_code,
            "what time was it?",
            "sms-2",
        ))
        .await
        .expect("recorded")
        .into_inner();
    let cancelled = gateway
        .record_reply(reply(&second.confirmation_code, "2", "sms-3"))
        .await
        .expect("recorded")
        .into_inner();
    let retried = gateway
        .record_reply(reply(&second.confirmation_code, "2", "sms-3"))
        .await
        .expect("recorded")
        .into_inner();
    let late = gateway
        .record_reply(reply(&second.confirmation_code, "SI", "sms-4"))
        .await
        .expect("recorded")
        .into_inner();
    let bad = gateway
        .record_reply(pb::RecordReplyRequest {
            channel: "fax".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let kiosk = clinic
        .client(Role::Kiosk)
        .await
        .record_reply(reply(&first.confirmation_code, "1", "sms-5"))
        .await
        .expect_err("not for kiosks");

    assert_eq!(confirmed.action, "confirmed");
    assert_eq!(
        confirmed.appointment.expect("set").status,
        i32::from(pb::AppointmentStatus::Confirmed)
    );
    assert_eq!(unclear.action, "unrecognised");
    assert_eq!(
        unclear.appointment.expect("set").status,
        i32::from(pb::AppointmentStatus::Scheduled)
    );
    assert_eq!(cancelled.action, "cancelled");
    let cancelled = cancelled.appointment.expect("set");
    assert_eq!(
        cancelled.status,
        i32::from(pb::AppointmentStatus::Cancelled)
    );
    assert_eq!(
        cancelled.cancel_reason,
        "patient replied \"2\" to a reminder"
    );
    assert_eq!(retried.action, "cancelled");
    assert_eq!(late.action, "too_late");
    assert_eq!(
        violated_fields(&bad),
        ["appointment_id", "channel", "text", "request_id"]
    );
    assert_eq!(kiosk.code(), Code::PermissionDenied);
}

async fn a_waiting_patient_is_told_their_place_every_ten_minutes(database: TestDatabase) {
    let clinic = TestClinic::start(database).await;
    let lucia = lucia(&clinic).await;
    let ruiz = clinic.provider("Dra. Ana Ruiz").await;
    let booked = clinic.book(&lucia, &ruiz, (22, "08:30"), 30).await;
    let mut reception = clinic.client(Role::Reception).await;
    reception
        .check_in_appointment(pb::CheckInAppointmentRequest {
            appointment_id: booked.appointment_id.clone(),
            ..Default::default()
        })
        .await
        .expect("checked in");
    let updates = |messages: Vec<pb::OutboxMessage>| -> Vec<pb::OutboxMessage> {
        messages
            .into_iter()
            .filter(|m| m.kind == "wait_update")
            .collect()
    };

    clinic.clock.advance(TimeDelta::minutes(9));
    let none = updates(outbox(&mut reception, &booked.appointment_id).await);
    clinic.clock.advance(TimeDelta::minutes(1));
    let first = updates(outbox(&mut reception, &booked.appointment_id).await);
    clinic.clock.advance(TimeDelta::minutes(10));
    let second = updates(outbox(&mut reception, &booked.appointment_id).await);

    assert!(none.is_empty());
    assert_eq!(first.len(), 2, "SMS and email");
    assert_eq!(first[0].round, "w1");
    assert!(first[0].body.contains("A-001"), "{}", first[0].body);
    assert!(
        first[0].body.contains("number 1 in the queue"),
        "{}",
        first[0].body
    );
    assert!(!first[0].queue_entry_id.is_empty());
    let rounds: Vec<&str> = second.iter().map(|m| m.round.as_str()).collect();
    assert_eq!(rounds, ["w1", "w1", "w2", "w2"]);
}
