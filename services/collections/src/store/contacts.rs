//! The contact log, accounts' contact states and patients' contact profiles.
//!
//! Recording a contact is one transaction: the idempotency key is looked up first (a retry gets
//! the first result, even if the rules would now refuse it), then the account's contact state row
//! is locked, the rules are checked against the calls it holds, and the contact and the new state
//! are written. A refusal rolls everything back, so a refused contact leaves no trace.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::PatientId;
use clinic_common::{for_each_backend, in_transaction, with_db};

use super::ReceivablesStore;
use crate::domain::{
    BillingIssue, Channel, CollectionsError, Contact, ContactKind, ContactProfile, ContactRules,
    ContactState, Direction, LoggedCall, NewContact, Notes, Outcome, ProposedContact, Purpose,
};

/// The idempotency-key operation name for recorded contacts.
const RECORD_CONTACT: &str = "record_contact";

/// How long the contact log is kept.
const RETENTION: Months = Months::new(36);

macro_rules! contact_columns {
    () => {
        "contact_id, patient_id, channel, direction, kind, purpose, outcome, notes, next_step, \
         next_step_date, billing_issue, occurred_at, recorded_by"
    };
}

/// A contact to record, with what the rules need to judge it.
pub struct ContactToRecord<'a> {
    pub contact: &'a NewContact,
    pub profile: &'a ContactProfile,
    pub rules: &'a ContactRules,
    pub recorded_by: &'a str,
    pub now: DateTime<Utc>,
}

impl ReceivablesStore {
    /// The last contact profile the registry gave for a patient.
    pub async fn contact_profile(
        &self,
        patient_id: PatientId,
    ) -> anyhow::Result<Option<ContactProfile>> {
        let row: Option<ProfileRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT time_zone, consent_sms, consent_whatsapp, consent_email, \
                 consent_phone_call, has_phone, has_email FROM contact_profiles \
                 WHERE patient_id = $1",
            )
            .bind(patient_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a contact profile")?;
        row.map(ProfileRow::into_profile).transpose()
    }

    /// Every contact profile the registry has given, by patient.
    pub async fn contact_profiles(&self) -> anyhow::Result<HashMap<PatientId, ContactProfile>> {
        let rows: Vec<PatientProfileRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT patient_id, time_zone, consent_sms, consent_whatsapp, consent_email, \
                 consent_phone_call, has_phone, has_email FROM contact_profiles",
            )
            .fetch_all(pool)
            .await
        })
        .context("failed to read contact profiles")?;
        let mut profiles = HashMap::with_capacity(rows.len());
        for row in rows {
            let id = row.patient_id;
            let patient_id = PatientId::parse(&id)
                .with_context(|| format!("contact_profiles holds a malformed id {id:?}"))?;
            profiles.insert(patient_id, row.profile.into_profile()?);
        }
        Ok(profiles)
    }

    /// Keeps the registry's latest word on how a patient may be reached.
    pub async fn save_contact_profile(
        &self,
        patient_id: PatientId,
        profile: &ContactProfile,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO contact_profiles (patient_id, time_zone, consent_sms, \
                 consent_whatsapp, consent_email, consent_phone_call, has_phone, has_email, \
                 refreshed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (patient_id) DO UPDATE SET time_zone = excluded.time_zone, \
                 consent_sms = excluded.consent_sms, \
                 consent_whatsapp = excluded.consent_whatsapp, \
                 consent_email = excluded.consent_email, \
                 consent_phone_call = excluded.consent_phone_call, \
                 has_phone = excluded.has_phone, has_email = excluded.has_email, \
                 refreshed_at = excluded.refreshed_at",
            )
            .bind(patient_id.to_string())
            .bind(profile.time_zone.name())
            .bind(profile.consent_sms)
            .bind(profile.consent_whatsapp)
            .bind(profile.consent_email)
            .bind(profile.consent_phone_call)
            .bind(profile.has_phone)
            .bind(profile.has_email)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to save a contact profile")?;
        Ok(())
    }

    /// An account's contact state and its outbound calls since `since`.
    pub async fn contact_history(
        &self,
        patient_id: PatientId,
        since: DateTime<Utc>,
    ) -> anyhow::Result<(ContactState, Vec<LoggedCall>)> {
        let state: Option<(bool, bool, bool)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT cease_requested, refused_to_pay, dispute_open FROM contact_states \
                 WHERE patient_id = $1",
            )
            .bind(patient_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a contact state")?;
        let calls: Vec<(DateTime<Utc>, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(RECENT_CALLS)
                .bind(patient_id.to_string())
                .bind(since)
                .fetch_all(pool)
                .await
        })
        .context("failed to read recent calls")?;
        Ok((
            state.map(state_from_row).unwrap_or_default(),
            calls.into_iter().map(logged_call).collect(),
        ))
    }

    /// Records a contact once per request id. An outbound contact is checked against the rules
    /// first and refused, with nothing written, when one forbids it.
    pub async fn record_contact(
        &self,
        record: &ContactToRecord<'_>,
    ) -> Result<Contact, CollectionsError> {
        let fingerprint = record.contact.fingerprint();
        let key = IdempotencyKey::new(RECORD_CONTACT, &record.contact.request_id, &fingerprint);
        let contact_id = retrying("a contact", || self.try_record_contact(record, &key)).await?;
        self.contact(&contact_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("contact {contact_id} vanished after insert").into())
    }

    async fn try_record_contact(
        &self,
        record: &ContactToRecord<'_>,
        key: &IdempotencyKey<'_>,
    ) -> Result<String, Attempt<CollectionsError>> {
        let contact = record.contact;
        let now = record.now;
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written, even if the rules would
            // now refuse the contact.
            if let Some(contact_id) = tx.earlier_result(key).await? {
                return Ok(contact_id);
            }
            let state = tx.lock_contact_state(contact.patient_id, now).await?;
            tx.check_contact_rules(record, state).await?;
            let contact_id = tx.insert_contact(contact, record.recorded_by, now).await?;
            let next = state.after(contact.outcome);
            if next.dispute_open && !state.dispute_open {
                tx.open_dispute(contact, &contact_id, now).await?;
            }
            if next != state {
                tx.save_contact_state(contact.patient_id, next, now).await?;
            }
            tx.claim(key, &contact_id, now).await?;
            Ok(contact_id)
        })
    }

    async fn contact(&self, contact_id: &str) -> anyhow::Result<Option<Contact>> {
        let row: Option<ContactRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                contact_columns!(),
                " FROM contacts WHERE contact_id = $1"
            ))
            .bind(contact_id)
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a contact")?;
        row.map(ContactRow::into_contact).transpose()
    }

    /// Ends an account's dispute hold, closing its open dispute as upheld. Ending one that is
    /// not open changes nothing, so a retry is harmless.
    pub async fn resolve_dispute(
        &self,
        patient_id: PatientId,
        resolved_by: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ContactState> {
        let patient = patient_id.to_string();
        let row: Option<(bool, bool, bool)> = in_transaction!(&self.db, |tx| async {
            let row: Option<(bool, bool, bool)> = sqlx::query_as(
                "UPDATE contact_states SET dispute_open = $2, updated_at = $3 \
                 WHERE patient_id = $1 \
                 RETURNING cease_requested, refused_to_pay, dispute_open",
            )
            .bind(patient.as_str())
            .bind(false)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .context("failed to resolve a dispute")?;
            sqlx::query(
                "UPDATE disputes SET answered_at = $2, answer = $3, answer_note = $4, \
                 answered_by = $5 WHERE patient_id = $1 AND answered_at IS NULL",
            )
            .bind(patient.as_str())
            .bind(now)
            .bind(crate::domain::DisputeAnswer::Upheld.as_str())
            .bind("")
            .bind(resolved_by)
            .execute(&mut *tx)
            .await
            .context("failed to close a dispute")?;
            anyhow::Ok(row)
        }
        .await)?;
        Ok(row.map(state_from_row).unwrap_or_default())
    }

    /// An account's contact state.
    pub async fn contact_state(&self, patient_id: PatientId) -> anyhow::Result<ContactState> {
        Ok(self
            .contact_history(patient_id, DateTime::<Utc>::MAX_UTC)
            .await?
            .0)
    }

    /// A patient's newest contacts, newest first.
    pub async fn recent_contacts(
        &self,
        patient_id: PatientId,
        limit: u32,
    ) -> anyhow::Result<Vec<Contact>> {
        let rows: Vec<ContactRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                contact_columns!(),
                " FROM contacts WHERE patient_id = $1 ORDER BY contact_seq DESC LIMIT $2"
            ))
            .bind(patient_id.to_string())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })
        .context("failed to list recent contacts")?;
        let mut contacts = Vec::with_capacity(rows.len());
        for row in rows {
            contacts.push(row.into_contact()?);
        }
        Ok(contacts)
    }

    /// A patient's contacts, oldest first.
    pub async fn list_contacts(
        &self,
        patient_id: PatientId,
        limit: u32,
        offset: u64,
    ) -> anyhow::Result<Vec<Contact>> {
        let rows: Vec<ContactRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                contact_columns!(),
                " FROM contacts WHERE patient_id = $1 ORDER BY contact_seq LIMIT $2 OFFSET $3"
            ))
            .bind(patient_id.to_string())
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
        })
        .context("failed to list contacts")?;
        let mut contacts = Vec::with_capacity(rows.len());
        for row in rows {
            contacts.push(row.into_contact()?);
        }
        Ok(contacts)
    }
}

/// The contact log's statements that run inside a recording's (or an escalation's)
/// transaction.
pub(crate) trait ContactsTx {
    /// The account's contact state, its row created if missing and locked on PostgreSQL until
    /// the transaction ends, which serialises the writes that depend on it per account
    /// (SQLite's `BEGIN IMMEDIATE` already does).
    async fn lock_contact_state(
        &mut self,
        patient_id: PatientId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ContactState>;

    /// Refuses (`ContactRefused`) an outbound contact that a rule forbids now, judged against
    /// the account's `state` and its calls within the rules' lookback. An inbound contact is
    /// the patient reaching the clinic, which no rule limits.
    async fn check_contact_rules(
        &mut self,
        record: &ContactToRecord<'_>,
        state: ContactState,
    ) -> Result<(), CollectionsError>;

    /// Appends a contact to the log, kept for the retention period; returns its id.
    async fn insert_contact(
        &mut self,
        contact: &NewContact,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String>;

    /// Opens a dispute on the account from the contact that raised it.
    async fn open_dispute(
        &mut self,
        contact: &NewContact,
        contact_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;

    /// Stores the account's new contact state.
    async fn save_contact_state(
        &mut self,
        patient_id: PatientId,
        state: ContactState,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl ContactsTx for Conn {
        async fn lock_contact_state(
            &mut self,
            patient_id: PatientId,
            now: DateTime<Utc>,
        ) -> anyhow::Result<ContactState> {
            // Creating or touching the row locks it.
            let row: (bool, bool, bool) = sqlx::query_as(
                "INSERT INTO contact_states (patient_id, cease_requested, refused_to_pay, \
                 dispute_open, updated_at) VALUES ($1, $2, $2, $2, $3) \
                 ON CONFLICT (patient_id) DO UPDATE SET patient_id = excluded.patient_id \
                 RETURNING cease_requested, refused_to_pay, dispute_open",
            )
            .bind(patient_id.to_string())
            .bind(false)
            .bind(now)
            .fetch_one(&mut *self)
            .await
            .context("failed to lock a contact state")?;
            Ok(state_from_row(row))
        }

        async fn check_contact_rules(
            &mut self,
            record: &ContactToRecord<'_>,
            state: ContactState,
        ) -> Result<(), CollectionsError> {
            let contact = record.contact;
            if contact.direction != Direction::Outbound {
                return Ok(());
            }
            let calls: Vec<(DateTime<Utc>, String)> = sqlx::query_as(RECENT_CALLS)
                .bind(contact.patient_id.to_string())
                .bind(record.now - record.rules.lookback())
                .fetch_all(&mut *self)
                .await
                .context("failed to read recent calls")?;
            let calls: Vec<LoggedCall> = calls.into_iter().map(logged_call).collect();
            let proposed = ProposedContact {
                channel: contact.channel,
                purpose: contact.purpose,
            };
            record
                .rules
                .check(&proposed, state, record.profile, &calls, record.now)
                .map_err(CollectionsError::ContactRefused)
        }

        async fn insert_contact(
            &mut self,
            contact: &NewContact,
            recorded_by: &str,
            now: DateTime<Utc>,
        ) -> anyhow::Result<String> {
            let contact_id = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO contacts (contact_id, patient_id, channel, direction, kind, \
                 purpose, outcome, notes, next_step, next_step_date, billing_issue, \
                 occurred_at, recorded_by, retain_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(contact_id.as_str())
            .bind(contact.patient_id.to_string())
            .bind(contact.channel.as_str())
            .bind(contact.direction.as_str())
            .bind(contact.kind.as_str())
            .bind(contact.purpose.as_str())
            .bind(contact.outcome.as_str())
            .bind(contact.notes.as_str())
            .bind(contact.next_step.as_deref())
            .bind(contact.next_step_date)
            .bind(contact.billing_issue.as_str())
            .bind(now)
            .bind(recorded_by)
            .bind(now.checked_add_months(RETENTION).unwrap_or(now))
            .execute(&mut *self)
            .await
            .context("failed to record a contact")?;
            Ok(contact_id)
        }

        async fn open_dispute(
            &mut self,
            contact: &NewContact,
            contact_id: &str,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "INSERT INTO disputes (dispute_id, patient_id, contact_id, billing_issue, \
                 opened_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(contact.patient_id.to_string())
            .bind(contact_id)
            .bind(contact.billing_issue.as_str())
            .bind(now)
            .execute(&mut *self)
            .await
            .context("failed to open a dispute")?;
            Ok(())
        }

        async fn save_contact_state(
            &mut self,
            patient_id: PatientId,
            state: ContactState,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            sqlx::query(
                "UPDATE contact_states SET cease_requested = $2, refused_to_pay = $3, \
                 dispute_open = $4, updated_at = $5 WHERE patient_id = $1",
            )
            .bind(patient_id.to_string())
            .bind(state.cease_requested)
            .bind(state.refused_to_pay)
            .bind(state.dispute_open)
            .bind(now)
            .execute(&mut *self)
            .await
            .context("failed to update a contact state")?;
            Ok(())
        }
    }
}

/// An account's outbound calls since `$2`: what the call rules count.
const RECENT_CALLS: &str = "SELECT occurred_at, kind FROM contacts \
     WHERE patient_id = $1 AND direction = 'outbound' AND channel = 'phone_call' \
     AND occurred_at > $2 ORDER BY contact_seq";

fn logged_call((at, kind): (DateTime<Utc>, String)) -> LoggedCall {
    LoggedCall {
        at,
        conversation: kind == ContactKind::Conversation.as_str(),
    }
}

fn state_from_row(
    (cease_requested, refused_to_pay, dispute_open): (bool, bool, bool),
) -> ContactState {
    ContactState {
        cease_requested,
        refused_to_pay,
        dispute_open,
    }
}

#[derive(sqlx::FromRow)]
struct PatientProfileRow {
    patient_id: String,
    #[sqlx(flatten)]
    profile: ProfileRow,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    time_zone: String,
    consent_sms: bool,
    consent_whatsapp: bool,
    consent_email: bool,
    consent_phone_call: bool,
    has_phone: bool,
    has_email: bool,
}

impl ProfileRow {
    fn into_profile(self) -> anyhow::Result<ContactProfile> {
        let time_zone: Tz = self.time_zone.parse().map_err(|_| {
            anyhow::anyhow!(
                "contact_profiles holds an unknown zone {:?}",
                self.time_zone
            )
        })?;
        Ok(ContactProfile {
            time_zone,
            consent_sms: self.consent_sms,
            consent_whatsapp: self.consent_whatsapp,
            consent_email: self.consent_email,
            consent_phone_call: self.consent_phone_call,
            has_phone: self.has_phone,
            has_email: self.has_email,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    contact_id: String,
    patient_id: String,
    channel: String,
    direction: String,
    kind: String,
    purpose: String,
    outcome: String,
    notes: String,
    next_step: Option<String>,
    next_step_date: Option<NaiveDate>,
    billing_issue: String,
    occurred_at: DateTime<Utc>,
    recorded_by: String,
}

impl ContactRow {
    fn into_contact(self) -> anyhow::Result<Contact> {
        fn known<T>(parsed: Option<T>, column: &str, value: &str) -> anyhow::Result<T> {
            parsed.with_context(|| format!("contacts holds an unknown {column} {value:?}"))
        }
        Ok(Contact {
            patient_id: PatientId::parse(&self.patient_id)
                .with_context(|| format!("contacts holds a malformed id {:?}", self.patient_id))?,
            channel: known(Channel::parse(&self.channel), "channel", &self.channel)?,
            direction: known(
                Direction::parse(&self.direction),
                "direction",
                &self.direction,
            )?,
            kind: known(ContactKind::parse(&self.kind), "kind", &self.kind)?,
            purpose: known(Purpose::parse(&self.purpose), "purpose", &self.purpose)?,
            outcome: known(Outcome::parse(&self.outcome), "outcome", &self.outcome)?,
            billing_issue: known(
                BillingIssue::parse(&self.billing_issue),
                "billing issue",
                &self.billing_issue,
            )?,
            notes: Notes::parse(&self.notes)
                .map_err(|reason| anyhow::anyhow!("contacts holds notes that {reason}"))?,
            contact_id: self.contact_id,
            next_step: self.next_step,
            next_step_date: self.next_step_date,
            occurred_at: self.occurred_at,
            recorded_by: self.recorded_by,
        })
    }
}
