//! What the worklist is built from: every open account with what the contact log, the registry
//! and the assignments know about it, and assigning accounts to collectors.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::ids::PatientId;
use clinic_common::with_db;

use super::{ReceivableRow, ReceivablesStore};
use crate::domain::{AccountContacts, ContactKind, ContactState, LoggedCall, Receivable};

impl ReceivablesStore {
    /// Every account with an open balance, and what is known about contacting each, with the
    /// outbound calls since `calls_since`.
    pub async fn worklist_inputs(
        &self,
        calls_since: DateTime<Utc>,
    ) -> anyhow::Result<(Vec<Receivable>, HashMap<PatientId, AccountContacts>)> {
        let accounts = self.open_accounts().await?;
        let mut contacts: HashMap<PatientId, AccountContacts> = accounts
            .iter()
            .map(|account| (account.patient_id, AccountContacts::default()))
            .collect();
        for (patient_id, profile) in self.contact_profiles().await? {
            if let Some(known) = contacts.get_mut(&patient_id) {
                known.profile = Some(profile);
            }
        }
        self.add_contact_states(&mut contacts).await?;
        self.add_recent_calls(&mut contacts, calls_since).await?;
        self.add_last_contacts(&mut contacts).await?;
        self.add_assignments(&mut contacts).await?;
        Ok((accounts, contacts))
    }

    /// Every account with an open balance, by patient id.
    async fn open_accounts(&self) -> anyhow::Result<Vec<Receivable>> {
        let rows: Vec<ReceivableRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                receivable_columns!(),
                " FROM receivable_accounts WHERE balance_minor > 0 ORDER BY patient_id"
            ))
            .fetch_all(pool)
            .await
        })
        .context("failed to read open accounts")?;
        let mut accounts = Vec::with_capacity(rows.len());
        for row in rows {
            accounts.push(row.into_receivable(self.currency)?);
        }
        Ok(accounts)
    }

    /// Adds each open account's contact state.
    async fn add_contact_states(
        &self,
        contacts: &mut HashMap<PatientId, AccountContacts>,
    ) -> anyhow::Result<()> {
        let states: Vec<(String, bool, bool, bool)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT patient_id, cease_requested, refused_to_pay, dispute_open \
                 FROM contact_states",
            )
            .fetch_all(pool)
            .await
        })
        .context("failed to read contact states")?;
        for (id, cease_requested, refused_to_pay, dispute_open) in states {
            if let Some(known) = known_account(contacts, &id)? {
                known.state = ContactState {
                    cease_requested,
                    refused_to_pay,
                    dispute_open,
                };
            }
        }
        Ok(())
    }

    /// Adds each open account's outbound calls since `since`: what the call rules count.
    async fn add_recent_calls(
        &self,
        contacts: &mut HashMap<PatientId, AccountContacts>,
        since: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let calls: Vec<(String, DateTime<Utc>, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT patient_id, occurred_at, kind FROM contacts \
                 WHERE direction = 'outbound' AND channel = 'phone_call' AND occurred_at > $1 \
                 ORDER BY contact_seq",
            )
            .bind(since)
            .fetch_all(pool)
            .await
        })
        .context("failed to read recent calls")?;
        for (id, at, kind) in calls {
            if let Some(known) = known_account(contacts, &id)? {
                known.recent_calls.push(LoggedCall {
                    at,
                    conversation: kind == ContactKind::Conversation.as_str(),
                });
            }
        }
        Ok(())
    }

    /// Adds when each open account was last contacted.
    async fn add_last_contacts(
        &self,
        contacts: &mut HashMap<PatientId, AccountContacts>,
    ) -> anyhow::Result<()> {
        let last_contacts: Vec<(String, DateTime<Utc>)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT patient_id, MAX(occurred_at) FROM contacts GROUP BY patient_id")
                .fetch_all(pool)
                .await
        })
        .context("failed to read last contacts")?;
        for (id, at) in last_contacts {
            if let Some(known) = known_account(contacts, &id)? {
                known.last_contact_at = Some(at);
            }
        }
        Ok(())
    }

    /// Adds the collector each open account is assigned to.
    async fn add_assignments(
        &self,
        contacts: &mut HashMap<PatientId, AccountContacts>,
    ) -> anyhow::Result<()> {
        let assignments: Vec<(String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT patient_id, collector FROM account_assignments")
                .fetch_all(pool)
                .await
        })
        .context("failed to read assignments")?;
        for (id, collector) in assignments {
            if let Some(known) = known_account(contacts, &id)? {
                known.assigned_to = Some(collector);
            }
        }
        Ok(())
    }

    /// Assigns an account to `collector`, or takes it from whoever had it when `None`.
    pub async fn assign_account(
        &self,
        patient_id: PatientId,
        collector: Option<&str>,
        assigned_by: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        match collector {
            Some(collector) => with_db!(&self.db, |pool| {
                sqlx::query(
                    "INSERT INTO account_assignments (patient_id, collector, assigned_by, \
                     assigned_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (patient_id) DO UPDATE SET collector = excluded.collector, \
                     assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at",
                )
                .bind(patient_id.to_string())
                .bind(collector)
                .bind(assigned_by)
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
            }),
            None => with_db!(&self.db, |pool| {
                sqlx::query("DELETE FROM account_assignments WHERE patient_id = $1")
                    .bind(patient_id.to_string())
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
            }),
        }
        .context("failed to assign an account")?;
        Ok(())
    }

    /// Whether the receivables have ever seen this patient.
    pub async fn has_account(&self, patient_id: PatientId) -> anyhow::Result<bool> {
        let found: Option<String> = with_db!(&self.db, |pool| {
            sqlx::query_scalar("SELECT patient_id FROM receivable_accounts WHERE patient_id = $1")
                .bind(patient_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to look up an account")?;
        Ok(found.is_some())
    }
}

/// The entry of an open account, by the id a row holds; `None` for accounts not open.
fn known_account<'a>(
    contacts: &'a mut HashMap<PatientId, AccountContacts>,
    id: &str,
) -> anyhow::Result<Option<&'a mut AccountContacts>> {
    let patient_id = PatientId::parse(id)
        .with_context(|| format!("a collections table holds a malformed id {id:?}"))?;
    Ok(contacts.get_mut(&patient_id))
}

impl ReceivablesStore {
    /// One account as the receivables hold it, whether or not it owes anything now.
    pub async fn receivable(&self, patient_id: PatientId) -> anyhow::Result<Option<Receivable>> {
        let row: Option<ReceivableRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                receivable_columns!(),
                " FROM receivable_accounts WHERE patient_id = $1"
            ))
            .bind(patient_id.to_string())
            .fetch_optional(pool)
            .await
        })
        .context("failed to read a receivable account")?;
        row.map(|row| row.into_receivable(self.currency))
            .transpose()
    }

    /// An account's assigned collector.
    pub async fn assignment(&self, patient_id: PatientId) -> anyhow::Result<Option<String>> {
        with_db!(&self.db, |pool| {
            sqlx::query_scalar("SELECT collector FROM account_assignments WHERE patient_id = $1")
                .bind(patient_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read an assignment")
    }

    /// An account's open debts (service day, billing's charge id, what remains), oldest first.
    pub async fn open_charges(
        &self,
        patient_id: PatientId,
    ) -> anyhow::Result<Vec<(chrono::NaiveDate, String, clinic_common::Money)>> {
        let rows: Vec<(chrono::NaiveDate, String, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT service_date, source_id, remaining_minor FROM account_charges \
                 WHERE patient_id = $1 AND remaining_minor > 0 \
                 ORDER BY service_date, charge_sequence",
            )
            .bind(patient_id.to_string())
            .fetch_all(pool)
            .await
        })
        .context("failed to read open charges")?;
        Ok(rows
            .into_iter()
            .map(|(day, source_id, minor)| {
                (
                    day,
                    source_id,
                    clinic_common::Money::from_minor(minor, self.currency),
                )
            })
            .collect())
    }
}
