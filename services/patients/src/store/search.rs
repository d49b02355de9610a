//! Keeping the stored search text in step with the way it is built.

use anyhow::Context;
use clinic_common::{in_transaction, with_db};

use super::{PatientRow, PatientStore};
use crate::domain::SEARCH_TEXT_VERSION;

/// How many patients' search text is rebuilt in one transaction.
const REBUILD_BATCH: i64 = 500;

impl PatientStore {
    /// Rebuilds every patient's search text when the stored text was built by an older
    /// version of `search_text`, in batches, then records the version. Returns how many
    /// patients were rebuilt. Safe to run from several replicas at once: each writes the same
    /// text, and a patient registered or changed meanwhile is written by the new version.
    pub async fn refresh_search_text(&self) -> anyhow::Result<u64> {
        let stored: i64 = with_db!(&self.db, |pool| {
            sqlx::query_scalar("SELECT MIN(version) FROM search_text_version")
                .fetch_one(pool)
                .await
        })
        .context("failed to read the search text's version")?;
        if stored >= SEARCH_TEXT_VERSION {
            return Ok(0);
        }
        let mut after = String::new();
        let mut rebuilt = 0;
        loop {
            let rows: Vec<PatientRow> = with_db!(&self.db, |pool| {
                sqlx::query_as(concat!(
                    "SELECT ",
                    patient_columns!(),
                    " FROM patients WHERE patient_id > $1 ORDER BY patient_id LIMIT $2"
                ))
                .bind(&after)
                .bind(REBUILD_BATCH)
                .fetch_all(pool)
                .await
            })
            .context("failed to read patients to rebuild their search text")?;
            let Some(last) = rows.last() else { break };
            after = last.patient_id.clone();
            let mut texts = Vec::with_capacity(rows.len());
            for row in rows {
                let patient = row.into_patient()?;
                texts.push((
                    patient.patient_id.to_string(),
                    patient.details.search_text(),
                ));
            }
            rebuilt += u64::try_from(texts.len()).unwrap_or(u64::MAX);
            in_transaction!(&self.db, |tx| {
                for (patient_id, text) in &texts {
                    sqlx::query("UPDATE patients SET search_text = $2 WHERE patient_id = $1")
                        .bind(patient_id)
                        .bind(text)
                        .execute(&mut *tx)
                        .await?;
                }
                Ok::<_, sqlx::Error>(())
            })
            .context("failed to rebuild patients' search text")?;
        }
        with_db!(&self.db, |pool| {
            sqlx::query("UPDATE search_text_version SET version = $1 WHERE version < $1")
                .bind(SEARCH_TEXT_VERSION)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .context("failed to record the search text's version")?;
        tracing::info!(
            patients = rebuilt,
            version = SEARCH_TEXT_VERSION,
            "search text rebuilt"
        );
        Ok(rebuilt)
    }
}
