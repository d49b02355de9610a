//! The daily close: the day a report or a close names, the export format, and the report and closed
//! days on the wire.

use crate::domain::DrawerView;
use crate::domain::ReportLanguage;
use crate::export::ExportFormat;
use chrono::NaiveDate;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_to_proto, money_to_proto};

use super::corrections::correction_kind_to_proto;
use super::drawer::drawer_state_to_proto;
use super::{Reading, report_day};
use crate::domain::{ClosedDay, DailyClose, DrawerCloseSummary, Flow, IncomeMethod, ServiceIncome};

pub fn daily_close_day(
    request: &pb::GetDailyCloseRequest,
    reading: &Reading,
) -> Result<NaiveDate, FieldViolations> {
    let mut violations = FieldViolations::new();
    match report_day(request.day.as_ref(), reading, &mut violations) {
        Some(day) if violations.is_empty() => Ok(day),
        _ => Err(violations),
    }
}

pub fn export_request(
    request: &pb::ExportDailyCloseRequest,
    reading: &Reading,
) -> Result<(NaiveDate, ExportFormat, ReportLanguage), FieldViolations> {
    let mut violations = FieldViolations::new();
    let day = report_day(request.day.as_ref(), reading, &mut violations);
    let language = ReportLanguage::parse(&request.language);
    if language.is_none() {
        violations.add(
            "language",
            format!(
                "must be es, en, zh or ru (or empty for en), not {}",
                clinic_common::validation::echo(&request.language)
            ),
        );
    }
    let format = match pb::ReportFormat::try_from(request.format) {
        Ok(pb::ReportFormat::Csv) => Some(ExportFormat::Csv),
        Ok(pb::ReportFormat::Xlsx) => Some(ExportFormat::Xlsx),
        _ => {
            violations.add("format", "must be REPORT_FORMAT_CSV or REPORT_FORMAT_XLSX");
            None
        }
    };
    match (day, format, language) {
        (Some(day), Some(format), Some(language)) if violations.is_empty() => {
            Ok((day, format, language))
        }
        _ => Err(violations),
    }
}

fn income_method_to_proto(method: IncomeMethod) -> pb::IncomeMethod {
    match method {
        IncomeMethod::Cash => pb::IncomeMethod::Cash,
        IncomeMethod::CardCredit => pb::IncomeMethod::CardCredit,
        IncomeMethod::CardDebit => pb::IncomeMethod::CardDebit,
        IncomeMethod::BankTransfer => pb::IncomeMethod::BankTransfer,
    }
}

fn service_income_to_proto(service: &ServiceIncome) -> pb::ServiceIncome {
    pb::ServiceIncome {
        price_code: service.price_code.clone(),
        description: service.description.clone(),
        charge_count: service.charge_count,
        quantity: service.quantity,
        amount: Some(money_to_proto(service.amount)),
    }
}

fn drawer_close_to_proto(drawer: &DrawerCloseSummary) -> pb::DrawerCloseSummary {
    pb::DrawerCloseSummary {
        session_id: drawer.session_id.to_string(),
        terminal_id: drawer.terminal_id.as_str().to_owned(),
        state: drawer_state_to_proto(drawer.state).into(),
        expected: Some(money_to_proto(drawer.expected)),
        counted: Some(money_to_proto(drawer.counted)),
        difference: Some(money_to_proto(drawer.difference)),
        closed_by: drawer.closed_by.clone(),
        close_time: Some(timestamp_to_proto(drawer.closed_at)),
    }
}

fn flow_to_proto(flow: &Flow) -> anyhow::Result<pb::IncomeFlow> {
    Ok(pb::IncomeFlow {
        payment_count: flow.received.count,
        received: Some(money_to_proto(flow.received.amount)),
        refund_count: flow.refunded.count,
        refunded: Some(money_to_proto(flow.refunded.amount)),
        net: Some(money_to_proto(flow.net()?)),
    })
}

/// The daily close as `view` shows it: blind, its drawer closes carry what was counted but
/// not what was expected or the difference.
pub fn daily_close_to_proto(
    close: &DailyClose,
    view: DrawerView,
) -> anyhow::Result<pb::DailyClose> {
    let mut income_by_method = Vec::with_capacity(close.by_method.len());
    for (method, flow) in &close.by_method {
        income_by_method.push(pb::MethodIncome {
            method: income_method_to_proto(*method).into(),
            flow: Some(flow_to_proto(flow)?),
        });
    }
    let mut income_by_staff = Vec::with_capacity(close.by_staff.len());
    for (staff, flow) in &close.by_staff {
        income_by_staff.push(pb::StaffIncome {
            staff: staff.clone(),
            flow: Some(flow_to_proto(flow)?),
        });
    }
    Ok(pb::DailyClose {
        day: Some(date_to_proto(close.day)),
        income_by_method,
        income_by_service: close
            .by_service
            .iter()
            .map(service_income_to_proto)
            .collect(),
        income_by_staff,
        charge_count: close.charged.count,
        total_charged: Some(money_to_proto(close.charged.amount)),
        payment_count: close.received.count,
        total_received: Some(money_to_proto(close.received.amount)),
        refund_count: close.refunded.count,
        total_refunded: Some(money_to_proto(close.refunded.amount)),
        net_income: Some(money_to_proto(close.net_income)),
        outstanding_accounts: close
            .outstanding
            .iter()
            .map(|account| pb::OutstandingAccount {
                patient_id: account.patient_id.to_string(),
                balance: Some(money_to_proto(account.balance)),
            })
            .collect(),
        total_outstanding: Some(money_to_proto(close.total_outstanding)),
        drawer_closes: close
            .drawers
            .iter()
            .map(|drawer| {
                let mut summary = drawer_close_to_proto(drawer);
                if view == DrawerView::Blind {
                    summary.expected = None;
                    summary.difference = None;
                }
                summary
            })
            .collect(),
        income_by_provider: close
            .by_provider
            .iter()
            .map(|provider| pb::ProviderIncome {
                provider_id: provider.provider_id.clone().unwrap_or_default(),
                provider_name: provider.provider_name.clone(),
                charge_count: provider.charge_count,
                amount: Some(money_to_proto(provider.amount)),
            })
            .collect(),
        packages_sold: close
            .packages_sold
            .iter()
            .map(|sale| pb::PackageSales {
                package_code: sale.package_code.clone(),
                description: sale.description.clone(),
                count: sale.count,
                amount: Some(money_to_proto(sale.amount)),
            })
            .collect(),
        corrections: close
            .corrections
            .iter()
            .map(|(kind, tally)| pb::CorrectionTotal {
                kind: correction_kind_to_proto(*kind).into(),
                count: tally.count,
                amount: Some(money_to_proto(tally.amount)),
            })
            .collect(),
        advance_applied_count: close.advance_applied.count,
        advance_applied: Some(money_to_proto(close.advance_applied.amount)),
        discount_count: close.discounts.count,
        total_discounts: Some(money_to_proto(close.discounts.amount)),
        closed: close.closed.as_ref().map(closed_day_to_proto),
    })
}

pub fn close_day_request(
    request: &pb::CloseDayRequest,
    reading: &Reading,
) -> Result<NaiveDate, FieldViolations> {
    let mut violations = FieldViolations::new();
    match report_day(request.day.as_ref(), reading, &mut violations) {
        Some(day) if violations.is_empty() => Ok(day),
        _ => Err(violations),
    }
}

pub fn closed_day_to_proto(closed: &ClosedDay) -> pb::ClosedDay {
    pb::ClosedDay {
        day: Some(date_to_proto(closed.day)),
        closed_by: closed.closed_by.clone(),
        close_time: Some(timestamp_to_proto(closed.closed_at)),
    }
}
