//! Contacting patients: their contact profiles, fresh from the registry, and recording and
//! checking contacts against the rules.

use clinic_common::ids::PatientId;

use super::Desk;
use crate::domain::{
    CollectionsError, Contact, ContactProfile, ContactRule, NewContact, ProposedContact,
};
use crate::registry::{self, Lookup};
use crate::store::ContactToRecord;

impl Desk {
    /// Records a contact, `recorded_by` the caller, once per request id; an outbound one only
    /// when the rules allow it now, judged with the patient's profile as the registry has it.
    pub(crate) async fn record_contact(
        &self,
        contact: &NewContact,
        recorded_by: &str,
    ) -> Result<Contact, CollectionsError> {
        let profile = self.contact_profile(contact.patient_id).await?;
        self.store
            .record_contact(&ContactToRecord {
                contact,
                profile: &profile,
                rules: &self.rules,
                recorded_by,
                now: self.clock.now(),
            })
            .await
    }

    /// The rule that forbids contacting the patient now as `proposed`; `None` when none does.
    pub(crate) async fn check_contact(
        &self,
        patient_id: PatientId,
        proposed: &ProposedContact,
    ) -> Result<Option<ContactRule>, CollectionsError> {
        let profile = self.contact_profile(patient_id).await?;
        let now = self.clock.now();
        let (state, calls) = self
            .store
            .contact_history(patient_id, now - self.rules.lookback())
            .await?;
        Ok(self
            .rules
            .check(proposed, state, &profile, &calls, now)
            .err())
    }

    /// How the patient may be reached, fresh from the registry and kept; when the registry
    /// cannot be reached, the last profile it gave.
    async fn contact_profile(
        &self,
        patient_id: PatientId,
    ) -> Result<ContactProfile, CollectionsError> {
        match registry::look_up(&self.patients, patient_id).await {
            Lookup::Found(patient) => {
                let profile = registry::contact_profile(&patient, self.terms.time_zone);
                self.store
                    .save_contact_profile(patient_id, &profile, self.clock.now())
                    .await?;
                Ok(profile)
            }
            Lookup::Unknown => Err(CollectionsError::PatientNotFound(patient_id)),
            Lookup::Unanswered(code) => {
                tracing::warn!(
                    ?code,
                    %patient_id,
                    "the patient registry is unreachable; using the last contact profile"
                );
                self.store
                    .contact_profile(patient_id)
                    .await?
                    .ok_or(CollectionsError::RegistryUnavailable)
            }
        }
    }
}
