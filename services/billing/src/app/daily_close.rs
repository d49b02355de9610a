//! The daily close: the report of a clinic day (reception reads and closes today only, a
//! manager any day), its export as CSV or XLSX, and closing the day.

use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::{Caller, Role};
use clinic_common::time::day_span;

use super::Billing;
use crate::domain::{BillingError, ClosedDay, DailyClose, DrawerView, ReportLanguage};
use crate::export::ExportFormat;

/// A daily close laid out as a file.
pub struct ExportedReport {
    pub content: Vec<u8>,
    pub file_name: String,
}

impl Billing {
    /// The daily close of `day` for `caller`.
    pub async fn daily_close(
        &self,
        caller: &Caller,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<DailyClose, BillingError> {
        self.ensure_day_allowed(caller, day, now)?;
        let (day_start, day_end) = day_span(day, self.settings.clinic.time_zone);
        let figures = self
            .store
            .day_figures(day, day_start, day_end, self.settings.clinic.currency)
            .await?;
        Ok(DailyClose::assemble(figures)?)
    }

    /// The daily close of `day` for `caller`, laid out in `format` with the words of `language`;
    /// blind (no drawer's expected amount or difference) for anyone but a manager.
    pub async fn export_daily_close(
        &self,
        caller: &Caller,
        day: NaiveDate,
        (format, language): (ExportFormat, ReportLanguage),
        now: DateTime<Utc>,
    ) -> Result<ExportedReport, BillingError> {
        let close = self.daily_close(caller, day, now).await?;
        let view = DrawerView::for_caller(caller);
        let file_name = format.file_name(&close);
        // Laying out a spreadsheet is CPU work: off the async workers, in this span.
        let span = tracing::Span::current();
        let content = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            crate::export::render(&close, format, language, view)
        })
        .await
        .map_err(|error| anyhow::anyhow!("report rendering failed: {error}"))??;
        Ok(ExportedReport { content, file_name })
    }

    /// Closes `day` for `caller`: nothing more can be dated on it.
    pub async fn close_day(
        &self,
        caller: &Caller,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ClosedDay, BillingError> {
        self.ensure_day_allowed(caller, day, now)?;
        let (_, day_end) = day_span(day, self.settings.clinic.time_zone);
        let closed = self
            .store
            .close_day(day, day_end, &caller.subject, now)
            .await?;
        tracing::info!(closed_by = %closed.closed_by, "day closed");
        Ok(closed)
    }

    /// Reception reads and closes its own day; earlier days are the manager's.
    fn ensure_day_allowed(
        &self,
        caller: &Caller,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(), BillingError> {
        if caller.role != Role::Manager && day != self.today(now) {
            return Err(BillingError::ReportDayRestricted);
        }
        Ok(())
    }
}
