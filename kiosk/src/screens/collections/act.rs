//! What the collector (and finished calls) ask the desk for, and [`CollectionsDesk::act`]: the
//! one place an [`Action`] becomes a call on the collections service. Each call's [`Pending`]
//! is kept by the panel that asked, whose `poll` takes the result.

use clinic_proto::collections::v1 as collections;
use clinic_proto::common::v1 as common;
use eframe::egui;

use super::account::AccountDesk;
use super::notices::save_notice;
use super::promise::promise_answer;
use super::{Client, CollectionsDesk, DeskTab};
use crate::backend::{Backend, CallError, Pending, answer};

/// How many accounts the worklist shows at once: a day's work and more.
const WORKLIST_SIZE: i32 = 200;

/// A panel's intent, handed to [`CollectionsDesk::act`].
pub(super) enum Action {
    /// Shows the outcome of what the collector did, good or bad, in the banner.
    Tell(Result<String, String>),
    /// Loads the worklist now.
    LoadWorklist,
    /// Loads the worklist again once the load under way (if any) is done.
    ReloadWorklist,
    /// Reads a patient's account, to open it.
    OpenAccount(String),
    /// Shows an account just read.
    ShowAccount(Box<collections::AccountOverview>),
    /// Reads the open account again (unless that is under way).
    ReloadAccount,
    CheckContact,
    RecordContact,
    RecordPromise,
    TakePayment,
    RenderNotice(collections::NoticeKind),
}

impl CollectionsDesk {
    pub(super) fn act(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Tell(outcome) => self.message = Some(outcome),
            Action::LoadWorklist => self.load_worklist(ctx),
            Action::ReloadWorklist => self.worklist.reload = true,
            Action::OpenAccount(patient_id) => {
                self.message = None;
                self.worklist.opening =
                    Some(get_account(&self.backend, &self.client, ctx, patient_id));
            }
            Action::ShowAccount(overview) => {
                self.account = Some(AccountDesk::new(*overview));
                self.tab = DeskTab::Account;
            }
            Action::ReloadAccount => {
                if let Some(account) = &mut self.account
                    && account.reloading.is_none()
                {
                    let patient_id = account.patient_id();
                    account.reloading =
                        Some(get_account(&self.backend, &self.client, ctx, patient_id));
                }
            }
            Action::CheckContact => self.check_contact(ctx),
            Action::RecordContact => self.record_contact(ctx),
            Action::RecordPromise => self.record_promise(ctx),
            Action::TakePayment => self.take_payment(ctx),
            Action::RenderNotice(kind) => self.render_notice(ctx, kind),
        }
    }

    fn load_worklist(&mut self, ctx: &egui::Context) {
        let mut client = self.client.clone();
        let request = collections::ListWorklistRequest {
            as_of: None,
            collector: if self.worklist.mine_only {
                self.collector.clone()
            } else {
                String::new()
            },
            page: Some(common::PageRequest {
                page_size: WORKLIST_SIZE,
                page_token: String::new(),
            }),
        };
        self.worklist.loading = Some(self.backend.call(ctx, async move {
            answer(client.list_worklist(request).await).map(|list| list.items)
        }));
    }

    /// Asks whether the rules allow contacting the patient on the chosen channel now.
    fn check_contact(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let channel = account.contact.channel;
        let request = collections::CheckContactRequest {
            patient_id: account.patient_id(),
            channel: channel as i32,
            purpose: collections::ContactPurpose::Outreach as i32,
        };
        let mut client = self.client.clone();
        account.contact.checking = Some(self.backend.call(ctx, async move {
            answer(client.check_contact(request).await).map(|answer| (channel, answer))
        }));
    }

    fn record_contact(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let form = &mut account.contact;
        let contact = match form.contact(account.overview.patient_id.clone(), self.lang) {
            Ok(contact) => contact,
            Err(problem) => {
                self.message = Some(Err(problem));
                return;
            }
        };
        let request = collections::RecordContactRequest {
            request_id: form.key.for_request(format!("{contact:?}")),
            contact: Some(contact),
        };
        let mut client = self.client.clone();
        self.message = None;
        form.recording =
            Some(self.backend.call(
                ctx,
                async move { answer(client.record_contact(request).await) },
            ));
    }

    fn record_promise(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let form = &mut account.promise;
        let patient_id = account.overview.patient_id.clone();
        let promise = match form.promise(patient_id, self.clinic.currency, self.lang) {
            Ok(promise) => promise,
            Err(problem) => {
                form.problem = Some(problem);
                return;
            }
        };
        form.problem = None;
        let request = collections::RecordPromiseRequest {
            request_id: form.key.for_request(format!("{promise:?}")),
            promise: Some(promise),
            made_time: None,
        };
        let mut client = self.client.clone();
        self.message = None;
        form.promising = Some(self.backend.call(ctx, async move {
            promise_answer(client.record_promise(request).await)
        }));
    }

    /// Takes a payment by phone through collections, which hands it to billing.
    fn take_payment(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let patient_id = account.overview.patient_id.clone();
        let form = &mut account.payment;
        let (amount, method) = match form.payment(self.clinic.currency, self.lang) {
            Ok(payment) => payment,
            Err(problem) => {
                self.message = Some(Err(problem));
                return;
            }
        };
        // Retried after a timeout, the same payment keeps its key: billing records it once.
        let fingerprint = format!("{patient_id}|{}|{method:?}", amount.minor_units());
        let request = collections::TakePaymentRequest {
            request_id: form.key.for_request(fingerprint),
            patient_id,
            amount: Some(clinic_proto::money_to_proto(amount)),
            method: Some(method),
        };
        let mut client = self.client.clone();
        self.message = None;
        form.paying =
            Some(self.backend.call(
                ctx,
                async move { answer(client.take_payment(request).await) },
            ));
    }

    /// Renders a notice (in the patient's own language, whatever the desk's) and saves it.
    fn render_notice(&mut self, ctx: &egui::Context, kind: collections::NoticeKind) {
        let Some(account) = &mut self.account else {
            return;
        };
        let request = collections::RenderNoticeRequest {
            patient_id: account.patient_id(),
            kind: kind as i32,
            format: collections::NoticeFormat::Pdf as i32,
            language: String::new(),
        };
        let mut client = self.client.clone();
        let dir = self.notices_dir.clone();
        account.notices.rendering = Some(self.backend.call(ctx, async move {
            let notice = answer(client.render_notice(request).await)?;
            save_notice(&dir, &notice).map_err(|error| CallError::Other(format!("{error:#}")))
        }));
    }
}

/// Reads a patient's account.
fn get_account(
    backend: &Backend,
    client: &Client,
    ctx: &egui::Context,
    patient_id: String,
) -> Pending<collections::AccountOverview> {
    let mut client = client.clone();
    backend.call(ctx, async move {
        answer(
            client
                .get_account(collections::GetAccountRequest { patient_id })
                .await,
        )
    })
}
