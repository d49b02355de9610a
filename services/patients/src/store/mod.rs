//! The patient registry's tables, on SQLite or PostgreSQL. Queries are written once in the SQL
//! both backends share (see `clinic_common::db`).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clinic_common::auth::{Caller, Role};
use clinic_common::db::Database;
use clinic_common::idempotency::{Attempt, IdempotencyKey, IdempotencyKeys, retrying};
use clinic_common::ids::PatientId;
use clinic_common::{for_each_backend, in_transaction, with_db};
use sqlx::migrate::Migrator;

use crate::domain::{
    AccessKind, ContactConsent, Email, Language, NewPatient, Patient, PatientAccess,
    PatientChanges, PatientDetails, PatientsError, PersonName, Phone, SearchTerms,
};

mod fiscal;
mod intake;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The idempotency-key operation name for registrations.
const CREATE_PATIENT: &str = "create_patient";

/// The columns `PatientRow` reads, as a literal so queries stay `&'static str`.
macro_rules! patient_columns {
    () => {
        "patient_id, given_name, family_name, date_of_birth, phone, email, preferred_language, \
         time_zone, consent_sms, consent_whatsapp, consent_email, consent_phone_call, \
         created_at, updated_at"
    };
}

// After the column list, which it uses.
mod search;

const SELECT_PATIENT: &str = concat!(
    "SELECT ",
    patient_columns!(),
    " FROM patients WHERE patient_id = $1"
);

#[derive(Debug, Clone)]
pub struct PatientStore {
    db: Database,
}

impl PatientStore {
    pub fn new(db: Database) -> Self {
        PatientStore { db }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.db
            .migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS)
            .await
    }

    /// Registers a patient, or returns the patient a first call with the same request id
    /// registered.
    pub async fn create(
        &self,
        new: &NewPatient,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Patient, PatientsError> {
        let fingerprint = new.details.fingerprint();
        let key = IdempotencyKey::new(CREATE_PATIENT, &new.request_id, &fingerprint);
        let patient_id =
            retrying("a registration", || self.try_create(new, &key, caller, now)).await?;
        self.get(patient_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("patient {patient_id} vanished after insert").into())
    }

    async fn try_create(
        &self,
        new: &NewPatient,
        key: &IdempotencyKey<'_>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<PatientId, Attempt<PatientsError>> {
        in_transaction!(&self.db, |tx| {
            // A retry: the first call's result, and nothing written.
            if let Some(patient_id) = tx.earlier_result(key).await? {
                return Ok(patient_id);
            }
            let patient_id = PatientId::new();
            let details = &new.details;
            sqlx::query(
                "INSERT INTO patients (patient_id, given_name, family_name, date_of_birth, \
                 phone, email, preferred_language, time_zone, consent_sms, consent_whatsapp, \
                 consent_email, consent_phone_call, search_text, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
            )
            .bind(patient_id.to_string())
            .bind(details.given_name.as_str())
            .bind(details.family_name.as_str())
            .bind(details.date_of_birth)
            .bind(details.phone.as_str())
            .bind(details.email.as_ref().map(Email::as_str))
            .bind(details.language.tag())
            .bind(details.time_zone.name())
            .bind(details.consent.sms)
            .bind(details.consent.whatsapp)
            .bind(details.consent.email)
            .bind(details.consent.phone_call)
            .bind(details.search_text())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to insert a patient")?;
            tx.claim(key, &patient_id.to_string(), now).await?;
            tx.record_access(&[patient_id], (caller, None), AccessKind::Create, now)
                .await?;
            Ok(patient_id)
        })
    }

    pub async fn get(&self, patient_id: PatientId) -> Result<Option<Patient>, PatientsError> {
        let row: Option<PatientRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(SELECT_PATIENT)
                .bind(patient_id.to_string())
                .fetch_optional(pool)
                .await
        })
        .context("failed to read a patient")?;
        row.map(PatientRow::into_patient)
            .transpose()
            .map_err(Into::into)
    }

    /// Patients whose folded names, phone or email contain every term, by family name.
    pub async fn search(
        &self,
        terms: &SearchTerms,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Patient>, PatientsError> {
        let rows: Vec<PatientRow> = with_db!(&self.db, |pool| {
            let mut query = sqlx::QueryBuilder::new(concat!(
                "SELECT ",
                patient_columns!(),
                " FROM patients WHERE 1 = 1"
            ));
            for term in terms.terms() {
                query
                    .push(" AND search_text LIKE ")
                    .push_bind(format!("%{}%", escape_like(term)))
                    .push(" ESCAPE '\\'");
            }
            query
                .push(" ORDER BY family_name, given_name, patient_id LIMIT ")
                .push_bind(i64::from(limit))
                .push(" OFFSET ")
                .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
            query.build_query_as().fetch_all(pool).await
        })
        .context("failed to search patients")?;
        let mut patients = Vec::with_capacity(rows.len());
        for row in rows {
            patients.push(row.into_patient()?);
        }
        Ok(patients)
    }

    /// Applies `changes` to a patient and returns the result.
    pub async fn update(
        &self,
        patient_id: PatientId,
        changes: &PatientChanges,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Patient, PatientsError> {
        in_transaction!(&self.db, |tx| {
            let row: Option<PatientRow> = sqlx::query_as(SELECT_PATIENT)
                .bind(patient_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .context("failed to read a patient")?;
            let current = row
                .ok_or(PatientsError::NotFound(patient_id))?
                .into_patient()?;
            let details = changes.apply_to(&current.details);
            sqlx::query(
                "UPDATE patients SET given_name = $2, family_name = $3, date_of_birth = $4, \
                 phone = $5, email = $6, preferred_language = $7, time_zone = $8, \
                 consent_sms = $9, consent_whatsapp = $10, consent_email = $11, \
                 consent_phone_call = $12, search_text = $13, updated_at = $14 \
                 WHERE patient_id = $1",
            )
            .bind(patient_id.to_string())
            .bind(details.given_name.as_str())
            .bind(details.family_name.as_str())
            .bind(details.date_of_birth)
            .bind(details.phone.as_str())
            .bind(details.email.as_ref().map(Email::as_str))
            .bind(details.language.tag())
            .bind(details.time_zone.name())
            .bind(details.consent.sms)
            .bind(details.consent.whatsapp)
            .bind(details.consent.email)
            .bind(details.consent.phone_call)
            .bind(details.search_text())
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("failed to update a patient")?;
            tx.record_access(&[patient_id], (caller, None), AccessKind::Update, now)
                .await?;
            Ok::<_, PatientsError>(Patient {
                details,
                updated_at: now,
                ..current
            })
        })
    }

    /// Records that a person read or searched these patients' records, through the service
    /// `via` when a service read them for the person.
    pub async fn record_reads(
        &self,
        patient_ids: &[PatientId],
        (caller, via): (&Caller, Option<&str>),
        action: AccessKind,
        now: DateTime<Utc>,
    ) -> Result<(), PatientsError> {
        if patient_ids.is_empty() {
            return Ok(());
        }
        in_transaction!(&self.db, |tx| {
            tx.record_access(patient_ids, (caller, via), action, now)
                .await?;
            Ok::<_, PatientsError>(())
        })
    }

    /// Access-log entries for a patient, oldest first.
    pub async fn access_log(
        &self,
        patient_id: PatientId,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<PatientAccess>, PatientsError> {
        let rows: Vec<(String, String, String, DateTime<Utc>, String)> =
            with_db!(&self.db, |pool| {
                sqlx::query_as(
                    "SELECT subject, role, action, accessed_at, via FROM patient_access_log \
                 WHERE patient_id = $1 ORDER BY access_id LIMIT $2 OFFSET $3",
                )
                .bind(patient_id.to_string())
                .bind(i64::from(limit))
                .bind(i64::try_from(offset).unwrap_or(i64::MAX))
                .fetch_all(pool)
                .await
            })
            .context("failed to read the access log")?;
        Ok(rows
            .into_iter()
            .map(|(subject, role, action, accessed_at, via)| PatientAccess {
                subject,
                role,
                action,
                accessed_at,
                via,
            })
            .collect())
    }
}

/// The registry's statements that run inside another statement's transaction.
trait PatientsTx {
    /// Appends access-log rows: a person read or changed these patients' records (through the
    /// service `via`, when one read them for the person). A service's own calls, for no person,
    /// are not a person reading a record and are not logged.
    async fn record_access(
        &mut self,
        patient_ids: &[PatientId],
        reader: (&Caller, Option<&str>),
        action: AccessKind,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()>;
}

for_each_backend! {
    impl PatientsTx for Conn {
        async fn record_access(
            &mut self,
            patient_ids: &[PatientId],
            (caller, via): (&Caller, Option<&str>),
            action: AccessKind,
            now: DateTime<Utc>,
        ) -> anyhow::Result<()> {
            if caller.role == Role::Service {
                return Ok(());
            }
            for patient_id in patient_ids {
                sqlx::query(
                    "INSERT INTO patient_access_log \
                     (patient_id, subject, role, action, accessed_at, via) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(patient_id.to_string())
                .bind(caller.subject.as_str())
                .bind(caller.role.as_str())
                .bind(action.as_str())
                .bind(now)
                .bind(via.unwrap_or_default())
                .execute(&mut *self)
                .await
                .context("failed to record a patient access")?;
            }
            Ok(())
        }
    }
}

fn escape_like(term: &str) -> String {
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    patient_id: String,
    given_name: String,
    family_name: String,
    date_of_birth: NaiveDate,
    phone: String,
    email: Option<String>,
    preferred_language: String,
    time_zone: String,
    consent_sms: bool,
    consent_whatsapp: bool,
    consent_email: bool,
    consent_phone_call: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl PatientRow {
    /// Rows were validated on the way in; a row that no longer parses is corrupt data.
    fn into_patient(self) -> anyhow::Result<Patient> {
        let corrupt =
            |field: &str| anyhow::anyhow!("patients.{field} of {} is corrupt", self.patient_id);
        Ok(Patient {
            patient_id: PatientId::parse(&self.patient_id).map_err(|_| corrupt("patient_id"))?,
            details: PatientDetails {
                given_name: PersonName::parse(&self.given_name)
                    .map_err(|_| corrupt("given_name"))?,
                family_name: PersonName::parse(&self.family_name)
                    .map_err(|_| corrupt("family_name"))?,
                date_of_birth: self.date_of_birth,
                phone: Phone::parse(&self.phone).map_err(|_| corrupt("phone"))?,
                email: self
                    .email
                    .as_deref()
                    .map(Email::parse)
                    .transpose()
                    .map_err(|_| corrupt("email"))?,
                language: Language::parse(&self.preferred_language)
                    .map_err(|_| corrupt("preferred_language"))?,
                time_zone: self.time_zone.parse().map_err(|_| corrupt("time_zone"))?,
                consent: ContactConsent {
                    sms: self.consent_sms,
                    whatsapp: self.consent_whatsapp,
                    email: self.consent_email,
                    phone_call: self.consent_phone_call,
                },
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
