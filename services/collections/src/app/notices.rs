//! Statements and collection notices: what billing's statement and the receivables say,
//! written in the patient's language, as text or a PDF.

use std::collections::HashMap;

use chrono::NaiveDate;
use clinic_common::ids::PatientId;
use clinic_common::{Currency, Money};
use clinic_proto::billing::v1 as billing;
use clinic_proto::{date_from_proto, money_from_proto};

use super::billing::billing_refusal;
use super::{Desk, DeskError, OnBehalf};
use crate::domain::{
    CollectionsError, Language, NoticeContent, NoticeKind, OpenDebt, StatementLine, display_name,
    notice_lines, notice_text,
};
use crate::printing::render_notice_pdf;
use crate::registry::{self, Lookup};

/// How a notice is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoticeFormat {
    Text,
    Pdf,
}

/// A notice, rendered.
#[derive(Debug, Clone)]
pub(crate) struct RenderedNotice {
    pub content: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
    /// The language it is written in.
    pub language: Language,
}

/// Billing's statement of an account, read.
struct Statement {
    lines: Vec<StatementLine>,
    /// Each ledger line's description, by billing's source id.
    descriptions: HashMap<String, String>,
    closing_balance: Money,
}

impl Desk {
    /// Writes a notice of `kind` for the patient, in `language` or else the one the registry
    /// says they prefer (Spanish when it names none the notices are written in). Billing's
    /// statement is read on the caller's behalf.
    pub(crate) async fn render_notice(
        &self,
        on_behalf: &OnBehalf,
        patient_id: PatientId,
        kind: NoticeKind,
        format: NoticeFormat,
        language: Option<Language>,
    ) -> Result<RenderedNotice, DeskError> {
        let patient = match registry::look_up(&self.patients, patient_id).await {
            Lookup::Found(patient) => patient,
            Lookup::Unknown => return Err(CollectionsError::PatientNotFound(patient_id).into()),
            Lookup::Unanswered(_) => return Err(CollectionsError::RegistryUnavailable.into()),
        };
        let language = language
            .or_else(|| Language::parse(&patient.preferred_language))
            .unwrap_or(Language::Es);
        let statement = self.statement(on_behalf, patient_id).await?;
        let today = self.today();
        let open_debts = self
            .store
            .open_charges(patient_id)
            .await?
            .into_iter()
            .map(|(service_date, source_id, remaining)| OpenDebt {
                service_date,
                description: statement
                    .descriptions
                    .get(&source_id)
                    .cloned()
                    .unwrap_or(source_id),
                remaining,
            })
            .collect();
        let days_past_due = self
            .store
            .receivable(patient_id)
            .await?
            .and_then(|account| account.days_past_due(today, self.terms.payment_terms_days))
            .unwrap_or(0);
        let content = NoticeContent {
            kind,
            language,
            clinic_name: self.clinic_name.clone(),
            patient_name: display_name(&patient.given_name, &patient.family_name),
            date: today,
            balance: statement.closing_balance,
            days_past_due,
            statement: statement.lines,
            open_debts,
        };
        Ok(render(&content, format).await?)
    }

    /// Billing's statement of the account, asked for on the caller's behalf: billing describes
    /// each line (price code, service, receipt) as the patient knows it.
    async fn statement(
        &self,
        on_behalf: &OnBehalf,
        patient_id: PatientId,
    ) -> Result<Statement, DeskError> {
        let mut billing = self.billing_on_behalf.clone();
        let statement = billing
            .get_statement(on_behalf.request(billing::GetStatementRequest {
                patient_id: patient_id.to_string(),
                from_date: None,
                to_date: None,
            }))
            .await
            .map_err(billing_refusal)?
            .into_inner();
        Ok(read_statement(&statement, self.terms.currency)?)
    }
}

/// Billing's statement, read; a malformed one breaks billing's contract.
fn read_statement(
    statement: &billing::Statement,
    currency: Currency,
) -> Result<Statement, CollectionsError> {
    let broken = |what: &str, reason: String| {
        CollectionsError::Unexpected(anyhow::anyhow!("billing sent {what} {reason}"))
    };
    let mut lines = Vec::with_capacity(statement.lines.len());
    let mut descriptions = HashMap::new();
    for line in &statement.lines {
        let amount = money_from_proto(line.amount.as_ref(), currency)
            .map_err(|reason| broken("a statement line whose amount", reason))?;
        let running_balance = money_from_proto(line.running_balance.as_ref(), currency)
            .map_err(|reason| broken("a running balance that", reason))?;
        let service_date: NaiveDate = date_from_proto(line.service_date.as_ref())
            .map_err(|reason| broken("a service date that", reason))?;
        descriptions.insert(line.source_id.clone(), line.description.clone());
        lines.push(StatementLine {
            service_date,
            description: line.description.clone(),
            amount,
            running_balance,
        });
    }
    let closing_balance = money_from_proto(statement.closing_balance.as_ref(), currency)
        .map_err(|reason| broken("a closing balance that", reason))?;
    Ok(Statement {
        lines,
        descriptions,
        closing_balance,
    })
}

/// Lays a notice out as text, or as a PDF (on a blocking thread: laying out fonts takes
/// longer than an async task may hold its thread).
async fn render(
    content: &NoticeContent,
    format: NoticeFormat,
) -> Result<RenderedNotice, CollectionsError> {
    let file_stem = format!(
        "{}-{}",
        content.kind.slug(),
        content.date.format("%Y-%m-%d")
    );
    let lines = notice_lines(content);
    let (bytes, content_type, file_name) = match format {
        NoticeFormat::Pdf => {
            let title = lines
                .get(1)
                .map(|line| line.text.clone())
                .unwrap_or_default();
            let bytes = tokio::task::spawn_blocking(move || render_notice_pdf(&lines, &title))
                .await
                .map_err(|error| CollectionsError::Unexpected(error.into()))??;
            (bytes, "application/pdf", format!("{file_stem}.pdf"))
        }
        NoticeFormat::Text => (
            notice_text(&lines).into_bytes(),
            "text/plain; charset=utf-8",
            format!("{file_stem}.txt"),
        ),
    };
    Ok(RenderedNotice {
        content: bytes,
        content_type,
        file_name,
        language: content.language,
    })
}
