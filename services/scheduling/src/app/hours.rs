//! Changes of working hours and exceptions that can open time up: the waitlist hears of it.

use clinic_common::ids::ProviderId;

use super::Scheduling;
use crate::domain::{ScheduleException, ScheduleExceptionId, SchedulingError, WeeklyHours};

impl Scheduling {
    /// Replaces a provider's working week, then offers waiting patients the first free slot
    /// that fits them in it.
    pub async fn set_working_hours(
        &self,
        provider_id: ProviderId,
        hours: &WeeklyHours,
    ) -> Result<WeeklyHours, SchedulingError> {
        let hours = self.store.set_working_hours(provider_id, hours).await?;
        tracing::info!(intervals = hours.intervals().len(), "working hours set");
        self.offer_new_hours(vec![provider_id]).await;
        Ok(hours)
    }

    /// Deletes an exception, then offers the time it gave back to waiting patients: the
    /// provider's, or (a clinic-wide exception) every provider's with working hours.
    pub async fn delete_schedule_exception(
        &self,
        exception_id: ScheduleExceptionId,
    ) -> Result<ScheduleException, SchedulingError> {
        let exception = self.store.delete_schedule_exception(exception_id).await?;
        tracing::info!("schedule exception deleted");
        let freed_for = match exception.provider_id {
            Some(provider_id) => vec![provider_id],
            None => self.store.providers_with_hours().await?,
        };
        self.offer_new_hours(freed_for).await;
        Ok(exception)
    }
}
