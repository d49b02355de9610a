-- Triage, walk-ins and the kiosk's protection against guessing (SQLite). Keep in step with
-- ../postgres/0005_walk_ins_and_kiosk.sql.

-- The assistant who receives a provider's return patients when they check in (triage).
ALTER TABLE providers ADD COLUMN assistant_provider_id TEXT REFERENCES providers (provider_id);

-- Ticket numbers are counted per clinic-local day and series: "A" for appointments, "W" for
-- walk-ins. Replaces queue_ticket_counters, whose counts carry over as series "A".
CREATE TABLE queue_ticket_series (
    queue_day    TEXT NOT NULL,                     -- YYYY-MM-DD, clinic-local
    series       TEXT NOT NULL,                     -- A, W
    last_number  INTEGER NOT NULL,
    CONSTRAINT queue_ticket_series_pkey PRIMARY KEY (queue_day, series)
);
INSERT INTO queue_ticket_series (queue_day, series, last_number)
    SELECT queue_day, 'A', last_number FROM queue_ticket_counters;
DROP TABLE queue_ticket_counters;

-- SQLite cannot relax NOT NULL or change a table constraint in place, so queue_entries is rebuilt
-- with the new columns (see ../postgres for what each means) and renamed into place. Its child,
-- queue_entry_history, is rebuilt beside it (rows, ids, index and append-only triggers as they
-- were): dropping a parent that still has children would fail the foreign key check at commit.
CREATE TABLE queue_entries_rebuilt (
    queue_entry_id         TEXT PRIMARY KEY,        -- UUID
    queue_day              TEXT NOT NULL,           -- YYYY-MM-DD, clinic-local
    ticket_number          INTEGER NOT NULL,        -- shown as A-001, W-001
    appointment_id         TEXT REFERENCES appointments (appointment_id),
    patient_id             TEXT NOT NULL,
    provider_id            TEXT NOT NULL,
    patient_initials       TEXT NOT NULL,
    status                 TEXT NOT NULL,           -- waiting, called, seated, left
    arrived_at             TEXT NOT NULL,
    appointment_start_at   TEXT,
    updated_at             TEXT NOT NULL,
    called_at              TEXT,
    call_count             INTEGER NOT NULL DEFAULT 0,
    kind                   TEXT NOT NULL DEFAULT 'appointment',
    ticket_series          TEXT NOT NULL DEFAULT 'A',
    first_visit            INTEGER NOT NULL DEFAULT 0,
    routed_to_provider_id  TEXT NOT NULL,
    expected_minutes       INTEGER NOT NULL,
    CONSTRAINT queue_entries_ticket UNIQUE (queue_day, ticket_series, ticket_number),
    -- One ticket per appointment: checking in again returns the ticket already issued.
    CONSTRAINT queue_entries_appointment UNIQUE (appointment_id),
    CONSTRAINT queue_entries_kind CHECK (
        (kind = 'appointment' AND appointment_id IS NOT NULL AND appointment_start_at IS NOT NULL)
        OR (kind = 'walk_in' AND appointment_id IS NULL AND appointment_start_at IS NULL))
);

INSERT INTO queue_entries_rebuilt (queue_entry_id, queue_day, ticket_number, appointment_id,
    patient_id, provider_id, patient_initials, status, arrived_at, appointment_start_at,
    updated_at, called_at, call_count, kind, ticket_series, first_visit, routed_to_provider_id,
    expected_minutes)
SELECT q.queue_entry_id, q.queue_day, q.ticket_number, q.appointment_id, q.patient_id,
    q.provider_id, q.patient_initials, q.status, q.arrived_at, q.appointment_start_at,
    q.updated_at, q.called_at, q.call_count, 'appointment', 'A', 0, q.provider_id,
    MAX(1, (strftime('%s', a.end_at) - strftime('%s', a.start_at)) / 60)
FROM queue_entries q JOIN appointments a ON a.appointment_id = q.appointment_id;

CREATE TABLE queue_entry_history_rebuilt (
    history_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_entry_id  TEXT NOT NULL REFERENCES queue_entries_rebuilt (queue_entry_id),
    status          TEXT NOT NULL,                  -- waiting, called, seated, left
    changed_at      TEXT NOT NULL,
    changed_by      TEXT NOT NULL                   -- the caller's subject, e.g. reception:maria
);

INSERT INTO queue_entry_history_rebuilt (history_id, queue_entry_id, status, changed_at, changed_by)
SELECT history_id, queue_entry_id, status, changed_at, changed_by FROM queue_entry_history;

DROP TABLE queue_entry_history;
DROP TABLE queue_entries;
ALTER TABLE queue_entries_rebuilt RENAME TO queue_entries;
ALTER TABLE queue_entry_history_rebuilt RENAME TO queue_entry_history;

CREATE INDEX queue_entry_history_entry ON queue_entry_history (queue_entry_id, history_id);

CREATE TRIGGER queue_entry_history_no_update
BEFORE UPDATE ON queue_entry_history
BEGIN
    SELECT RAISE(ABORT, 'queue_entry_history is append-only');
END;

CREATE TRIGGER queue_entry_history_no_delete
BEFORE DELETE ON queue_entry_history
BEGIN
    SELECT RAISE(ABORT, 'queue_entry_history is append-only');
END;

CREATE INDEX queue_entries_day_status ON queue_entries (queue_day, status, arrived_at);
-- A patient's entries on a day: a walk-in is refused while the patient is already waiting.
CREATE INDEX queue_entries_patient ON queue_entries (patient_id, queue_day);

-- Kiosk lookups that found nothing, per kiosk (token subject): a kiosk that misses too often in
-- a short time is made to wait, so that nobody can guess their way to another patient's visit.
-- Rows older than the window are deleted as new misses are recorded.
CREATE TABLE kiosk_lookup_misses (
    subject    TEXT NOT NULL,
    missed_at  TEXT NOT NULL
);

CREATE INDEX kiosk_lookup_misses_subject ON kiosk_lookup_misses (subject, missed_at);
