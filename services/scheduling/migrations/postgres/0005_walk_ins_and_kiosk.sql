-- Triage, walk-ins and the kiosk's protection against guessing (PostgreSQL). Keep in step with
-- ../sqlite/0005_walk_ins_and_kiosk.sql.

-- The assistant who receives a provider's return patients when they check in (triage).
ALTER TABLE providers ADD COLUMN assistant_provider_id TEXT REFERENCES providers (provider_id);

-- Ticket numbers are counted per clinic-local day and series: "A" for appointments, "W" for
-- walk-ins. Incremented with an upsert in the check-in transaction; the row lock it takes
-- serialises concurrent check-ins of one series on one day. Replaces queue_ticket_counters,
-- whose counts carry over as series "A".
CREATE TABLE queue_ticket_series (
    queue_day    DATE NOT NULL,                     -- clinic-local
    series       TEXT NOT NULL,                     -- A, W
    last_number  INTEGER NOT NULL,
    CONSTRAINT queue_ticket_series_pkey PRIMARY KEY (queue_day, series)
);
INSERT INTO queue_ticket_series (queue_day, series, last_number)
    SELECT queue_day, 'A', last_number FROM queue_ticket_counters;
DROP TABLE queue_ticket_counters;

-- A queue entry is either an appointment checked in (kind 'appointment', appointment_id set) or
-- a walk-in (kind 'walk_in', no appointment, no booked start).
ALTER TABLE queue_entries ADD COLUMN kind TEXT NOT NULL DEFAULT 'appointment';
ALTER TABLE queue_entries ADD COLUMN ticket_series TEXT NOT NULL DEFAULT 'A';
-- Nobody had seen the patient in the chair before this visit.
ALTER TABLE queue_entries ADD COLUMN first_visit BOOLEAN NOT NULL DEFAULT FALSE;
-- Triage: who receives the patient first (consultant, assistant, or the provider).
ALTER TABLE queue_entries ADD COLUMN routed_to_provider_id TEXT;
UPDATE queue_entries SET routed_to_provider_id = provider_id;
ALTER TABLE queue_entries ALTER COLUMN routed_to_provider_id SET NOT NULL;
-- How long the visit is expected to take: the booked length, or a walk-in's type's duration.
-- Wait estimates add these up.
ALTER TABLE queue_entries ADD COLUMN expected_minutes INTEGER;
UPDATE queue_entries q
    SET expected_minutes = GREATEST(1, (EXTRACT(EPOCH FROM (a.end_at - a.start_at)) / 60)::INTEGER)
    FROM appointments a WHERE a.appointment_id = q.appointment_id;
ALTER TABLE queue_entries ALTER COLUMN expected_minutes SET NOT NULL;
ALTER TABLE queue_entries ALTER COLUMN appointment_id DROP NOT NULL;
ALTER TABLE queue_entries ALTER COLUMN appointment_start_at DROP NOT NULL;
ALTER TABLE queue_entries DROP CONSTRAINT queue_entries_ticket;
ALTER TABLE queue_entries
    ADD CONSTRAINT queue_entries_ticket UNIQUE (queue_day, ticket_series, ticket_number);
ALTER TABLE queue_entries ADD CONSTRAINT queue_entries_kind CHECK (
    (kind = 'appointment' AND appointment_id IS NOT NULL AND appointment_start_at IS NOT NULL)
    OR (kind = 'walk_in' AND appointment_id IS NULL AND appointment_start_at IS NULL));

-- A patient's entries on a day: a walk-in is refused while the patient is already waiting.
CREATE INDEX queue_entries_patient ON queue_entries (patient_id, queue_day);

-- Kiosk lookups that found nothing, per kiosk (token subject): a kiosk that misses too often in
-- a short time is made to wait, so that nobody can guess their way to another patient's visit.
-- Rows older than the window are deleted as new misses are recorded.
CREATE TABLE kiosk_lookup_misses (
    subject    TEXT NOT NULL,
    missed_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX kiosk_lookup_misses_subject ON kiosk_lookup_misses (subject, missed_at);
