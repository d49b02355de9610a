-- The patient registry (SQLite). Keep in step with ../postgres/0001_patients.sql: the same
-- tables, columns and constraint names, with SQLite's types.

CREATE TABLE patients (
    patient_id          TEXT PRIMARY KEY,           -- UUID
    given_name          TEXT NOT NULL,
    family_name         TEXT NOT NULL,
    date_of_birth       TEXT NOT NULL,              -- YYYY-MM-DD
    phone               TEXT NOT NULL,              -- E.164
    email               TEXT,
    preferred_language  TEXT NOT NULL,              -- es, en, zh, ru
    time_zone           TEXT NOT NULL,              -- IANA name
    consent_sms         INTEGER NOT NULL,
    consent_whatsapp    INTEGER NOT NULL,
    consent_email       INTEGER NOT NULL,
    consent_phone_call  INTEGER NOT NULL,
    -- Folded names, phone digits and email (see domain::search), matched with LIKE.
    search_text         TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE INDEX patients_family_name ON patients (family_name, given_name);

-- Idempotency keys of calls that created something. A retry finds its key and gets the first
-- result; the fingerprint tells a retry from a key reused for a different request.
CREATE TABLE idempotency_keys (
    operation    TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (operation, request_id)
);

-- Every read or change of a patient's record by a person (HIPAA "minimum necessary" audit;
-- kept 6 years). Calls between services are not people and are not recorded.
CREATE TABLE patient_access_log (
    access_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id   TEXT NOT NULL REFERENCES patients (patient_id),
    subject      TEXT NOT NULL,
    role         TEXT NOT NULL,
    action       TEXT NOT NULL,
    accessed_at  TEXT NOT NULL
);

CREATE INDEX patient_access_log_patient ON patient_access_log (patient_id, accessed_at);
