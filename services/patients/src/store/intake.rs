//! Intake forms in the registry's tables: each submission a row, idempotent by request id.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clinic_common::auth::Caller;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::PatientId;
use clinic_common::{in_transaction, with_db};

use super::{PatientStore, PatientsTx};
use crate::domain::{
    AccessKind, EmergencyContact, Guardian, GuardianRelationship, IntakeAnswers, IntakeForm,
    Language, LastDentalVisit, MedicalCondition, NewIntakeForm, PatientsError, PersonName, Phone,
};

/// The idempotency-key operation name for intake submissions.
const SUBMIT_INTAKE: &str = "submit_intake_form";

/// The columns `IntakeRow` reads, as a literal so queries stay `&'static str`.
macro_rules! intake_columns {
    () => {
        "patient_id, reason_for_visit, allergies, medications, conditions, last_dental_visit, \
         emergency_contact_name, emergency_contact_phone, language, submitted_at, submitted_by, \
         guardian_name, guardian_relationship, guardian_phone"
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
        let key = IdempotencyKey::new(SUBMIT_INTAKE, &new.request_id, &fingerprint);
        let intake_form_id = retrying("an intake form", || {
            self.try_submit_intake(new, &key, caller, now)
        })
        .await?;
        self.intake_by_id(&intake_form_id).await?.ok_or_else(|| {
            anyhow::anyhow!("intake form {intake_form_id} vanished after insert").into()
        })
    }

    async fn try_submit_intake(
        &self,
        new: &NewIntakeForm,
        key: &IdempotencyKey<'_>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<String, Attempt<PatientsError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(intake_form_id) = tx.earlier_result(key).await? {
                return Ok(intake_form_id);
            }
            // Version 7 ids grow with time, which orders forms submitted in the same instant.
            let intake_form_id = uuid::Uuid::now_v7().to_string();
            let answers = &new.answers;
            let conditions: Vec<&str> = answers.conditions.iter().map(|c| c.as_str()).collect();
            let contact = answers.emergency_contact.as_ref();
            let guardian = answers.guardian.as_ref();
            sqlx::query(
                "INSERT INTO intake_forms (intake_form_id, patient_id, reason_for_visit, \
                 allergies, medications, conditions, last_dental_visit, emergency_contact_name, \
                 emergency_contact_phone, language, submitted_at, submitted_by, guardian_name, \
                 guardian_relationship, guardian_phone) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
            .bind(guardian.map(|g| g.name.as_str()))
            .bind(guardian.map(|g| g.relationship.as_str()))
            .bind(guardian.map(|g| g.phone.as_str()))
            .execute(&mut *tx)
            .await
            .context("failed to insert an intake form")?;
            tx.claim(key, &intake_form_id, now).await?;
            tx.record_access(&[new.patient_id], (caller, None), AccessKind::Update, now)
                .await?;
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
    guardian_name: Option<String>,
    guardian_relationship: Option<String>,
    guardian_phone: Option<String>,
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
        let guardian = match (
            &self.guardian_name,
            &self.guardian_relationship,
            &self.guardian_phone,
        ) {
            (None, None, None) => None,
            (Some(name), Some(relationship), Some(phone)) => Some(Guardian {
                name: PersonName::parse(name).map_err(|_| corrupt("guardian_name"))?,
                relationship: GuardianRelationship::parse(relationship)
                    .ok_or_else(|| corrupt("guardian_relationship"))?,
                phone: Phone::parse(phone).map_err(|_| corrupt("guardian_phone"))?,
            }),
            _ => return Err(corrupt("guardian_name")),
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
                guardian,
                language: Language::parse(&self.language).map_err(|_| corrupt("language"))?,
            },
            submitted_at: self.submitted_at,
            submitted_by: self.submitted_by,
        })
    }
}
