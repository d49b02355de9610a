//! What staff (and finished calls) ask the counter for, and [`Counter::act`]: the one place
//! an [`Action`] becomes a call on the backend. Each call's [`Pending`](crate::backend::Pending)
//! is kept by the panel that asked, whose `poll` takes the result.

use clinic_common::time::local_date;
use clinic_proto::billing::v1 as billing;
use clinic_proto::common::v1 as common;
use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use eframe::egui;

use super::account::AccountPanel;
use super::booking::{BookingLists, SLOTS_SHOWN};
use super::calls;
use super::payment::{self, Payer, PaymentRequest};
use super::schedule::Step;
use super::{Counter, Tab};
use crate::backend::answer;
use crate::format;
use crate::i18n::{T, fill};
use crate::printing;

/// A panel's intent, handed to [`Counter::act`].
pub(super) enum Action {
    /// Shows the outcome of what staff did, good or bad, in the banner.
    Tell(Result<String, String>),

    /// Opens the staff queue watch.
    WatchQueue,
    /// Loads today's schedule now.
    LoadSchedule,
    /// Loads the schedule again once the load under way (if any) is done.
    ReloadSchedule,
    CheckIn(String),
    Step(Step),
    Cancel {
        appointment_id: String,
        reason: String,
    },
    CallNext,
    /// Moves an appointment to another time, or another provider (from the book).
    Move {
        appointment_id: String,
        start: chrono::DateTime<chrono::Utc>,
        provider_id: String,
    },
    /// Books the open account's patient at a time clicked on the book, for the kind of visit
    /// chosen in their booking form.
    BookAt {
        slot: scheduling::FreeSlot,
        resource_ids: Vec<String>,
        patient_name: String,
    },

    /// Opens a patient's account, from today's appointment (or none).
    OpenAccount {
        patient: Box<patients::Patient>,
        appointment_id: String,
    },
    /// Opens a found patient's account, with their appointment today if they have one.
    OpenPatient(Box<patients::Patient>),
    Search(String),
    Register,
    FindTimes,
    Book(Box<scheduling::FreeSlot>),
    LoadPrices,
    LoadBookingLists,

    LoadBalance,
    WalkIn,
    PostCharge,
    AddPart,
    TakePayment,
    PrintReceipt,

    LoadDrawer,
    /// Opens the drawer with the count typed, or closes it.
    CountDrawer,

    LoadClose,
    Export(billing::ReportFormat),
}

impl Counter {
    pub(super) fn act(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Tell(outcome) => self.message = Some(outcome),
            Action::WatchQueue => {
                self.schedule.queue_events = Some(calls::watch_queue(&self.backend, ctx));
            }
            Action::LoadSchedule => self.load_schedule(ctx),
            Action::ReloadSchedule => self.schedule.reload = true,
            Action::CheckIn(appointment_id) => self.check_in(ctx, appointment_id),
            Action::Step(step) => self.take_step(ctx, step),
            Action::Cancel {
                appointment_id,
                reason,
            } => self.cancel(ctx, appointment_id, reason),
            Action::CallNext => self.call_next(ctx),
            Action::OpenAccount {
                patient,
                appointment_id,
            } => self.open_account(ctx, *patient, appointment_id),
            Action::Move {
                appointment_id,
                start,
                provider_id,
            } => self.move_appointment(ctx, appointment_id, start, provider_id),
            Action::BookAt {
                slot,
                resource_ids,
                patient_name,
            } => self.book_at(ctx, slot, resource_ids, patient_name),
            Action::OpenPatient(patient) => {
                let today = local_date(self.clock.now(), self.clinic.time_zone);
                let appointment_id = self.schedule.todays_appointment(&patient.patient_id, today);
                self.open_account(ctx, *patient, appointment_id);
            }
            Action::Search(query) => self.search(ctx, query),
            Action::Register => self.register(ctx),
            Action::FindTimes => self.find_times(ctx),
            Action::Book(slot) => self.book(ctx, *slot),
            Action::LoadPrices => self.load_prices(ctx),
            Action::LoadBookingLists => {
                let backend = self.backend.clone();
                self.lists.loading_booking =
                    Some(self.backend.call(ctx, BookingLists::load(backend)));
            }
            Action::LoadBalance => self.load_balance(ctx),
            Action::WalkIn => self.walk_in(ctx),
            Action::PostCharge => self.post_charge(ctx),
            Action::AddPart => self.add_part(),
            Action::TakePayment => self.take_payment(ctx),
            Action::PrintReceipt => self.print_receipt(ctx),
            Action::LoadDrawer => self.load_drawer(ctx),
            Action::CountDrawer => self.count_drawer(ctx),
            Action::LoadClose => self.load_close(ctx),
            Action::Export(format) => {
                let (backend, dir) = (self.backend.clone(), self.exports_dir.clone());
                let lang = self.lang;
                self.close.exporting = Some(
                    self.backend
                        .call(ctx, calls::export_daily_close(backend, format, dir, lang)),
                );
            }
        }
    }

    // --- Schedule ------------------------------------------------------------------------------

    fn load_schedule(&mut self, ctx: &egui::Context) {
        let known = self.schedule.known();
        let backend = self.backend.clone();
        let day = self
            .schedule
            .day_shown(local_date(self.clock.now(), self.clinic.time_zone));
        let week = self.schedule.week_shown();
        self.schedule.loading = Some(self.backend.call(
            ctx,
            calls::load_schedule(backend, (day, week, self.clinic.time_zone), known),
        ));
    }

    fn check_in(&mut self, ctx: &egui::Context, appointment_id: String) {
        let mut scheduling = self.backend.scheduling.clone();
        let request = scheduling::CheckInAppointmentRequest {
            appointment_id,
            identity: None,
            confirmation_code: String::new(),
        };
        self.schedule.checking_in = Some(self.backend.call(ctx, async move {
            answer(scheduling.check_in_appointment(request).await)
        }));
    }

    fn take_step(&mut self, ctx: &egui::Context, step: Step) {
        self.schedule.calling_next = false;
        let backend = self.backend.clone();
        let done = T::Done.get(self.lang).to_owned();
        self.schedule.acting = Some(
            self.backend
                .call(ctx, calls::take_step(backend, step, done)),
        );
    }

    fn cancel(&mut self, ctx: &egui::Context, appointment_id: String, reason: String) {
        let mut scheduling = self.backend.scheduling.clone();
        let request = scheduling::CancelAppointmentRequest {
            appointment_id,
            reason,
        };
        let done = T::StatusCancelled.get(self.lang);
        self.schedule.acting = Some(self.backend.call(ctx, async move {
            answer(scheduling.cancel_appointment(request).await).map(|_| done.to_owned())
        }));
    }

    fn move_appointment(
        &mut self,
        ctx: &egui::Context,
        appointment_id: String,
        start: chrono::DateTime<chrono::Utc>,
        provider_id: String,
    ) {
        self.schedule.calling_next = false;
        let mut request = scheduling::RescheduleAppointmentRequest {
            appointment_id,
            start_time: Some(clinic_proto::timestamp_to_proto(start)),
            end_time: None,
            provider_id,
            request_id: String::new(),
        };
        request.request_id = self.schedule.move_key.for_request(format!("{request:?}"));
        let done = fill(
            T::MovedTo.get(self.lang),
            &[(
                "time",
                &format!(
                    "{} {}",
                    start
                        .with_timezone(&self.clinic.time_zone)
                        .format("%Y-%m-%d"),
                    format::local_time(start, self.clinic.time_zone)
                ),
            )],
        );
        let mut scheduling = self.backend.scheduling.clone();
        self.schedule.acting = Some(self.backend.call(ctx, async move {
            answer(scheduling.reschedule_appointment(request).await).map(|_| done)
        }));
    }

    fn book_at(
        &mut self,
        ctx: &egui::Context,
        slot: scheduling::FreeSlot,
        resource_ids: Vec<String>,
        patient_name: String,
    ) {
        let Some(account) = &self.account else {
            return;
        };
        self.schedule.calling_next = false;
        let appointment = scheduling::Appointment {
            patient_id: account.patient.patient_id.clone(),
            provider_id: slot.provider_id,
            appointment_type_id: self.patients.booking.type_id.clone(),
            start_time: slot.start_time,
            end_time: slot.end_time,
            resource_ids,
            ..Default::default()
        };
        let request = scheduling::CreateAppointmentRequest {
            request_id: self
                .schedule
                .book_key
                .for_request(format!("{appointment:?}")),
            appointment: Some(appointment),
        };
        let time = clinic_proto::timestamp_from_proto(slot.start_time.as_ref())
            .map(|start| format::local_time(start, self.clinic.time_zone))
            .unwrap_or_default();
        let done = fill(
            T::BookedAt.get(self.lang),
            &[("name", &patient_name), ("time", &time)],
        );
        let mut scheduling = self.backend.scheduling.clone();
        self.schedule.acting = Some(self.backend.call(ctx, async move {
            answer(scheduling.create_appointment(request).await).map(|_| done)
        }));
    }

    fn call_next(&mut self, ctx: &egui::Context) {
        let request = scheduling::CallNextRequest {
            provider_id: String::new(),
            request_id: self.schedule.call_next_key.for_request("call-next".into()),
        };
        let backend = self.backend.clone();
        self.schedule.acting = Some(
            self.backend
                .call(ctx, calls::call_next(backend, request, self.lang)),
        );
        self.schedule.calling_next = true;
    }

    // --- Patients ------------------------------------------------------------------------------

    /// Opens the patient's account on the Patients tab, asking for the balance and the
    /// first-visit form, with a new booking form.
    fn open_account(
        &mut self,
        ctx: &egui::Context,
        patient: patients::Patient,
        appointment_id: String,
    ) {
        self.tab = Tab::Patients;
        self.message = None;
        let patient_id = patient.patient_id.clone();
        let mut account = AccountPanel::new(patient, appointment_id);
        let backend = self.backend.clone();
        account.loading_intake = Some(
            self.backend
                .call(ctx, calls::intake_form(backend, patient_id)),
        );
        self.account = Some(account);
        self.load_balance(ctx);
        self.patients.booking = Default::default();
        // A price list (or the providers and kinds of visit) that failed to load is asked for
        // again when an account opens.
        self.lists.retry();
    }

    fn search(&mut self, ctx: &egui::Context, query: String) {
        let mut patients = self.backend.patients.clone();
        self.patients.searching = Some(self.backend.call(ctx, async move {
            answer(
                patients
                    .search_patients(patients::SearchPatientsRequest { query, page: None })
                    .await,
            )
            .map(|found| found.patients)
        }));
    }

    fn register(&mut self, ctx: &egui::Context) {
        let form = &mut self.patients.register;
        let patient = match form.patient(self.lang) {
            Ok(patient) => patient,
            Err(problem) => {
                self.message = Some(Err(problem));
                return;
            }
        };
        let request = patients::CreatePatientRequest {
            request_id: form.key.for_request(format!("{patient:?}")),
            patient: Some(patient),
        };
        let mut registry = self.backend.patients.clone();
        form.registering = Some(self.backend.call(ctx, async move {
            answer(registry.create_patient(request).await)
        }));
    }

    fn find_times(&mut self, ctx: &egui::Context) {
        let today = local_date(self.clock.now(), self.clinic.time_zone);
        let booking = &mut self.patients.booking;
        let Some((from, until)) = booking.days(today) else {
            self.message = Some(Err(T::DateInvalid.get(self.lang).into()));
            return;
        };
        let request = scheduling::FindFreeSlotsRequest {
            appointment_type_id: booking.type_id.clone(),
            date_range: Some(common::DateRange {
                start_date: Some(date_to_proto(from)),
                end_date: Some(date_to_proto(until)),
            }),
            provider_id: booking.provider_id.clone(),
            preferences: None,
            page: Some(common::PageRequest {
                page_size: SLOTS_SHOWN,
                page_token: String::new(),
            }),
        };
        let mut scheduling = self.backend.scheduling.clone();
        booking.finding = Some(self.backend.call(ctx, async move {
            answer(scheduling.find_free_slots(request).await).map(|found| found.slots)
        }));
    }

    fn book(&mut self, ctx: &egui::Context, slot: scheduling::FreeSlot) {
        let Some(account) = &self.account else {
            return;
        };
        let booking = &mut self.patients.booking;
        let appointment = scheduling::Appointment {
            patient_id: account.patient.patient_id.clone(),
            provider_id: slot.provider_id.clone(),
            appointment_type_id: booking.type_id.clone(),
            start_time: slot.start_time,
            end_time: slot.end_time,
            ..Default::default()
        };
        let request = scheduling::CreateAppointmentRequest {
            request_id: booking.key.for_request(format!("{appointment:?}")),
            appointment: Some(appointment),
        };
        let mut scheduling = self.backend.scheduling.clone();
        booking.booking = Some(self.backend.call(ctx, async move {
            answer(scheduling.create_appointment(request).await)
        }));
    }

    fn load_prices(&mut self, ctx: &egui::Context) {
        let mut billing = self.backend.billing.clone();
        self.lists.loading_prices = Some(self.backend.call(ctx, async move {
            answer(
                billing
                    .list_price_list_items(billing::ListPriceListItemsRequest {
                        page: Some(common::PageRequest {
                            page_size: 500,
                            page_token: String::new(),
                        }),
                    })
                    .await,
            )
            .map(|list| list.items)
        }));
    }

    // --- The open account ----------------------------------------------------------------------

    fn load_balance(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let mut billing = self.backend.billing.clone();
        let patient_id = account.patient.patient_id.clone();
        account.loading_balance = Some(self.backend.call(ctx, async move {
            answer(
                billing
                    .get_account_balance(billing::GetAccountBalanceRequest {
                        patient_id,
                        identity: None,
                    })
                    .await,
            )
        }));
    }

    /// Queues a patient with no appointment today as a walk-in.
    fn walk_in(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let patient_id = account.patient.patient_id.clone();
        let request = scheduling::RegisterWalkInRequest {
            request_id: account.walk_in_key.for_request(patient_id.clone()),
            patient_id,
            provider_id: String::new(),
            appointment_type_id: String::new(),
        };
        let mut scheduling = self.backend.scheduling.clone();
        account.walking_in = Some(self.backend.call(ctx, async move {
            answer(scheduling.register_walk_in(request).await)
        }));
    }

    fn post_charge(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let Some(quantity) = account.charge_quantity() else {
            return;
        };
        // Sent again after a timeout, the same charge keeps its key and is posted once.
        let fingerprint = format!(
            "{}|{}|{}|{quantity}",
            account.patient.patient_id, account.appointment_id, account.charge_code
        );
        let request = billing::PostChargeRequest {
            patient_id: account.patient.patient_id.clone(),
            price_code: account.charge_code.clone(),
            quantity,
            appointment_id: account.appointment_id.clone(),
            service_date: None,
            request_id: account.charge_key.for_request(fingerprint),
            ..Default::default()
        };
        let mut billing = self.backend.billing.clone();
        account.posting_charge =
            Some(self.backend.call(
                ctx,
                async move { answer(billing.post_charge(request).await) },
            ));
    }

    fn add_part(&mut self) {
        let Some(account) = &mut self.account else {
            return;
        };
        if let Err(problem) = account.add_part(self.clinic.currency, self.lang) {
            self.message = Some(Err(problem));
        }
    }

    /// Takes the parts added so far and the one in the form as one payment: a card through the
    /// outbox, anything else straight to billing.
    fn take_payment(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let forms = match account.payment_forms(self.clinic.currency, self.lang) {
            Ok(forms) => forms,
            Err(problem) => {
                self.message = Some(Err(problem));
                return;
            }
        };
        // The same payment retried (billing was down) keeps its key; anything changed gets a new one.
        let fingerprint = format!("{}|{forms:?}", account.patient.patient_id);
        let payer = Payer {
            patient_id: account.patient.patient_id.clone(),
            request_id: account.payment_key.for_request(fingerprint),
            terminal_id: &self.terminal_id,
            now: self.clock.now(),
        };
        self.message = None;
        let Some(request) = payment::payment_request(&forms, payer) else {
            self.message = Some(Err(T::OneCardPerPayment.get(self.lang).into()));
            return;
        };
        let backend = self.backend.clone();
        account.paying = Some(match request {
            PaymentRequest::Card(payment) => {
                let (outbox, nudge) = (self.outbox.clone(), self.nudge.clone());
                self.backend.call(
                    ctx,
                    calls::post_card_payment(backend, outbox, nudge, *payment),
                )
            }
            PaymentRequest::Billing(request) => self
                .backend
                .call(ctx, calls::post_payment(backend, *request)),
        });
    }

    fn print_receipt(&mut self, ctx: &egui::Context) {
        let Some(account) = &mut self.account else {
            return;
        };
        let Some(payment) = &account.last_payment else {
            return;
        };
        let (backend, printer) = (self.backend.clone(), self.printer.clone());
        let (payment_id, receipt) = (payment.payment_id.clone(), payment.receipt_number.clone());
        let lang = self.lang;
        account.printing = Some(self.backend.call(ctx, async move {
            printing::print_receipt(backend, printer, payment_id, receipt, lang).await
        }));
    }

    // --- Drawer and daily close ----------------------------------------------------------------

    fn load_drawer(&mut self, ctx: &egui::Context) {
        let backend = self.backend.clone();
        let terminal_id = self.terminal_id.clone();
        self.drawer.loading = Some(
            self.backend
                .call(ctx, calls::cash_drawer(backend, terminal_id)),
        );
    }

    /// Sends the count: it opens a closed drawer and closes an open one. A count sent again
    /// (billing asked for a reason, or did not answer) keeps its idempotency key.
    fn count_drawer(&mut self, ctx: &egui::Context) {
        let drawer = &mut self.drawer;
        let counts = drawer.counted(self.clinic.currency);
        let request_id = drawer
            .request_id
            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
            .clone();
        let mut billing = self.backend.billing.clone();
        let terminal_id = self.terminal_id.clone();
        let reason = drawer.reason.trim().to_owned();
        drawer.submitting = Some(if drawer.opening() {
            let request = billing::OpenCashDrawerRequest {
                terminal_id,
                opening_count: counts,
                opening_difference_reason: reason,
                request_id,
            };
            self.backend.call(ctx, async move {
                answer(billing.open_cash_drawer(request).await)
            })
        } else {
            let request = billing::CloseCashDrawerRequest {
                terminal_id,
                closing_count: counts,
                difference_reason: reason,
                request_id,
            };
            self.backend.call(ctx, async move {
                answer(billing.close_cash_drawer(request).await)
            })
        });
    }

    fn load_close(&mut self, ctx: &egui::Context) {
        self.close.failed = false;
        let mut billing = self.backend.billing.clone();
        let day = Some(date_to_proto(local_date(
            self.clock.now(),
            self.clinic.time_zone,
        )));
        self.close.loading = Some(self.backend.call(ctx, async move {
            answer(
                billing
                    .get_daily_close(billing::GetDailyCloseRequest { day })
                    .await,
            )
        }));
    }
}
