//! Intake forms in the registry's tables: each submission a row, idempotent by request id.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::db::is_unique_violation;
use clinic_common::ids::PatientId;
use clinic_common::{in_transaction, with_db};

use super::PatientStore;
use crate::domain::{
    AccessKind, EmergencyContact, IntakeAnswers, IntakeForm, Language, LastDentalVisit,
    MedicalCondition, NewIntakeForm, PatientsError, PersonName, Phone,
};

/// The idempotency-key operation name for intake submissions.
const SUBMIT_INTAKE: &str = "submit_intake_form";

/// The columns `IntakeRow` reads, as a literal so queries stay `&'static str`.
macro_rules! intake_columns {
    () => {
        "patient_id, reason_for_visit, allergies, medications, conditions, last_dental_visit, \
         emergency_contact_name, emergency_contact_phone, language, submitted_at, submitted_by"
    };
}

const SELECT_BY_ID: &str = concat!(
    "SELECT ",
    intake_columns!(),
    " FROM intake_forms WHERE intake_form_id = $1"
);

const SELECT_LATEST: &str = concat!(
    "SELECT ",
    intake_columns!(),
    " FROM intake_forms WHERE patient_id = $1 \
     ORDER BY submitted_at DESC, intake_form_id DESC LIMIT 1"
);

impl PatientStore {
    /// Records a submission (or returns the one a first call with the same request id recorded)
    /// and notes in the access log that the caller changed the patient's record.
    pub async fn submit_intake(
        &self,
        new: &NewIntakeForm,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<IntakeForm, PatientsError> {
        let fingerprint = new.answers.fingerprint(new.patient_id);
        // As for registrations: two first attempts with one key can race on PostgreSQL; the
        // loser's second pass finds the winner's form.
        for _ in 0..2 {
            match self.try_submit_intake(new, &fingerprint, caller, now).await {
                Err(SubmitError::KeyTaken) => continue,
                Err(SubmitError::Patients(error)) => return Err(error),
                Ok(intake_form_id) => {
                    return self.intake_by_id(&intake_form_id).await?.ok_or_else(|| {
                        anyhow::anyhow!("intake form {intake_form_id} vanished after insert").into()
                    });
                }
            }
        }
        Err(anyhow::anyhow!("idempotency key {} stayed contended", new.request_id).into())
    }

    async fn try_submit_intake(
        &self,
        new: &NewIntakeForm,
        fingerprint: &str,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<String, SubmitError> {
        in_transaction!(&self.db, |tx| {
            let earlier: Option<(String, String)> = sqlx::query_as(
                "SELECT fingerprint, resource_id FROM idempotency_keys \
                 WHERE operation = $1 AND request_id = $2",
            )
            .bind(SUBMIT_INTAKE)
            .bind(new.request_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .context("failed to look up an idempotency key")?;
            if let Some((earlier_fingerprint, intake_form_id)) = earlier {
                if earlier_fingerprint != fingerprint {
                    return Err(SubmitError::Patients(PatientsError::RequestIdReused));
                }
                return Ok(intake_form_id);
            }
            // Version 7 ids grow with time, which orders forms submitted in the same instant.
            let intake_form_id = uuid::Uuid::now_v7().to_string();
            let answers = &new.answers;
            let conditions: Vec<&str> = answers.conditions.iter().map(|c| c.as_str()).collect();
            let contact = answers.emergency_contact.as_ref();
            sqlx::query(
                "INSERT INTO intake_forms (intake_form_id, patient_id, reason_for_visit, \
                 allergies, medications, conditions, last_dental_visit, emergency_contact_name, \
                 emergency_contact_phone, language, submitted_at, submitted_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&intake_form_id)
            .bind(new.patient_id.to_string())
            .bind(answers.reason_for_visit.as_deref())
            .bind(answers.allergies.as_deref())
            .bind(answers.medications.as_deref())
            .bind(conditions.join(","))
            .bind(answers.last_dental_visit.map(LastDentalVisit::as_str))
            .bind(contact.map(|c| c.name.as_str()))
            .bind(contact.map(|c| c.phone.as_str()))
            .bind(answers.language.tag())
            .bind(now)
            .bind(caller.subject.as_str())
            .execute(&mut *tx)
            .await
            .context("failed to insert an intake form")?;
            let recorded = sqlx::query(
                "INSERT INTO idempotency_keys \
                 (operation, request_id, fingerprint, resource_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(SUBMIT_INTAKE)
            .bind(new.request_id.as_str())
            .bind(fingerprint)
            .bind(&intake_form_id)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match recorded {
                Err(error) if is_unique_violation(&error, "idempotency_keys") => {
                    return Err(SubmitError::KeyTaken);
                }
                other => other.context("failed to record an idempotency key")?,
            };
            record_access!(tx, [new.patient_id], caller, AccessKind::Update, now);
            Ok(intake_form_id)
        })
    }

    async fn intake_by_id(
        &self,
        intake_form_id: &str,
    ) -> Result<Option<IntakeForm>, PatientsError> {
        let row: Option<IntakeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_BY_ID)
                .bind(intake_form_id)
                .fetch_optional(pool)
                .await
        })
        .context("failed to read an intake form")?;
        row.map(IntakeRow::into_form)
            .transpose()
            .map_err(Into::into)
    }

    /// The patient's newest intake form.
    pub async fn latest_intake(
        &self,
        patient_id: PatientId,
    ) -> Result<Option<IntakeForm>, PatientsError> {
        let row: Option<IntakeRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_LATEST)
                .bind(patient_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read an intake form")?;
        row.map(IntakeRow::into_form)
            .transpose()
            .map_err(Into::into)
    }
}

enum SubmitError {
    KeyTaken,
    Patients(PatientsError),
}

impl From<anyhow::Error> for SubmitError {
    fn from(error: anyhow::Error) -> Self {
        SubmitError::Patients(PatientsError::Unexpected(error))
    }
}

#[derive(sqlx::FromRow)]
struct IntakeRow {
    patient_id: String,
    reason_for_visit: Option<String>,
    allergies: Option<String>,
    medications: Option<String>,
    conditions: String,
    last_dental_visit: Option<String>,
    emergency_contact_name: Option<String>,
    emergency_contact_phone: Option<String>,
    language: String,
    submitted_at: DateTime<Utc>,
    submitted_by: String,
}

impl IntakeRow {
    /// Rows were validated on the way in; one that no longer parses is corrupt data.
    fn into_form(self) -> anyhow::Result<IntakeForm> {
        let corrupt =
            |field: &str| anyhow::anyhow!("intake_forms.{field} of {} is corrupt", self.patient_id);
        let mut conditions = Vec::new();
        for name in self.conditions.split(',').filter(|name| !name.is_empty()) {
            conditions.push(MedicalCondition::parse(name).ok_or_else(|| corrupt("conditions"))?);
        }
        let emergency_contact = match (&self.emergency_contact_name, &self.emergency_contact_phone)
        {
            (Some(name), Some(phone)) => Some(EmergencyContact {
                name: PersonName::parse(name).map_err(|_| corrupt("emergency_contact_name"))?,
                phone: Phone::parse(phone).map_err(|_| corrupt("emergency_contact_phone"))?,
            }),
            _ => None,
        };
        Ok(IntakeForm {
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            answers: IntakeAnswers {
                reason_for_visit: self.reason_for_visit.clone(),
                allergies: self.allergies.clone(),
                medications: self.medications.clone(),
                conditions,
                last_dental_visit: match &self.last_dental_visit {
                    Some(text) => Some(
                        LastDentalVisit::parse(text).ok_or_else(|| corrupt("last_dental_visit"))?,
                    ),
                    None => None,
                },
                emergency_contact,
                language: Language::parse(&self.language).map_err(|_| corrupt("language"))?,
            },
            submitted_at: self.submitted_at,
            submitted_by: self.submitted_by,
        })
    }
}
