//! The schedule report on the wire.

use clinic_proto::common::v1::DateRange;
use clinic_proto::date_to_proto;
use clinic_proto::scheduling::v1 as pb;

use crate::domain::{ReportPeriod, ScheduleReport};

pub fn report_period(period: i32) -> Result<ReportPeriod, &'static str> {
    match pb::ReportPeriod::try_from(period) {
        Ok(pb::ReportPeriod::Day) => Ok(ReportPeriod::Day),
        Ok(pb::ReportPeriod::Week) => Ok(ReportPeriod::Week),
        Ok(pb::ReportPeriod::Month) => Ok(ReportPeriod::Month),
        Ok(pb::ReportPeriod::Unspecified) => Err("is required"),
        Err(_) => Err("is not a known report period"),
    }
}

/// Counts on the wire are `int32`: a clinic's period never comes near, but never wrap.
fn count(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

pub fn report_to_proto(report: &ScheduleReport) -> pb::ScheduleReport {
    let counts = &report.counts;
    pb::ScheduleReport {
        date_range: Some(DateRange {
            start_date: Some(date_to_proto(report.span.first)),
            end_date: Some(date_to_proto(report.span.last)),
        }),
        scheduled: count(counts.scheduled),
        confirmed: count(counts.confirmed),
        confirmed_basis_points: count(report.confirmed_basis_points),
        attended: count(counts.attended),
        attendance_basis_points: count(report.attendance_basis_points),
        no_shows: count(counts.no_shows),
        no_show_basis_points: count(report.no_show_basis_points),
        late_cancellations: count(counts.late_cancellations),
        early_cancellations: count(counts.early_cancellations),
        seated_from_queue: count(i64::try_from(counts.waits.len()).unwrap_or(i64::MAX)),
        average_wait_seconds: report.average_wait_seconds,
    }
}
