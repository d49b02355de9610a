//! Corrections of charges already posted: adjustments, credit notes and write-offs.

use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;

use super::Billing;
use crate::domain::{BillingError, Correction, NewCorrection};

impl Billing {
    /// Posts a correction of a charge for `caller`, dated today, or returns the one a first
    /// call with its request id posted.
    pub async fn correct(
        &self,
        caller: &Caller,
        new: NewCorrection,
        now: DateTime<Utc>,
    ) -> Result<Correction, BillingError> {
        // A retry is answered from what the first call stored, before the charge is looked at.
        if let Some(correction) = self.store.earlier_correction(&new).await? {
            return Ok(correction);
        }
        let correction = self
            .store
            .post_correction(&new, &caller.subject, self.today(now), now)
            .await?;
        tracing::info!(
            correction_id = %correction.correction_id,
            kind = correction.kind.as_str(),
            "charge corrected"
        );
        Ok(correction)
    }
}
