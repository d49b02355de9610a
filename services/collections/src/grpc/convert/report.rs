//! The desk's reports: billing-issue trends and KPIs.

use chrono::NaiveDate;
use clinic_common::validation::FieldViolations;
use clinic_proto::collections::v1 as pb;
use clinic_proto::{date_from_proto, date_to_proto, money_to_proto};

use super::contact::billing_issue_to;
use crate::app::{ExportedKpis, KpiReport};
use crate::domain::{CollectionsError, ISSUES, IssuePeriod, Kpis, Period, TRENDS_MAX_DAYS};
use crate::export::ExportFormat;

pub fn period_from(value: i32) -> Result<Period, &'static str> {
    match pb::TrendPeriod::try_from(value) {
        Ok(pb::TrendPeriod::Day) => Ok(Period::Day),
        Ok(pb::TrendPeriod::Week) => Ok(Period::Week),
        Ok(pb::TrendPeriod::Month) => Ok(Period::Month),
        Ok(pb::TrendPeriod::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known period"),
    }
}

/// A `GetBillingIssueTrends` request, read: the span and the period.
pub fn trends_query(
    request: &pb::GetBillingIssueTrendsRequest,
) -> Result<(NaiveDate, NaiveDate, Period), CollectionsError> {
    let mut violations = FieldViolations::new();
    let from = violations.check("from_date", date_from_proto(request.from_date.as_ref()));
    let to = violations.check("to_date", date_from_proto(request.to_date.as_ref()));
    let period = violations.check("period", period_from(request.period));
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            violations.add("to_date", "must not be before from_date");
        } else if (to - from).num_days() >= TRENDS_MAX_DAYS {
            violations.add(
                "to_date",
                format!("must be less than {TRENDS_MAX_DAYS} days after from_date"),
            );
        }
    }
    match (from, to, period) {
        (Some(from), Some(to), Some(period)) if violations.is_empty() => Ok((from, to, period)),
        _ => Err(violations.into()),
    }
}

pub fn issue_counts_to_proto(counts: &[i64; 4]) -> Vec<pb::BillingIssueCount> {
    ISSUES
        .iter()
        .zip(counts)
        .map(|(issue, contacts)| pb::BillingIssueCount {
            issue: billing_issue_to(*issue) as i32,
            contacts: *contacts,
        })
        .collect()
}

pub fn trends_to_proto(periods: &[IssuePeriod]) -> pb::BillingIssueTrends {
    let mut totals = [0_i64; 4];
    for period in periods {
        for (total, count) in totals.iter_mut().zip(period.counts) {
            *total += count;
        }
    }
    pb::BillingIssueTrends {
        periods: periods
            .iter()
            .map(|period| pb::BillingIssuePeriod {
                period_start: Some(date_to_proto(period.start)),
                counts: issue_counts_to_proto(&period.counts),
                contacts: period.contacts,
            })
            .collect(),
        totals: issue_counts_to_proto(&totals),
    }
}

/// A `GetCollectionsKpis` request, read: the period and a day in it (`None`: today).
pub fn kpis_request(
    request: &pb::GetCollectionsKpisRequest,
) -> Result<(Period, Option<NaiveDate>), CollectionsError> {
    let mut violations = FieldViolations::new();
    match kpis_query(request.period, request.day.as_ref(), &mut violations) {
        Some(query) => Ok(query),
        None => Err(violations.into()),
    }
}

/// A KPI request's period and day, read; `None` with the violations recorded when either is
/// bad.
fn kpis_query(
    period: i32,
    day: Option<&clinic_proto::common::v1::Date>,
    violations: &mut FieldViolations,
) -> Option<(Period, Option<NaiveDate>)> {
    let period = violations.check("period", period_from(period));
    let day = match day {
        None => Some(None),
        Some(day) => violations
            .check("day", date_from_proto(Some(day)))
            .map(Some),
    };
    match (period, day) {
        (Some(period), Some(day)) => Some((period, day)),
        _ => None,
    }
}

/// An `ExportCollectionsKpis` request, read: the period, a day in it (`None`: today) and the
/// file's format.
pub fn export_query(
    request: &pb::ExportCollectionsKpisRequest,
) -> Result<(Period, Option<NaiveDate>, ExportFormat), CollectionsError> {
    let mut violations = FieldViolations::new();
    let query = kpis_query(request.period, request.day.as_ref(), &mut violations);
    let format = violations.check("format", export_format_from(request.format));
    match (query, format) {
        (Some((period, day)), Some(format)) => Ok((period, day, format)),
        _ => Err(violations.into()),
    }
}

fn export_format_from(value: i32) -> Result<ExportFormat, &'static str> {
    match pb::ExportFormat::try_from(value) {
        Ok(pb::ExportFormat::Csv) => Ok(ExportFormat::Csv),
        Ok(pb::ExportFormat::Xlsx) => Ok(ExportFormat::Xlsx),
        Ok(pb::ExportFormat::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known format"),
    }
}

fn bp(value: Option<i64>) -> (i32, bool) {
    match value {
        Some(value) => (i32::try_from(value).unwrap_or(i32::MAX), true),
        None => (0, false),
    }
}

pub fn kpi_report_to_proto(report: &KpiReport) -> pb::CollectionsKpis {
    kpis_to_proto(&report.kpis, report.start, report.end)
}

pub fn exported_kpis_to_proto(exported: ExportedKpis) -> pb::ExportedKpis {
    pb::ExportedKpis {
        content: exported.content,
        content_type: exported.content_type.to_owned(),
        file_name: exported.file_name,
    }
}

fn kpis_to_proto(kpis: &Kpis, start: NaiveDate, end: NaiveDate) -> pb::CollectionsKpis {
    let (recovery_rate_bp, recovery_rate_defined) = bp(kpis.recovery_rate_bp);
    let (current_receivables_bp, _) = bp(kpis.current_bp);
    let (overdue_receivables_bp, _) = bp(kpis.overdue_bp);
    let (promises_kept_bp, promises_kept_defined) = bp(kpis.promises_kept_bp);
    let (follow_ups_on_time_bp, follow_ups_defined) = bp(kpis.follow_ups_on_time_bp);
    pb::CollectionsKpis {
        period_start: Some(date_to_proto(start)),
        period_end: Some(date_to_proto(end)),
        collected: Some(money_to_proto(kpis.collected)),
        collectible: Some(money_to_proto(kpis.collectible)),
        recovery_rate_bp,
        recovery_rate_defined,
        receivables: Some(money_to_proto(kpis.receivables)),
        current_receivables_bp,
        overdue_receivables_bp,
        dso_centidays: kpis.dso_centidays.unwrap_or(0),
        dso_defined: kpis.dso_centidays.is_some(),
        promises_kept_bp,
        promises_judged: kpis.promises_judged,
        promises_kept_defined,
        follow_ups_on_time_bp,
        follow_ups_due: kpis.follow_ups_due,
        follow_ups_defined,
        by_collector: kpis
            .by_collector
            .iter()
            .map(|(collector, collected, payments)| pb::CollectorCollected {
                collector: collector.clone(),
                collected: Some(money_to_proto(*collected)),
                payments: *payments,
            })
            .collect(),
    }
}
