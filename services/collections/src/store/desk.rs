//! What the collections desk records beside the contact log: disputes and their answers,
//! escalations, payments taken by phone, the account access audit, and the contact log's
//! retention; and what the reports read.
//!
//! Answering a dispute and escalating are each one transaction that looks up the idempotency key
//! first (a retry gets the first result) and locks the account's contact state, so a dispute
//! cannot be opened and answered, or an account escalated while a dispute opens, at once.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::PatientId;
use clinic_common::{Money, for_each_backend, in_transaction, with_db};

use super::ReceivablesStore;
use super::contacts::ContactsTx;
use crate::domain::{
    BillingIssue, CollectionsError, ContactMade, Dispute, DisputeAnswer, Escalation,
    EscalationPolicy, EscalationTarget, GivenAnswer, NewAnswer, NewEscalation, PaymentMade,
};

const ANSWER_DISPUTE: &str = "answer_dispute";
const ESCALATE_ACCOUNT: &str = "escalate_account";

macro_rules! dispute_columns {
    () => {
        "dispute_id, patient_id, contact_id, billing_issue, opened_at, answered_at, answer, \
         answer_note, billing_reference, answered_by"
    };
}

macro_rules! escalation_columns {
    () => {
        "escalation_id, patient_id, target, reason, balance_minor, days_past_due, created_at, \
         escalated_by"
    };
}

/// An account's position when it is escalated, read by the caller from the receivables.
pub struct EscalationFacts {
    pub balance: Money,
    pub days_past_due: i64,
}

/// An access to an account, for the audit.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountAccess {
    pub subject: String,
    pub role: String,
    pub at: DateTime<Utc>,
}

impl ReceivablesStore {
    /// Answers the account's open dispute once per request id, closing it and ending the hold.
    pub async fn answer_dispute(
        &self,
        answer: &NewAnswer,
        answered_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Dispute, CollectionsError> {
        let fingerprint = answer.fingerprint();
        let key = IdempotencyKey::new(ANSWER_DISPUTE, &answer.request_id, &fingerprint);
        let dispute_id = retrying("a dispute's answer", || {
            self.try_answer_dispute(answer, &key, answered_by, now)
        })
        .await?;
        self.dispute(&dispute_id)
            .await?
            .context("an answered dispute vanished")
            .map_err(CollectionsError::from)
    }

    async fn try_answer_dispute(
        &self,
        answer: &NewAnswer,
        key: &IdempotencyKey<'_>,
        answered_by: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Attempt<CollectionsError>> {
        let patient_id = answer.patient_id.to_string();
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's dispute, and nothing written.
            if let Some(dispute_id) = tx.earlier_result(key).await? {
                return Ok(dispute_id);
            }
            // Locks the account's contact state (see `contacts`).
            sqlx::query(
                "UPDATE contact_states SET dispute_open = $2, updated_at = $3 \
                 WHERE patient_id = $1",
            )
            .bind(patient_id.as_str())
            .bind(false)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to end a dispute hold")?;
            let dispute_id: Option<String> = sqlx::query_scalar(
                "UPDATE disputes SET answered_at = $2, answer = $3, answer_note = $4, \
                 billing_reference = $5, answered_by = $6 \
                 WHERE patient_id = $1 AND answered_at IS NULL RETURNING dispute_id",
            )
            .bind(patient_id.as_str())
            .bind(now)
            .bind(answer.answer.as_str())
            .bind(answer.note.as_str())
            .bind(answer.billing_reference.as_deref())
            .bind(answered_by)
            .fetch_optional(&mut *tx)
            .await
            .context("failed to answer a dispute")?;
            let Some(dispute_id) = dispute_id else {
                return Err(CollectionsError::NoOpenDispute.into());
            };
            tx.claim(key, &dispute_id, now).await?;
            Ok(dispute_id)
        })
    }

    /// The dispute a first `AnswerDispute` with this answer's request id answered, if there
    /// was one: a retry is answered from it without asking billing again.
    /// `RequestIdReused` when the request id was used for another answer.
    pub async fn earlier_answer(
        &self,
        answer: &NewAnswer,
    ) -> Result<Option<String>, CollectionsError> {
        let fingerprint = answer.fingerprint();
        let key = IdempotencyKey::new(ANSWER_DISPUTE, &answer.request_id, &fingerprint);
        Ok(self.db.earlier_result(&key).await?)
    }

    /// Whether billing's charge `charge_id` is one of this patient's.
    pub async fn charge_of(&self, patient_id: PatientId, charge_id: &str) -> anyhow::Result<bool> {
        let found: Option<i64> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT charge_sequence FROM account_charges \
                 WHERE source_id = $1 AND patient_id = $2",
            )
            .bind(charge_id)
            .bind(patient_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to look up a charge")?;
        Ok(found.is_some())
    }

    async fn dispute(&self, dispute_id: &str) -> anyhow::Result<Option<Dispute>> {
        let row: Option<DisputeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                dispute_columns!(),
                " FROM disputes WHERE dispute_id = $1"
            ))
            .bind(dispute_id)
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a dispute")?;
        row.map(DisputeRow::into_dispute).transpose()
    }

    /// One account's disputes, or every open one, newest first.
    pub async fn disputes(
        &self,
        patient_id: Option<PatientId>,
        limit: u32,
        offset: u64,
    ) -> anyhow::Result<Vec<Dispute>> {
        let patient = patient_id.map(|patient_id| patient_id.to_string());
        let rows: Vec<DisputeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                dispute_columns!(),
                " FROM disputes WHERE (CAST($1 AS TEXT) IS NULL AND answered_at IS NULL) \
                 OR patient_id = $1 ORDER BY opened_at DESC, dispute_id LIMIT $2 OFFSET $3"
            ))
            .bind(patient.as_deref())
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
        })
        .context("failed to list disputes")?;
        rows.into_iter().map(DisputeRow::into_dispute).collect()
    }

    /// Escalates an account once per request id, if the policy allows it now. `facts` are the
    /// account's balance and days past due, read by the caller.
    pub async fn escalate(
        &self,
        escalation: &NewEscalation,
        facts: &EscalationFacts,
        policy: &EscalationPolicy,
        escalated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Escalation, CollectionsError> {
        let fingerprint = escalation.fingerprint();
        let key = IdempotencyKey::new(ESCALATE_ACCOUNT, &escalation.request_id, &fingerprint);
        let escalation_id = retrying("an escalation", || {
            self.try_escalate(escalation, &key, facts, policy, escalated_by, now)
        })
        .await?;
        let row: EscalationRow = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                escalation_columns!(),
                " FROM escalations WHERE escalation_id = $1"
            ))
            .bind(escalation_id.as_str())
            .fetch_one(pool)
            .await
        })
        .context("failed to read an escalation")?;
        Ok(row.into_escalation(self.currency)?)
    }

    async fn try_escalate(
        &self,
        escalation: &NewEscalation,
        key: &IdempotencyKey<'_>,
        facts: &EscalationFacts,
        policy: &EscalationPolicy,
        escalated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Attempt<CollectionsError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's escalation, and nothing written.
            if let Some(escalation_id) = tx.earlier_result(key).await? {
                return Ok(escalation_id);
            }
            // The contact state's row lock keeps a dispute from opening meanwhile.
            let state = tx.lock_contact_state(escalation.patient_id, now).await?;
            policy
                .allows(
                    escalation.target,
                    facts.balance,
                    facts.days_past_due,
                    state.dispute_open,
                )
                .map_err(CollectionsError::from)?;
            let escalation_id = tx
                .insert_escalation(escalation, facts, escalated_by, now)
                .await?;
            tx.claim(key, &escalation_id, now).await?;
            Ok(escalation_id)
        })
    }

    /// One account's escalations, or every account's, newest first.
    pub async fn escalations(
        &self,
        patient_id: Option<PatientId>,
        limit: u32,
        offset: u64,
    ) -> anyhow::Result<Vec<Escalation>> {
        let patient = patient_id.map(|patient_id| patient_id.to_string());
        let rows: Vec<EscalationRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                escalation_columns!(),
                " FROM escalations WHERE CAST($1 AS TEXT) IS NULL OR patient_id = $1 \
                 ORDER BY escalation_seq DESC LIMIT $2 OFFSET $3"
            ))
            .bind(patient.as_deref())
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
        })
        .context("failed to list escalations")?;
        let mut escalations = Vec::with_capacity(rows.len());
        for row in rows {
            escalations.push(row.into_escalation(self.currency)?);
        }
        Ok(escalations)
    }

    /// Records who took a payment by phone; a retry of the same payment changes nothing.
    pub async fn record_phone_payment(
        &self,
        payment_id: &str,
        patient_id: PatientId,
        collector: &str,
        amount: Money,
        taken_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO phone_payments (payment_id, patient_id, collector, amount_minor, \
                 taken_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (payment_id) DO NOTHING",
            )
            .bind(payment_id)
            .bind(patient_id.to_string())
            .bind(collector)
            .bind(amount.minor_units())
            .bind(taken_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to record a phone payment")?;
        Ok(())
    }

    /// (collector, amount) of each payment taken by phone in `[from, until)`.
    pub async fn phone_payments(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(String, Money)>> {
        let rows: Vec<(String, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT collector, amount_minor FROM phone_payments \
                 WHERE taken_at >= $1 AND taken_at < $2 ORDER BY taken_at",
            )
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await
        })
        .context("failed to read phone payments")?;
        Ok(rows
            .into_iter()
            .map(|(collector, minor)| (collector, Money::from_minor(minor, self.currency)))
            .collect())
    }

    /// Records that a person opened an account.
    pub async fn record_account_access(
        &self,
        patient_id: PatientId,
        subject: &str,
        role: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO account_access_log (patient_id, subject, role, accessed_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(patient_id.to_string())
            .bind(subject)
            .bind(role)
            .bind(at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("failed to audit an account access")?;
        Ok(())
    }

    /// Who opened an account, oldest first.
    pub async fn account_accesses(
        &self,
        patient_id: PatientId,
        limit: u32,
        offset: u64,
    ) -> anyhow::Result<Vec<AccountAccess>> {
        let rows: Vec<(String, String, DateTime<Utc>)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT subject, role, accessed_at FROM account_access_log \
                 WHERE patient_id = $1 ORDER BY access_seq LIMIT $2 OFFSET $3",
            )
            .bind(patient_id.to_string())
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
        })
        .context("failed to read the account access audit")?;
        Ok(rows
            .into_iter()
            .map(|(subject, role, at)| AccountAccess { subject, role, at })
            .collect())
    }

    /// Deletes contacts whose retention ended at or before `now`; returns how many.
    pub async fn purge_contacts(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        with_db!(&self.db, |pool| {
            sqlx::query("DELETE FROM contacts WHERE retain_until <= $1")
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("failed to purge the contact log")
    }

    /// (instant, billing issue) of every contact in `[from, until)`.
    pub async fn contact_issues(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(DateTime<Utc>, BillingIssue)>> {
        let rows: Vec<(DateTime<Utc>, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT occurred_at, billing_issue FROM contacts \
                 WHERE occurred_at >= $1 AND occurred_at < $2",
            )
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await
        })
        .context("failed to read contacts' billing issues")?;
        let mut issues = Vec::with_capacity(rows.len());
        for (at, code) in rows {
            let issue = BillingIssue::parse(&code)
                .with_context(|| format!("contacts holds an unknown billing issue {code:?}"))?;
            issues.push((at, issue));
        }
        Ok(issues)
    }

    /// The contacts, up to `until`, of every account with a next step due in `from..=to`.
    pub async fn follow_up_contacts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        until: DateTime<Utc>,
    ) -> anyhow::Result<Vec<ContactMade>> {
        let rows: Vec<(String, DateTime<Utc>, Option<NaiveDate>)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT patient_id, occurred_at, next_step_date FROM contacts \
                 WHERE occurred_at < $3 AND patient_id IN (SELECT patient_id FROM contacts \
                 WHERE next_step_date >= $1 AND next_step_date <= $2) \
                 ORDER BY contact_seq",
            )
            .bind(from)
            .bind(to)
            .bind(until)
            .fetch_all(pool)
            .await
        })
        .context("failed to read follow-ups")?;
        let mut contacts = Vec::with_capacity(rows.len());
        for (id, at, next_step_date) in rows {
            contacts.push(ContactMade {
                patient_id: PatientId::parse(&id)
                    .with_context(|| format!("contacts holds a malformed id {id:?}"))?,
                at,
                next_step_date,
            });
        }
        Ok(contacts)
    }

    /// Every payment on accounts with a promise or an active plan: what their status is
    /// derived from.
    pub async fn payments_on_arranged_accounts(
        &self,
    ) -> anyhow::Result<HashMap<PatientId, Vec<PaymentMade>>> {
        let rows: Vec<(String, DateTime<Utc>, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT patient_id, created_at, amount_minor FROM ledger_entries \
                 WHERE kind = 'payment' AND patient_id IN (SELECT patient_id FROM promises \
                 UNION SELECT patient_id FROM payment_plans WHERE replaced_at IS NULL)",
            )
            .fetch_all(pool)
            .await
        })
        .context("failed to read payments on arranged accounts")?;
        let mut payments: HashMap<PatientId, Vec<PaymentMade>> = HashMap::new();
        for (id, at, amount_minor) in rows {
            let patient_id = PatientId::parse(&id)
                .with_context(|| format!("ledger_entries holds a malformed id {id:?}"))?;
            payments.entry(patient_id).or_default().push(PaymentMade {
                at,
                amount: Money::from_minor(amount_minor.saturating_neg(), self.currency),
            });
        }
        Ok(payments)
    }
}

/// The desk's statements that run inside an escalation's transaction.
pub(crate) trait DeskTx {
    /// Records an escalation with the account's position at the time; returns its id.
    async fn insert_escalation(
        &mut self,
        escalation: &NewEscalation,
        facts: &EscalationFacts,
        escalated_by: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String>;
}

for_each_backend! {
    impl DeskTx for Conn {
        async fn insert_escalation(
            &mut self,
            escalation: &NewEscalation,
            facts: &EscalationFacts,
            escalated_by: &str,
            now: DateTime<Utc>,
        ) -> anyhow::Result<String> {
            let escalation_id = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO escalations (escalation_id, patient_id, target, reason, \
                 balance_minor, days_past_due, created_at, escalated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(escalation_id.as_str())
            .bind(escalation.patient_id.to_string())
            .bind(escalation.target.as_str())
            .bind(escalation.reason.as_str())
            .bind(facts.balance.minor_units())
            .bind(i32::try_from(facts.days_past_due).unwrap_or(i32::MAX))
            .bind(now)
            .bind(escalated_by)
            .execute(&mut *self)
            .await
            .context("failed to record an escalation")?;
            Ok(escalation_id)
        }
    }
}

#[derive(sqlx::FromRow)]
struct DisputeRow {
    dispute_id: String,
    patient_id: String,
    contact_id: Option<String>,
    billing_issue: String,
    opened_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    answer: Option<String>,
    answer_note: Option<String>,
    billing_reference: Option<String>,
    answered_by: Option<String>,
}

impl DisputeRow {
    fn into_dispute(self) -> anyhow::Result<Dispute> {
        let answer = match (self.answered_at, self.answer) {
            (Some(answered_at), Some(code)) => Some(GivenAnswer {
                answer: DisputeAnswer::parse(&code)
                    .with_context(|| format!("disputes holds an unknown answer {code:?}"))?,
                note: self.answer_note.unwrap_or_default(),
                billing_reference: self.billing_reference,
                answered_at,
                answered_by: self.answered_by.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Dispute {
            patient_id: PatientId::parse(&self.patient_id)
                .with_context(|| format!("disputes holds a malformed id {:?}", self.patient_id))?,
            billing_issue: BillingIssue::parse(&self.billing_issue).with_context(|| {
                format!("disputes holds an unknown issue {:?}", self.billing_issue)
            })?,
            dispute_id: self.dispute_id,
            contact_id: self.contact_id,
            opened_at: self.opened_at,
            answer,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EscalationRow {
    escalation_id: String,
    patient_id: String,
    target: String,
    reason: String,
    balance_minor: i64,
    days_past_due: i32,
    created_at: DateTime<Utc>,
    escalated_by: String,
}

impl EscalationRow {
    fn into_escalation(self, currency: clinic_common::Currency) -> anyhow::Result<Escalation> {
        Ok(Escalation {
            patient_id: PatientId::parse(&self.patient_id).with_context(|| {
                format!("escalations holds a malformed id {:?}", self.patient_id)
            })?,
            target: EscalationTarget::parse(&self.target).with_context(|| {
                format!("escalations holds an unknown target {:?}", self.target)
            })?,
            escalation_id: self.escalation_id,
            reason: self.reason,
            balance: Money::from_minor(self.balance_minor, currency),
            days_past_due: i64::from(self.days_past_due),
            created_at: self.created_at,
            escalated_by: self.escalated_by,
        })
    }
}
