//! The Patients tab above the open account: the search, its results (each opens the patient's
//! account), a new patient's registration, and below the account the booking of a free time.

use clinic_common::settings::ClinicSettings;
use clinic_proto::patients::v1 as patients;
use eframe::egui;

use super::View;
use super::act::Action;
use super::booking::{BookingForm, BookingLists, RegisterForm};
use super::lists::Lists;
use crate::backend::Pending;
use crate::format;
use crate::i18n::{Lang, T, fill};
use crate::widgets;

#[derive(Default)]
pub(super) struct PatientsPanel {
    query: String,
    pub(super) searching: Option<Pending<Vec<patients::Patient>>>,
    results: Vec<patients::Patient>,
    searched: bool,
    /// The registry's refusal of the query, shown at the end of the search's row.
    refusal: Option<String>,
    pub(super) register: RegisterForm,
    /// Booking for the patient whose account is open: a new form with each account.
    pub(super) booking: BookingForm,
}

impl PatientsPanel {
    /// Takes the search's results.
    pub(super) fn poll_search(&mut self, lang: Lang) -> Option<Action> {
        let result = self.searching.as_mut().and_then(Pending::take)?;
        self.searching = None;
        self.searched = true;
        self.refusal = None;
        match result {
            Ok(found) => {
                self.results = found;
                None
            }
            // Too short (one letter) or too long: the rule is the registry's.
            Err(error) if error.names_field("query") => {
                self.results.clear();
                self.searched = false;
                self.refusal = Some(T::SearchTooShort.get(lang).into());
                None
            }
            Err(error) => Some(Action::Tell(Err(error.staff_message(lang)))),
        }
    }

    /// Takes the registration's and the booking's answers: a registered patient's account
    /// opens; a booking changes the schedule.
    pub(super) fn poll_forms(
        &mut self,
        lang: Lang,
        lists: Option<&BookingLists>,
        clinic: &ClinicSettings,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(registered) = self.register.poll(lang) {
            actions.extend(match registered {
                Ok(patient) => {
                    let name = format::full_name(&patient.given_name, &patient.family_name);
                    vec![
                        Action::OpenAccount {
                            patient,
                            appointment_id: String::new(),
                        },
                        Action::Tell(Ok(fill(T::PatientRegistered.get(lang), &[("name", &name)]))),
                    ]
                }
                Err(text) => vec![Action::Tell(Err(text))],
            });
        }
        // The form books only once the lists are there.
        if let Some(lists) = lists
            && let Some(outcome) = self.booking.poll(lists, clinic, lang)
        {
            if outcome.is_ok() {
                actions.push(Action::ReloadSchedule);
            }
            actions.push(Action::Tell(outcome));
        }
        actions
    }

    /// The search, the registration form, and the results.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &View) -> Vec<Action> {
        let lang = view.lang;
        let mut actions: Vec<Action> = self.search_ui(ui, lang).into_iter().collect();
        actions.extend(self.register.ui(ui, lang));
        actions.extend(self.results_ui(ui, lang));
        actions
    }

    fn search_ui(&mut self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            let label = ui.label(T::Patients.get(lang));
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text(T::SearchPatients.get(lang))
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button(T::SearchButton.get(lang)).clicked() || enter)
                && !self.query.trim().is_empty()
            {
                action = Some(Action::Search(self.query.trim().to_owned()));
            }
            if self.searching.is_some() {
                ui.spinner();
            }
            ui.separator();
            ui.toggle_value(&mut self.register.open, T::NewPatient.get(lang));
            // Last in the row, so that it moves nothing when it shows.
            if let Some(refusal) = &self.refusal {
                ui.colored_label(widgets::DANGER, refusal);
            }
        });
        action
    }

    /// The patients found, each a button that opens their account.
    fn results_ui(&self, ui: &mut egui::Ui, lang: Lang) -> Option<Action> {
        let mut action = None;
        if !self.results.is_empty() {
            egui::ScrollArea::vertical()
                .id_salt("results")
                .max_height(150.0)
                .show(ui, |ui| {
                    for patient in &self.results {
                        let born = patient
                            .date_of_birth
                            .as_ref()
                            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                            .unwrap_or_default();
                        let text = format!(
                            "{} · {} · {}",
                            format::full_name(&patient.given_name, &patient.family_name),
                            born,
                            patient.phone
                        );
                        if ui.button(text).clicked() {
                            action = Some(Action::OpenPatient(Box::new(patient.clone())));
                        }
                    }
                });
        } else if self.searched && self.searching.is_none() {
            ui.label(T::NoResults.get(lang));
        }
        action
    }

    /// Booking a free time for the patient whose account is open, once the providers and kinds
    /// of visit are there.
    pub(super) fn booking_ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        lists: &Lists,
    ) -> Option<Action> {
        ui.separator();
        let Some(booking_lists) = &lists.booking else {
            if lists.loading_booking.is_some() {
                widgets::working(ui, T::Working.get(view.lang));
            }
            return None;
        };
        self.booking.ui(ui, view, booking_lists)
    }
}
