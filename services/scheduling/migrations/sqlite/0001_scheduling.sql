-- Scheduling (SQLite). Keep in step with ../postgres/0001_scheduling.sql: the same tables,
-- columns and constraint names, with SQLite's types. Instants are RFC 3339 text in UTC, which
-- sorts and compares in time order; calendar days are YYYY-MM-DD text.

-- The dentists, hygienists, assistants and consultants appointments are booked with.
CREATE TABLE providers (
    provider_id   TEXT PRIMARY KEY,                 -- UUID
    display_name  TEXT NOT NULL,
    kind          TEXT NOT NULL,                    -- dentist, hygienist, assistant, consultant
    created_at    TEXT NOT NULL,
    CONSTRAINT providers_kind CHECK (kind IN ('dentist', 'hygienist', 'assistant', 'consultant'))
);

CREATE INDEX providers_display_name ON providers (display_name);

CREATE TABLE appointments (
    appointment_id     TEXT PRIMARY KEY,            -- UUID
    -- The patient registry's id. Not a foreign key: the registry owns patients, and this service
    -- keeps only what it needs of them.
    patient_id         TEXT NOT NULL,
    -- "M. G.", for the waiting-room display; copied from the registry at booking.
    patient_initials   TEXT NOT NULL,
    provider_id        TEXT NOT NULL REFERENCES providers (provider_id),
    start_at           TEXT NOT NULL,
    end_at             TEXT NOT NULL,
    -- scheduled, confirmed, arrived, seated (these four hold the provider's time), completed,
    -- checked_out, cancelled, no_show, rescheduled.
    status             TEXT NOT NULL,
    price_code         TEXT,                        -- billing's price-list code
    reason             TEXT,                        -- clinical: staff only
    -- Six characters from 2-9 and A-Z without I, L and O; printed on reminders, typed at the kiosk.
    confirmation_code  TEXT NOT NULL,
    cancel_reason      TEXT,
    -- Cancelled less than 24 hours before the start.
    late_cancellation  INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CONSTRAINT appointments_slot_order CHECK (end_at > start_at)
);

-- Codes must find exactly one appointment; a collision at booking is retried with a new code.
CREATE UNIQUE INDEX appointments_confirmation_code ON appointments (confirmation_code);
-- The overlap check at booking, and a provider's day.
CREATE INDEX appointments_provider_start ON appointments (provider_id, start_at);
-- A day's schedule, and a patient's appointments.
CREATE INDEX appointments_start ON appointments (start_at);
CREATE INDEX appointments_patient_start ON appointments (patient_id, start_at);

-- Every status an appointment has had, with when and who. Append-only: the triggers below refuse
-- any change or deletion, so the history can be trusted in a dispute.
CREATE TABLE appointment_status_history (
    history_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    appointment_id  TEXT NOT NULL REFERENCES appointments (appointment_id),
    status          TEXT NOT NULL,
    changed_at      TEXT NOT NULL,
    changed_by      TEXT NOT NULL                   -- the caller's subject, e.g. reception:maria
);

CREATE INDEX appointment_status_history_appointment
    ON appointment_status_history (appointment_id, history_id);

CREATE TRIGGER appointment_status_history_no_update
BEFORE UPDATE ON appointment_status_history
BEGIN
    SELECT RAISE(ABORT, 'appointment_status_history is append-only');
END;

CREATE TRIGGER appointment_status_history_no_delete
BEFORE DELETE ON appointment_status_history
BEGIN
    SELECT RAISE(ABORT, 'appointment_status_history is append-only');
END;

-- The last ticket number issued on each clinic-local day. Incremented with an upsert in the
-- check-in transaction, so two check-ins never get the same number.
CREATE TABLE queue_ticket_counters (
    queue_day    TEXT PRIMARY KEY,                  -- YYYY-MM-DD, clinic-local
    last_number  INTEGER NOT NULL
);

-- Patients who have checked in: the live queue.
CREATE TABLE queue_entries (
    queue_entry_id        TEXT PRIMARY KEY,         -- UUID
    queue_day             TEXT NOT NULL,            -- YYYY-MM-DD, clinic-local
    ticket_number         INTEGER NOT NULL,         -- shown as A-001
    appointment_id        TEXT NOT NULL REFERENCES appointments (appointment_id),
    patient_id            TEXT NOT NULL,
    provider_id           TEXT NOT NULL,
    patient_initials      TEXT NOT NULL,
    status                TEXT NOT NULL,            -- waiting, called, seated, left
    arrived_at            TEXT NOT NULL,
    appointment_start_at  TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    CONSTRAINT queue_entries_ticket UNIQUE (queue_day, ticket_number),
    -- One ticket per appointment: checking in again returns the ticket already issued.
    CONSTRAINT queue_entries_appointment UNIQUE (appointment_id)
);

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
