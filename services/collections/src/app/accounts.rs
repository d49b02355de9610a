//! An account as the desk opens it, every opening audited, and assigning accounts to
//! collectors.

use chrono::NaiveDate;
use chrono_tz::Tz;
use clinic_common::Money;
use clinic_common::auth::Caller;
use clinic_common::ids::PatientId;
use clinic_proto::patients::v1 as patients;

use super::{Desk, PlanView};
use crate::domain::{
    AgingBuckets, Channel, CollectionsError, Contact, ContactState, Dispute, Escalation,
    PromiseStatus, PromiseView, age_ledger, display_name,
};
use crate::registry::{self, Lookup};

/// How many of an account's contacts its view shows.
const RECENT_CONTACTS: u32 = 20;

/// At most this many of an account's escalations and disputes are read for its view.
const HISTORY_MAX: u32 = 500;

/// An account as the desk opens it.
#[derive(Debug, Clone)]
pub(crate) struct AccountView {
    pub patient_id: PatientId,
    /// "Given Family" as the registry has it, or as the receivables last heard it.
    pub patient_name: String,
    /// What the patient owes (zero for an account the receivables have not seen).
    pub balance: Money,
    /// The balance by age, today.
    pub aging: AgingBuckets,
    pub days_past_due: i64,
    /// How the patient is reached; `None` when the registry could not say.
    pub reach: Option<Reach>,
    pub state: ContactState,
    /// The current promise (the newest not superseded), judged now.
    pub promise: Option<PromiseView>,
    /// The active plan.
    pub plan: Option<PlanView>,
    pub collector: Option<String>,
    pub escalations: Vec<Escalation>,
    pub open_dispute: Option<Dispute>,
    /// The newest contacts, newest first.
    pub recent_contacts: Vec<Contact>,
}

/// How the registry says a patient is reached.
#[derive(Debug, Clone)]
pub(crate) struct Reach {
    pub phone: String,
    pub email: String,
    pub preferred_language: String,
    pub time_zone: Tz,
    /// The channels the patient consents to and has the details for.
    pub consented: Vec<Channel>,
}

impl Desk {
    /// Opens an account for `caller`, who is audited before anything is read: an opening that
    /// fails half-way was still an opening.
    pub(crate) async fn open_account(
        &self,
        patient_id: PatientId,
        caller: &Caller,
    ) -> Result<AccountView, CollectionsError> {
        let now = self.clock.now();
        self.store
            .record_account_access(patient_id, &caller.subject, caller.role.as_str(), now)
            .await?;
        let receivable = self.store.receivable(patient_id).await?;
        let patient = match registry::look_up(&self.patients, patient_id).await {
            Lookup::Found(patient) => Some(*patient),
            Lookup::Unknown if receivable.is_none() => {
                return Err(CollectionsError::PatientNotFound(patient_id));
            }
            Lookup::Unknown => None,
            Lookup::Unanswered(code) => {
                // The account is still worth seeing; the contact details wait for the registry.
                tracing::warn!(?code, %patient_id, "the patient registry is unreachable");
                None
            }
        };
        let (aging, days_past_due) = self.account_aging(patient_id, self.today()).await?;
        let records = self.store.promises(Some(patient_id)).await?;
        let promise = self
            .judge_promises(&records, now)
            .into_iter()
            .find(|view| view.status != PromiseStatus::Superseded);
        let plan = match self.store.plan(None, Some(patient_id)).await? {
            Some(plan) => Some(self.plan_view(plan).await?),
            None => None,
        };
        let state = self.store.contact_state(patient_id).await?;
        let escalations = self
            .store
            .escalations(Some(patient_id), HISTORY_MAX, 0)
            .await?;
        let open_dispute = self
            .store
            .disputes(Some(patient_id), HISTORY_MAX, 0)
            .await?
            .into_iter()
            .find(|dispute| dispute.answer.is_none());
        let recent_contacts = self
            .store
            .recent_contacts(patient_id, RECENT_CONTACTS)
            .await?;
        let collector = self.store.assignment(patient_id).await?;
        let patient_name = match &patient {
            Some(patient) => display_name(&patient.given_name, &patient.family_name),
            None => receivable
                .as_ref()
                .and_then(|account| account.patient_name.clone())
                .unwrap_or_default(),
        };
        Ok(AccountView {
            patient_id,
            patient_name,
            balance: receivable
                .as_ref()
                .map_or(Money::zero(self.terms.currency), |account| account.balance),
            aging,
            days_past_due,
            reach: patient.map(|patient| reach(&patient, self.terms.time_zone)),
            state,
            promise,
            plan,
            collector,
            escalations,
            open_dispute,
            recent_contacts,
        })
    }

    /// Assigns an account the receivables know to `collector`, or takes it from whoever had it
    /// when `None`.
    pub(crate) async fn assign_account(
        &self,
        patient_id: PatientId,
        collector: Option<&str>,
        assigned_by: &str,
    ) -> Result<(), CollectionsError> {
        if !self.store.has_account(patient_id).await? {
            return Err(CollectionsError::PatientNotFound(patient_id));
        }
        self.store
            .assign_account(patient_id, collector, assigned_by, self.clock.now())
            .await?;
        Ok(())
    }

    /// The account's balance by age on `today`, and how many days past due its oldest open
    /// charge is, from the ledger as applied.
    async fn account_aging(
        &self,
        patient_id: PatientId,
        today: NaiveDate,
    ) -> Result<(AgingBuckets, i64), CollectionsError> {
        let history = self
            .store
            .ledger_history(self.end_of(today), Some(patient_id))
            .await?;
        let aged = age_ledger(
            &history.entries,
            self.terms.currency,
            today,
            self.terms.payment_terms_days,
        )?;
        Ok(match aged.into_iter().next() {
            Some(account) => (account.buckets, account.oldest_days_past_due),
            None => (AgingBuckets::zero(self.terms.currency), 0),
        })
    }
}

/// How the registry's record says the patient is reached; contact hours in their zone, or the
/// clinic's.
fn reach(patient: &patients::Patient, clinic_zone: Tz) -> Reach {
    let profile = registry::contact_profile(patient, clinic_zone);
    let mut consented = Vec::new();
    for channel in [
        Channel::PhoneCall,
        Channel::WhatsApp,
        Channel::Sms,
        Channel::Email,
        Channel::Letter,
    ] {
        if profile.allows(channel) {
            consented.push(channel);
        }
    }
    Reach {
        phone: patient.phone.clone(),
        email: patient.email.clone(),
        preferred_language: patient.preferred_language.clone(),
        time_zone: profile.time_zone,
        consented,
    }
}
