-- First-visit intake forms (sqlite). Keep in step with the other backend's 0003_intake_forms.sql.
-- Every submission is kept (a patient may correct their answers); the newest is the form.
-- Numbered 0003, leaving 0002 free for the registry's fiscal data.

CREATE TABLE intake_forms (
    intake_form_id           TEXT PRIMARY KEY,           -- UUID
    patient_id               TEXT NOT NULL REFERENCES patients (patient_id),
    reason_for_visit         TEXT,
    -- NULL when the patient has no allergies; the allergies otherwise.
    allergies                TEXT,
    medications              TEXT,
    -- Comma-separated condition names (diabetes, hypertension, ...), sorted; empty for none.
    conditions               TEXT NOT NULL,
    last_dental_visit        TEXT,                       -- under_six_months, ..., never; NULL unanswered
    emergency_contact_name   TEXT,
    emergency_contact_phone  TEXT,                       -- E.164
    language                 TEXT NOT NULL,              -- es, en, zh, ru
    submitted_at             TEXT NOT NULL,
    -- Who recorded it: "kiosk:lobby-1", "reception:maria".
    submitted_by             TEXT NOT NULL
);

CREATE INDEX intake_forms_patient ON intake_forms (patient_id, submitted_at);
