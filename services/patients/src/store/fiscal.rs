//! Patients' fiscal data, one row per patient beside their record.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::ids::PatientId;
use clinic_common::{in_transaction, with_db};

use super::{PatientStore, PatientsTx};
use crate::domain::{AccessKind, FiscalData, PatientsError};

impl PatientStore {
    /// The patient's fiscal data, if recorded.
    pub async fn fiscal_data(
        &self,
        patient_id: PatientId,
    ) -> Result<Option<FiscalData>, PatientsError> {
        let row: Option<(String, String, String, String, Option<String>)> =
            with_db!(&self.db, |pool| {
                sqlx::query_as(
                    "SELECT rfc, legal_name, postal_code, tax_regime, cfdi_use \
                     FROM patient_fiscal_data WHERE patient_id = $1",
                )
                .bind(patient_id.to_string())
                .fetch_optional(pool)
                .await
            })
            .context("failed to read a patient's fiscal data")?;
        Ok(row.map(
            |(rfc, legal_name, postal_code, tax_regime, cfdi_use)| FiscalData {
                rfc,
                legal_name,
                postal_code,
                tax_regime,
                cfdi_use,
            },
        ))
    }

    /// Records (or, with `None`, removes) the patient's fiscal data, audited as an update.
    pub async fn set_fiscal_data(
        &self,
        patient_id: PatientId,
        fiscal: Option<&FiscalData>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(), PatientsError> {
        in_transaction!(&self.db, |tx| {
            let known: Option<String> =
                sqlx::query_scalar("SELECT patient_id FROM patients WHERE patient_id = $1")
                    .bind(patient_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .context("failed to read a patient")?;
            if known.is_none() {
                return Err(PatientsError::NotFound(patient_id));
            }
            sqlx::query("DELETE FROM patient_fiscal_data WHERE patient_id = $1")
                .bind(patient_id.to_string())
                .execute(&mut *tx)
                .await
                .context("failed to clear a patient's fiscal data")?;
            if let Some(fiscal) = fiscal {
                sqlx::query(
                    "INSERT INTO patient_fiscal_data (patient_id, rfc, legal_name, postal_code, \
                     tax_regime, cfdi_use, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(patient_id.to_string())
                .bind(&fiscal.rfc)
                .bind(&fiscal.legal_name)
                .bind(&fiscal.postal_code)
                .bind(&fiscal.tax_regime)
                .bind(fiscal.cfdi_use.as_deref())
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("failed to record a patient's fiscal data")?;
            }
            tx.record_access(&[patient_id], (caller, None), AccessKind::Update, now)
                .await?;
            Ok::<_, PatientsError>(())
        })
    }
}
