-- The rest of the appointment life cycle and the queue operations (SQLite). Keep in step with
-- ../postgres/0002_life_cycle_and_queue.sql.

-- A rescheduled appointment links to the appointment that replaced it, and the replacement back
-- to it, so that the history of a visit moved twice can be followed both ways. Both are set in
-- the one transaction that reschedules.
ALTER TABLE appointments
    ADD COLUMN rescheduled_to_appointment_id TEXT REFERENCES appointments (appointment_id);
ALTER TABLE appointments
    ADD COLUMN rescheduled_from_appointment_id TEXT REFERENCES appointments (appointment_id);

-- When the patient was last called to the chair, and how many times (a recall calls again).
ALTER TABLE queue_entries ADD COLUMN called_at TEXT;
ALTER TABLE queue_entries ADD COLUMN call_count INTEGER NOT NULL DEFAULT 0;

-- "Call next" looks for the first waiting entry of a day, for one provider or for anyone.
CREATE INDEX queue_entries_day_status ON queue_entries (queue_day, status, arrived_at);

-- Every status a queue entry has entered after check-in (called, called again, seated, left),
-- with when and who. Append-only, like appointment_status_history.
CREATE TABLE queue_entry_history (
    history_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_entry_id  TEXT NOT NULL REFERENCES queue_entries (queue_entry_id),
    status          TEXT NOT NULL,                  -- waiting, called, seated, left
    changed_at      TEXT NOT NULL,
    changed_by      TEXT NOT NULL                   -- the caller's subject, e.g. reception:maria
);

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
