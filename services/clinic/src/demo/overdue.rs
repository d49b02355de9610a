//! The demo clinic's overdue book, as the collections desk works it: debts of every age, promises
//! to pay (kept, broken, still running), payment plans (on track, missed), disputes (open and
//! answered), a patient who asked not to be contacted, an account sent to an agency, and a few
//! accounts assigned to a collector.
//!
//! A broken promise or a missed instalment is a promise or plan whose day has passed, so those
//! are carried over as a manager would carry them over from the clinic's earlier records, with
//! the day they were made (`made_time`, `agreed_time`); everything else happens today.

use std::time::Duration;

use anyhow::Context;
use chrono::{NaiveDate, TimeDelta};
use clinic_proto::billing::v1 as billing;
use clinic_proto::collections::v1 as pb;
use clinic_proto::common::v1::Money;
use clinic_proto::{date_to_proto, timestamp_to_proto};

use super::Seeder;

/// How long the seeder waits for collections to apply the book's charges.
const CATCH_UP: Duration = Duration::from_secs(30);

/// Who works the assigned accounts: the collector the demo's collections desk is set up for.
const COLLECTOR: &str = super::devices::DEMO_COLLECTOR;

impl Seeder<'_> {
    /// Seeds the overdue book on patients 45 onwards; returns how many accounts it holds.
    pub(super) async fn seed_overdue(
        &mut self,
        today: NaiveDate,
        patient_ids: &[String],
        currency: &str,
    ) -> anyhow::Result<usize> {
        let book: Vec<&String> = patient_ids.iter().skip(45).take(10).collect();
        anyhow::ensure!(book.len() == 10, "the overdue book needs ten patients");
        let money = |minor_units: i64| Money {
            minor_units,
            currency_code: currency.into(),
        };
        // (patient, price code, quantity, days ago)
        let debts = [
            (0, "ENDO-01", 1, 70),
            (1, "CORONA-ZR", 1, 95),
            (2, "BLAN-01", 1, 20),
            (3, "CORONA-ZR", 1, 60),
            (4, "ENDO-01", 1, 80),
            (4, "RX-PAN", 1, 80),
            (5, "LIMP-01", 1, 15),
            (6, "RES-01", 1, 30),
            (7, "ORTO-MES", 3, 100),
            (8, "CORONA-ZR", 1, 200),
            (9, "EXT-01", 1, 45),
        ];
        for (index, (patient, code, quantity, days_ago)) in debts.into_iter().enumerate() {
            self.billing
                .post_charge(billing::PostChargeRequest {
                    patient_id: book[patient].clone(),
                    price_code: code.into(),
                    quantity,
                    appointment_id: String::new(),
                    service_date: Some(date_to_proto(today - TimeDelta::days(days_ago))),
                    request_id: format!("demo-overdue-charge-{index}"),
                    ..Default::default()
                })
                .await
                .context("failed to post an overdue charge")?;
        }
        self.wait_for_collections().await?;

        let now = self.clock.now();
        let ago = |days: i64| Some(timestamp_to_proto(now - TimeDelta::days(days)));
        let promise = |patient: usize, minor: i64, day: NaiveDate, note: &str| pb::Promise {
            patient_id: book[patient].clone(),
            amount: Some(money(minor)),
            promised_date: Some(date_to_proto(day)),
            note: note.into(),
            ..Default::default()
        };
        // Kept: promised today in a call and paid by card over the phone.
        let kept_call = self
            .promised_on_the_phone(book[0], "demo-promise-call-kept")
            .await?;
        self.collections
            .record_promise(pb::RecordPromiseRequest {
                promise: Some(pb::Promise {
                    contact_id: kept_call,
                    ..promise(0, 100_000, today, "Paga $1,000 hoy con tarjeta.")
                }),
                request_id: "demo-promise-kept".into(),
                made_time: None,
            })
            .await
            .context("failed to record a kept promise")?;
        self.collections
            .take_payment(pb::TakePaymentRequest {
                patient_id: book[0].clone(),
                amount: Some(money(100_000)),
                method: Some(pb::take_payment_request::Method::Card(
                    billing::CardPayment {
                        authorization_code: "T48213".into(),
                        last_four: "4417".into(),
                        card_type: billing::CardType::Credit as i32,
                    },
                )),
                request_id: "demo-phone-payment-0".into(),
            })
            .await
            .context("failed to take a payment by phone")?;
        // Broken: promised twelve days ago for five days ago; nothing came.
        self.collections
            .record_promise(pb::RecordPromiseRequest {
                promise: Some(promise(
                    1,
                    200_000,
                    today - TimeDelta::days(5),
                    "Prometió $2,000 al cobrar la quincena.",
                )),
                request_id: "demo-promise-broken".into(),
                made_time: ago(12),
            })
            .await
            .context("failed to carry over a broken promise")?;
        // Still running: promised today in a call, due in five days.
        let open_call = self
            .promised_on_the_phone(book[2], "demo-promise-call-open")
            .await?;
        self.collections
            .record_promise(pb::RecordPromiseRequest {
                promise: Some(pb::Promise {
                    contact_id: open_call,
                    ..promise(
                        2,
                        350_000,
                        today + TimeDelta::days(5),
                        "Liquidará el blanqueamiento el viernes.",
                    )
                }),
                request_id: "demo-promise-open".into(),
                made_time: None,
            })
            .await
            .context("failed to record an open promise")?;

        // On track: agreed today, down payment paid by transfer.
        self.collections
            .create_payment_plan(pb::CreatePaymentPlanRequest {
                plan: Some(pb::PaymentPlan {
                    patient_id: book[3].clone(),
                    total: Some(money(750_000)),
                    down_payment: Some(money(150_000)),
                    instalment_count: 4,
                    frequency: pb::PaymentPlanFrequency::Monthly as i32,
                    first_date: Some(date_to_proto(today + TimeDelta::days(30))),
                    ..Default::default()
                }),
                request_id: "demo-plan-on-track".into(),
                agreed_time: None,
            })
            .await
            .context("failed to agree a plan")?;
        self.billing
            .post_payment(billing::PostPaymentRequest {
                patient_id: book[3].clone(),
                amount: Some(money(150_000)),
                method: Some(billing::post_payment_request::Method::BankTransfer(
                    billing::BankTransferPayment {
                        reference: "SPEI-40271934".into(),
                    },
                )),
                request_id: "demo-plan-down-payment".into(),
                terminal_id: String::new(),
                ..Default::default()
            })
            .await
            .context("failed to pay a down payment")?;
        // Missed: agreed 45 days ago, biweekly from 30 days ago; only $1,000 since.
        self.collections
            .create_payment_plan(pb::CreatePaymentPlanRequest {
                plan: Some(pb::PaymentPlan {
                    patient_id: book[4].clone(),
                    total: Some(money(515_000)),
                    instalment_count: 3,
                    frequency: pb::PaymentPlanFrequency::Biweekly as i32,
                    first_date: Some(date_to_proto(today - TimeDelta::days(30))),
                    ..Default::default()
                }),
                request_id: "demo-plan-missed".into(),
                agreed_time: ago(45),
            })
            .await
            .context("failed to carry over a plan")?;
        self.billing
            .post_payment(billing::PostPaymentRequest {
                patient_id: book[4].clone(),
                amount: Some(money(100_000)),
                method: Some(billing::post_payment_request::Method::Card(
                    billing::CardPayment {
                        authorization_code: "T90017".into(),
                        last_four: "0093".into(),
                        card_type: billing::CardType::Debit as i32,
                    },
                )),
                request_id: "demo-plan-late-payment".into(),
                terminal_id: String::new(),
                ..Default::default()
            })
            .await
            .context("failed to pay towards a plan")?;

        // Disputes: one open, one answered; and a patient who asked not to be contacted.
        let inbound = |patient: usize,
                       outcome: pb::ContactOutcome,
                       issue: pb::BillingIssue,
                       notes: &str| pb::Contact {
            patient_id: book[patient].clone(),
            channel: pb::ContactChannel::PhoneCall as i32,
            direction: pb::ContactDirection::Inbound as i32,
            kind: pb::ContactKind::Conversation as i32,
            outcome: outcome as i32,
            billing_issue: issue as i32,
            notes: notes.into(),
            ..Default::default()
        };
        let contacts = [
            inbound(
                5,
                pb::ContactOutcome::Disputed,
                pb::BillingIssue::WrongCharge,
                "Dice que la limpieza estaba incluida en su paquete.",
            ),
            inbound(
                6,
                pb::ContactOutcome::Disputed,
                pb::BillingIssue::Price,
                "No está de acuerdo con el precio de la resina.",
            ),
            inbound(
                7,
                pb::ContactOutcome::CeaseRequested,
                pb::BillingIssue::ServiceComplaint,
                "Pide por escrito que no la llamemos más.",
            ),
            inbound(
                9,
                pb::ContactOutcome::Spoke,
                pb::BillingIssue::Insurance,
                "Espera el reembolso de su aseguradora.",
            ),
        ];
        for (index, contact) in contacts.into_iter().enumerate() {
            self.collections
                .record_contact(pb::RecordContactRequest {
                    contact: Some(contact),
                    request_id: format!("demo-contact-{index}"),
                })
                .await
                .context("failed to record a demo contact")?;
        }
        self.collections
            .answer_dispute(pb::AnswerDisputeRequest {
                patient_id: book[6].clone(),
                answer: pb::DisputeAnswer::Upheld as i32,
                answer_note: "El precio es el de la lista vigente el día del tratamiento.".into(),
                request_id: "demo-dispute-answer".into(),
                ..Default::default()
            })
            .await
            .context("failed to answer a dispute")?;
        self.collections
            .record_contact(pb::RecordContactRequest {
                contact: Some(pb::Contact {
                    patient_id: book[7].clone(),
                    channel: pb::ContactChannel::Letter as i32,
                    direction: pb::ContactDirection::Outbound as i32,
                    kind: pb::ContactKind::Attempt as i32,
                    purpose: pb::ContactPurpose::PermittedNotice as i32,
                    outcome: pb::ContactOutcome::LeftMessage as i32,
                    notes: "Confirmación por carta de su solicitud.".into(),
                    ..Default::default()
                }),
                request_id: "demo-cease-confirmation".into(),
            })
            .await
            .context("failed to confirm a cease request")?;
        self.collections
            .escalate_account(pb::EscalateAccountRequest {
                patient_id: book[8].clone(),
                target: pb::EscalationTarget::ExternalAgency as i32,
                reason: "Más de seis meses sin respuesta a cartas ni llamadas.".into(),
                request_id: "demo-escalation".into(),
            })
            .await
            .context("failed to escalate an account")?;
        for patient in [1, 4, 9] {
            self.collections
                .assign_account(pb::AssignAccountRequest {
                    patient_id: book[patient].clone(),
                    collector: COLLECTOR.into(),
                })
                .await
                .context("failed to assign an account")?;
        }
        Ok(book.len())
    }

    /// Waits until collections has applied every entry billing has.
    async fn wait_for_collections(&mut self) -> anyhow::Result<()> {
        let head = self
            .billing
            .list_ledger_entries(billing::ListLedgerEntriesRequest {
                after_sequence: 0,
                page_size: 1,
            })
            .await
            .context("failed to read billing's ledger head")?
            .into_inner()
            .head_sequence;
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        loop {
            let status = self
                .collections
                .get_ledger_sync_status(pb::GetLedgerSyncStatusRequest {})
                .await
                .context("failed to ask collections how far it has got")?
                .into_inner();
            if status.applied_sequence >= head {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "collections did not catch up with billing's ledger in time"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Logs the patient's call in which they promised to pay: a promise is made in a
    /// conversation. Returns the contact's id.
    async fn promised_on_the_phone(
        &mut self,
        patient_id: &str,
        request_id: &str,
    ) -> anyhow::Result<String> {
        let contact = self
            .collections
            .record_contact(pb::RecordContactRequest {
                contact: Some(pb::Contact {
                    patient_id: patient_id.into(),
                    channel: pb::ContactChannel::PhoneCall as i32,
                    direction: pb::ContactDirection::Inbound as i32,
                    kind: pb::ContactKind::Conversation as i32,
                    outcome: pb::ContactOutcome::Promise as i32,
                    notes: "Llamó para acordar un pago.".into(),
                    ..Default::default()
                }),
                request_id: request_id.into(),
            })
            .await
            .context("failed to log a call ending in a promise")?;
        Ok(contact.into_inner().contact_id)
    }
}
