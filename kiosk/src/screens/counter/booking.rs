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

use super::View;
use super::act::Action;
use crate::backend::{Backend, CallError, Pending, RetryKey, answer};
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

/// How many days ahead a search for free times looks.
const SEARCH_DAYS: u64 = 14;
/// How many free times are offered at once.
pub(super) const SLOTS_SHOWN: i32 = 24;

/// The providers and kinds of visit a booking chooses from.
#[derive(Debug, Clone, Default)]
pub(super) struct BookingLists {
    providers: Vec<scheduling::Provider>,
    types: Vec<scheduling::AppointmentType>,
}

impl BookingLists {
    /// The kind of visit's length in minutes, if it is on the list.
    pub(super) fn duration_minutes(&self, type_id: &str) -> Option<i64> {
        self.types
            .iter()
            .find(|kind| kind.appointment_type_id == type_id)
            .map(|kind| i64::from(kind.duration_minutes))
    }

    /// The kind of visit's name, if it is on the list.
    pub(super) fn kind_name(&self, type_id: &str) -> Option<&str> {
        self.types
            .iter()
            .find(|kind| kind.appointment_type_id == type_id)
            .map(|kind| kind.display_name.as_str())
    }

    pub(super) async fn load(backend: Backend) -> Result<BookingLists, CallError> {
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
pub(super) type Outcome = Result<String, String>;

/// Booking an appointment for the patient whose account is open.
#[derive(Default)]
pub(super) struct BookingForm {
    pub(super) type_id: String,
    /// Empty: any provider.
    pub(super) provider_id: String,
    /// The first day searched, `YYYY-MM-DD`; today when empty.
    from: String,
    pub(super) finding: Option<Pending<Vec<scheduling::FreeSlot>>>,
    slots: Vec<scheduling::FreeSlot>,
    searched: bool,
    pub(super) booking: Option<Pending<scheduling::Appointment>>,
    pub(super) key: RetryKey,
}

impl BookingForm {
    /// The days to search: from the typed day (today when empty) for [`SEARCH_DAYS`]; `None`
    /// when the typed day is not a date from today on.
    pub(super) fn days(&self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let from = match self.from.trim() {
            "" => today,
            text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(day) if day >= today => day,
                _ => return None,
            },
        };
        let until = from
            .checked_add_days(chrono::Days::new(SEARCH_DAYS - 1))
            .unwrap_or(from);
        Some((from, until))
    }

    /// Draws the form; what reception asked for.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        lists: &BookingLists,
    ) -> Option<Action> {
        let lang = view.lang;
        ui.label(RichText::new(T::BookTitle.get(lang)).strong());
        if lists.types.is_empty() {
            ui.label(T::NoAppointmentTypes.get(lang));
            return None;
        }
        self.type_ui(ui, lang, lists);
        self.provider_ui(ui, lang, lists);
        let find = self.first_day_ui(ui, lang, view.today());
        if self.searched && self.slots.is_empty() && self.finding.is_none() {
            ui.label(T::NoFreeTimes.get(lang));
        }
        if self.booking.is_some() {
            widgets::working(ui, T::Working.get(lang));
            return find;
        }
        find.or(self.slots_ui(ui, view.clinic, lists))
    }

    /// The kind of visit; a new choice forgets the free times found.
    fn type_ui(&mut self, ui: &mut egui::Ui, lang: Lang, lists: &BookingLists) {
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
    }

    /// The provider asked for, or anyone; a new choice forgets the free times found.
    fn provider_ui(&mut self, ui: &mut egui::Ui, lang: Lang, lists: &BookingLists) {
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
    }

    /// The first day to search, and the button that searches.
    fn first_day_ui(&mut self, ui: &mut egui::Ui, lang: Lang, today: NaiveDate) -> Option<Action> {
        let mut action = None;
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
                action = Some(Action::FindTimes);
            }
        });
        action
    }

    /// The free times found, each a button that books it.
    fn slots_ui(
        &self,
        ui: &mut egui::Ui,
        clinic: &ClinicSettings,
        lists: &BookingLists,
    ) -> Option<Action> {
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
                    chosen = Some(Action::Book(Box::new(slot.clone())));
                }
            }
        });
        chosen
    }

    /// Takes the calls' answers; what to tell reception.
    pub(super) fn poll(
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
pub(super) struct RegisterForm {
    pub(super) open: bool,
    given_name: String,
    family_name: String,
    /// `YYYY-MM-DD`.
    date_of_birth: String,
    phone: String,
    email: String,
    language: Lang,
    consent: patients::ContactConsent,
    pub(super) registering: Option<Pending<patients::Patient>>,
    pub(super) key: RetryKey,
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

impl RegisterForm {
    /// The registry's answer, once there: the new patient (and an empty, closed form), or what
    /// to tell reception.
    pub(super) fn poll(&mut self, lang: Lang) -> Option<Result<Box<patients::Patient>, String>> {
        let result = self.registering.as_mut().and_then(Pending::take)?;
        self.registering = None;
        Some(match result {
            Ok(patient) => {
                self.key.settle();
                *self = RegisterForm::default();
                Ok(Box::new(patient))
            }
            Err(error) => Err(error.staff_message(lang)),
        })
    }

    /// The patient the form describes, or what is wrong with it. The registry checks every
    /// field and names each one that is wrong; only the date must parse here.
    pub(super) fn patient(&self, lang: Lang) -> Result<patients::Patient, String> {
        let Ok(born) = NaiveDate::parse_from_str(self.date_of_birth.trim(), "%Y-%m-%d") else {
            return Err(T::DateInvalid.get(lang).into());
        };
        Ok(patients::Patient {
            given_name: self.given_name.trim().to_owned(),
            family_name: self.family_name.trim().to_owned(),
            date_of_birth: Some(date_to_proto(born)),
            phone: self.phone.trim().to_owned(),
            email: self.email.trim().to_owned(),
            preferred_language: self.language.tag().to_owned(),
            consent: Some(self.consent),
            ..Default::default()
        })
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        if !self.open {
            return None;
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
            return None;
        }
        ui.button(T::Register.get(lang))
            .clicked()
            .then_some(Action::Register)
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
