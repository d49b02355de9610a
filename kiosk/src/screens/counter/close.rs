//! The daily close tab: the day's totals, income by method, service and staff, the accounts
//! still owing and the drawers closed, and its export as CSV or XLSX into the exports folder.

use clinic_proto::billing::v1 as billing;
use eframe::egui;
use egui::{RichText, vec2};

use super::View;
use super::act::Action;
use crate::backend::Pending;
use crate::i18n::{Lang, T};

#[derive(Default)]
pub(super) struct ClosePanel {
    report: Option<billing::DailyClose>,
    /// Set when loading failed: asked again only on Refresh, not every frame.
    pub(super) failed: bool,
    pub(super) loading: Option<Pending<billing::DailyClose>>,
    /// An export on its way; answers what to tell reception (where the file is).
    pub(super) exporting: Option<Pending<String>>,
}

impl ClosePanel {
    /// Takes finished calls' results; what to tell reception.
    pub(super) fn poll(&mut self, lang: Lang) -> Option<Action> {
        let mut outcome = None;
        if let Some(result) = self.loading.as_mut().and_then(Pending::take) {
            self.loading = None;
            match result {
                Ok(report) => self.report = Some(report),
                Err(error) => {
                    self.failed = true;
                    outcome = Some(Action::Tell(Err(error.staff_message(lang))));
                }
            }
        }
        if let Some(result) = self.exporting.as_mut().and_then(Pending::take) {
            self.exporting = None;
            outcome = Some(Action::Tell(
                result.map_err(|error| error.staff_message(lang)),
            ));
        }
        outcome
    }

    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &View) -> Vec<Action> {
        let lang = view.lang;
        let (refresh, export) = self.header_ui(ui, lang);
        let mut actions: Vec<Action> = export.into_iter().collect();
        if self.loading.is_none() && (refresh || (self.report.is_none() && !self.failed)) {
            actions.push(Action::LoadClose);
        }
        let Some(report) = &self.report else {
            return actions;
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            totals_ui(ui, view, report);
            ui.add_space(8.0);
            by_method_ui(ui, view, report);
            ui.add_space(8.0);
            by_service_ui(ui, view, report);
            ui.add_space(8.0);
            ui.label(RichText::new(T::IncomeByStaff.get(lang)).strong());
            for staff in &report.income_by_staff {
                let flow = staff.flow.clone().unwrap_or_default();
                ui.label(format!(
                    "{} · {}",
                    staff.staff,
                    view.shown(flow.net.as_ref())
                ));
            }
            ui.add_space(8.0);
            ui.label(
                RichText::new(format!(
                    "{} ({})",
                    T::Outstanding.get(lang),
                    report.outstanding_accounts.len()
                ))
                .strong(),
            );
            ui.add_space(8.0);
            drawers_ui(ui, view, report);
        });
        actions
    }

    /// The heading, Refresh and the exports: whether Refresh was pressed, and the export asked
    /// for.
    fn header_ui(&self, ui: &mut egui::Ui, lang: Lang) -> (bool, Option<Action>) {
        ui.horizontal(|ui| {
            ui.heading(T::DailyClose.get(lang));
            let mut refresh = false;
            let mut export = None;
            if self.loading.is_some() {
                ui.spinner();
            } else {
                refresh = ui.button(T::Refresh.get(lang)).clicked();
            }
            for (format, text) in [
                (billing::ReportFormat::Csv, T::ExportCsv),
                (billing::ReportFormat::Xlsx, T::ExportXlsx),
            ] {
                // One export at a time: the other button goes once one is asked for.
                if self.exporting.is_none()
                    && export.is_none()
                    && ui.button(text.get(lang)).clicked()
                {
                    export = Some(Action::Export(format));
                }
            }
            (refresh, export)
        })
        .inner
    }
}

fn totals_ui(ui: &mut egui::Ui, view: &View, report: &billing::DailyClose) {
    egui::Grid::new("totals")
        .spacing(vec2(24.0, 6.0))
        .show(ui, |ui| {
            for (text, value) in [
                (T::TotalCharged, &report.total_charged),
                (T::TotalReceived, &report.total_received),
                (T::TotalRefunded, &report.total_refunded),
                (T::NetIncome, &report.net_income),
                (T::Outstanding, &report.total_outstanding),
            ] {
                ui.label(RichText::new(text.get(view.lang)).strong());
                ui.label(view.shown(value.as_ref()));
                ui.end_row();
            }
        });
}

fn by_method_ui(ui: &mut egui::Ui, view: &View, report: &billing::DailyClose) {
    ui.label(RichText::new(T::IncomeByMethod.get(view.lang)).strong());
    egui::Grid::new("by-method")
        .striped(true)
        .spacing(vec2(24.0, 4.0))
        .show(ui, |ui| {
            for method in &report.income_by_method {
                let flow = method.flow.clone().unwrap_or_default();
                ui.label(income_method(method.method).get(view.lang));
                ui.label(flow.payment_count.to_string());
                ui.label(view.shown(flow.net.as_ref()));
                ui.end_row();
            }
        });
}

fn by_service_ui(ui: &mut egui::Ui, view: &View, report: &billing::DailyClose) {
    ui.label(RichText::new(T::IncomeByService.get(view.lang)).strong());
    egui::Grid::new("by-service")
        .striped(true)
        .spacing(vec2(24.0, 4.0))
        .show(ui, |ui| {
            for service in &report.income_by_service {
                ui.label(format!("{} · {}", service.price_code, service.description));
                ui.label(service.quantity.to_string());
                ui.label(view.shown(service.amount.as_ref()));
                ui.end_row();
            }
        });
}

/// The drawers closed today: counted, and the difference from what was expected where the
/// caller may see it (a manager).
fn drawers_ui(ui: &mut egui::Ui, view: &View, report: &billing::DailyClose) {
    let lang = view.lang;
    ui.label(RichText::new(T::DrawersClosed.get(lang)).strong());
    for drawer in &report.drawer_closes {
        let counted = view.shown(drawer.counted.as_ref());
        let line = match &drawer.difference {
            Some(difference) => format!(
                "{} · {counted} {} · {} {}",
                drawer.terminal_id,
                T::Balance.get(lang),
                view.shown(Some(difference)),
                drawer.closed_by
            ),
            None => format!("{} · {counted} · {}", drawer.terminal_id, drawer.closed_by),
        };
        ui.label(line);
    }
}

fn income_method(method: i32) -> T {
    match billing::IncomeMethod::try_from(method) {
        Ok(billing::IncomeMethod::Cash) => T::Cash,
        Ok(billing::IncomeMethod::CardCredit) => T::CreditCard,
        Ok(billing::IncomeMethod::CardDebit) => T::DebitCard,
        Ok(billing::IncomeMethod::BankTransfer) => T::Transfer,
        _ => T::Method,
    }
}
