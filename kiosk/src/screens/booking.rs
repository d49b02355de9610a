//! Reception's bookings and registrations at the counter: a new patient registered at the desk,
//! and an appointment booked for a patient at a free time scheduling finds for the kind of visit
//! (with the provider asked for, or anyone). Both keep their idempotency key across retries, so a
//! click repeated after a timeout registers or books once.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::settings::ClinicSettings;
use clinic_proto::common::v1 as common;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::{date_to_proto, timestamp_from_proto};
use eframe::egui;
use egui::RichText;

use crate::backend::{Backend, Pending, RetryKey, answer};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// How many days ahead a search for free times looks.
const SEARCH_DAYS: u64 = 14;
/// How many free times are offered at once.
const SLOTS_SHOWN: i32 = 24;

/// The providers and kinds of visit a booking chooses from.
#[derive(Debug, Clone, Default)]
pub struct BookingLists {
    pub providers: Vec<scheduling::Provider>,
    pub types: Vec<scheduling::AppointmentType>,
}

impl BookingLists {
    pub async fn load(backend: Backend) -> Result<BookingLists, crate::backend::CallError> {
        let mut scheduling = backend.scheduling.clone();
        let page = || {
            Some(common::PageRequest {
                page_size: 200,
                page_token: String::new(),
            })
        };
        let providers = answer(
            scheduling
                .list_providers(scheduling::ListProvidersRequest { page: page() })
                .await,
        )?
        .providers;
        let types = answer(
            scheduling
                .list_appointment_types(scheduling::ListAppointmentTypesRequest {
                    page: page(),
                    show_deleted: false,
                })
                .await,
        )?
        .appointment_types;
        Ok(BookingLists { providers, types })
    }

    fn provider_name(&self, provider_id: &str) -> &str {
        self.providers
            .iter()
            .find(|p| p.provider_id == provider_id)
            .map_or("", |p| p.display_name.as_str())
    }
}

/// What a form has to say once a call it made has answered.
pub type Outcome = Result<String, String>;

/// Booking an appointment for the patient whose account is open.
#[derive(Default)]
pub struct BookingForm {
    type_id: String,
    /// Empty: any provider.
    provider_id: String,
    /// The first day searched, `YYYY-MM-DD`; today when empty.
    from: String,
    finding: Option<Pending<Vec<scheduling::FreeSlot>>>,
    slots: Vec<scheduling::FreeSlot>,
    searched: bool,
    booking: Option<Pending<scheduling::Appointment>>,
    key: RetryKey,
}

impl BookingForm {
    /// Draws the form and takes its calls' answers; returns what to tell reception.
    #[allow(clippy::too_many_arguments)]
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &egui::Context,
        backend: &Backend,
        lists: &BookingLists,
        clinic: &ClinicSettings,
        today: NaiveDate,
        lang: Lang,
        patient_id: &str,
    ) -> Option<Outcome> {
        let mut outcome = self.poll(lists, clinic, lang);
        ui.label(RichText::new(T::BookTitle.get(lang)).strong());
        if lists.types.is_empty() {
            ui.label(T::NoAppointmentTypes.get(lang));
            return outcome;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(T::AppointmentType.get(lang));
            for kind in &lists.types {
                let text = format!("{} · {}′", kind.display_name, kind.duration_minutes);
                if ui
                    .selectable_value(&mut self.type_id, kind.appointment_type_id.clone(), text)
                    .changed()
                {
                    self.slots.clear();
                    self.searched = false;
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(T::Provider.get(lang));
            let mut changed = ui
                .selectable_value(
                    &mut self.provider_id,
                    String::new(),
                    T::AnyProvider.get(lang),
                )
                .changed();
            for provider in &lists.providers {
                changed |= ui
                    .selectable_value(
                        &mut self.provider_id,
                        provider.provider_id.clone(),
                        &provider.display_name,
                    )
                    .changed();
            }
            if changed {
                self.slots.clear();
                self.searched = false;
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label(T::FromDate.get(lang));
            ui.add(
                egui::TextEdit::singleline(&mut self.from)
                    .hint_text(today.format("%Y-%m-%d").to_string())
                    .desired_width(110.0),
            )
            .labelled_by(label.id);
            if self.finding.is_some() {
                ui.spinner();
            } else if ui
                .add_enabled(
                    !self.type_id.is_empty(),
                    egui::Button::new(T::FindTimes.get(lang)),
                )
                .clicked()
            {
                let from = match self.from.trim() {
                    "" => today,
                    text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                        Ok(day) if day >= today => day,
                        _ => {
                            outcome = Some(Err(T::DateInvalid.get(lang).into()));
                            return;
                        }
                    },
                };
                let until = from
                    .checked_add_days(chrono::Days::new(SEARCH_DAYS - 1))
                    .unwrap_or(from);
                let mut scheduling = backend.scheduling.clone();
                let request = scheduling::FindFreeSlotsRequest {
                    appointment_type_id: self.type_id.clone(),
                    date_range: Some(common::DateRange {
                        start_date: Some(date_to_proto(from)),
                        end_date: Some(date_to_proto(until)),
                    }),
                    provider_id: self.provider_id.clone(),
                    preferences: None,
                    page: Some(common::PageRequest {
                        page_size: SLOTS_SHOWN,
                        page_token: String::new(),
                    }),
                };
                self.finding = Some(backend.call(ctx, async move {
                    answer(scheduling.find_free_slots(request).await).map(|found| found.slots)
                }));
            }
        });
        if self.searched && self.slots.is_empty() && self.finding.is_none() {
            ui.label(T::NoFreeTimes.get(lang));
        }
        if self.booking.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return outcome;
        }
        let mut chosen = None;
        ui.horizontal_wrapped(|ui| {
            for slot in &self.slots {
                let Some(start) = instant(slot.start_time.as_ref()) else {
                    continue;
                };
                let text = format!(
                    "{} · {}",
                    when(start, clinic),
                    lists.provider_name(&slot.provider_id)
                );
                if ui.button(text).clicked() {
                    chosen = Some(slot.clone());
                }
            }
        });
        if let Some(slot) = chosen {
            let appointment = scheduling::Appointment {
                patient_id: patient_id.to_owned(),
                provider_id: slot.provider_id.clone(),
                appointment_type_id: self.type_id.clone(),
                start_time: slot.start_time,
                end_time: slot.end_time,
                ..Default::default()
            };
            let request = scheduling::CreateAppointmentRequest {
                request_id: self.key.for_request(format!("{appointment:?}")),
                appointment: Some(appointment),
            };
            let mut scheduling = backend.scheduling.clone();
            self.booking = Some(backend.call(ctx, async move {
                answer(scheduling.create_appointment(request).await)
            }));
        }
        outcome
    }

    fn poll(
        &mut self,
        lists: &BookingLists,
        clinic: &ClinicSettings,
        lang: Lang,
    ) -> Option<Outcome> {
        if let Some(result) = self.finding.as_mut().and_then(Pending::take) {
            self.finding = None;
            self.searched = true;
            match result {
                Ok(slots) => self.slots = slots,
                Err(error) => return Some(Err(error.staff_message(lang))),
            }
        }
        if let Some(result) = self.booking.as_mut().and_then(Pending::take) {
            self.booking = None;
            return Some(match result {
                Ok(appointment) => {
                    self.key.settle();
                    self.slots.clear();
                    self.searched = false;
                    let start = instant(appointment.start_time.as_ref())
                        .map(|start| when(start, clinic))
                        .unwrap_or_default();
                    Ok(fill(
                        T::Booked.get(lang),
                        &[
                            ("when", &start),
                            ("provider", lists.provider_name(&appointment.provider_id)),
                            ("code", &appointment.confirmation_code),
                        ],
                    ))
                }
                // A time taken meanwhile: search again.
                Err(error) => {
                    self.searched = false;
                    Err(error.staff_message(lang))
                }
            });
        }
        None
    }
}

/// A new patient, as reception types them in.
pub struct RegisterForm {
    pub open: bool,
    given_name: String,
    family_name: String,
    /// `YYYY-MM-DD`.
    date_of_birth: String,
    phone: String,
    email: String,
    language: Lang,
    consent: patients::ContactConsent,
    registering: Option<Pending<patients::Patient>>,
    key: RetryKey,
}

impl Default for RegisterForm {
    fn default() -> Self {
        RegisterForm {
            open: false,
            given_name: String::new(),
            family_name: String::new(),
            date_of_birth: String::new(),
            phone: String::new(),
            email: String::new(),
            language: Lang::Es,
            consent: patients::ContactConsent::default(),
            registering: None,
            key: RetryKey::default(),
        }
    }
}

/// What registering answered.
pub enum Registered {
    Patient(Box<patients::Patient>),
    Failed(String),
}

impl RegisterForm {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &egui::Context,
        backend: &Backend,
        lang: Lang,
    ) -> Option<Registered> {
        let mut outcome = None;
        if let Some(result) = self.registering.as_mut().and_then(Pending::take) {
            self.registering = None;
            outcome = Some(match result {
                Ok(patient) => {
                    self.key.settle();
                    *self = RegisterForm::default();
                    Registered::Patient(Box::new(patient))
                }
                Err(error) => Registered::Failed(error.staff_message(lang)),
            });
        }
        if !self.open {
            return outcome;
        }
        ui.label(RichText::new(T::NewPatient.get(lang)).strong());
        egui::Grid::new("register")
            .spacing([10.0, 6.0])
            .show(ui, |ui| {
                for (text, value, width) in [
                    (T::GivenName, &mut self.given_name, 220.0),
                    (T::FamilyName, &mut self.family_name, 220.0),
                    (T::BornOn, &mut self.date_of_birth, 110.0),
                    (T::PhoneE164, &mut self.phone, 160.0),
                    (T::EmailOptional, &mut self.email, 220.0),
                ] {
                    let label = ui.label(text.get(lang));
                    ui.add(egui::TextEdit::singleline(value).desired_width(width))
                        .labelled_by(label.id);
                    ui.end_row();
                }
            });
        ui.horizontal_wrapped(|ui| {
            ui.label(T::PatientLanguage.get(lang));
            for option in Lang::ALL {
                ui.selectable_value(&mut self.language, option, option.native_name());
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(T::ConsentedTo.get(lang));
            ui.checkbox(&mut self.consent.phone_call, T::ChannelCall.get(lang));
            ui.checkbox(&mut self.consent.sms, T::ChannelSms.get(lang));
            ui.checkbox(&mut self.consent.whatsapp, T::ChannelWhatsApp.get(lang));
            ui.checkbox(&mut self.consent.email, T::ChannelEmail.get(lang));
        });
        if self.registering.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return outcome;
        }
        if ui.button(T::Register.get(lang)).clicked() {
            let Ok(born) = NaiveDate::parse_from_str(self.date_of_birth.trim(), "%Y-%m-%d") else {
                return Some(Registered::Failed(T::DateInvalid.get(lang).into()));
            };
            // The registry checks every field and names each one that is wrong.
            let patient = patients::Patient {
                given_name: self.given_name.trim().to_owned(),
                family_name: self.family_name.trim().to_owned(),
                date_of_birth: Some(date_to_proto(born)),
                phone: self.phone.trim().to_owned(),
                email: self.email.trim().to_owned(),
                preferred_language: self.language.tag().to_owned(),
                consent: Some(self.consent),
                ..Default::default()
            };
            let request = patients::CreatePatientRequest {
                request_id: self.key.for_request(format!("{patient:?}")),
                patient: Some(patient),
            };
            let mut registry = backend.patients.clone();
            self.registering = Some(backend.call(ctx, async move {
                answer(registry.create_patient(request).await)
            }));
        }
        outcome
    }
}

fn instant(timestamp: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    timestamp_from_proto(timestamp).ok()
}

/// `Tue 01 Dec 10:30`, in the clinic's zone.
fn when(instant: DateTime<Utc>, clinic: &ClinicSettings) -> String {
    let local = instant.with_timezone(&clinic.time_zone);
    format!(
        "{} {}",
        local.format("%a %d %b"),
        format::local_time(instant, clinic.time_zone)
    )
}
