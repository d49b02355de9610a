-- Call tasks (PostgreSQL). Keep in step with ../sqlite/0022_call_tasks.sql.

-- Calls reception should make: a patient not checked in some minutes after their start. Made
-- by the service (a background task, and again whenever the list is read), at most one per
-- appointment and kind.
CREATE TABLE call_tasks (
    call_task_id      TEXT PRIMARY KEY,             -- UUID
    kind              TEXT NOT NULL,                -- late_arrival
    appointment_id    TEXT NOT NULL REFERENCES appointments (appointment_id),
    status            TEXT NOT NULL,                -- open, done
    -- coming, reschedule, not_coming, no_answer, left_message
    outcome           TEXT,
    note              TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    completed_at      TIMESTAMPTZ,
    completed_by      TEXT,
    CONSTRAINT call_tasks_once UNIQUE (kind, appointment_id),
    CONSTRAINT call_tasks_status CHECK (status IN ('open', 'done'))
);

CREATE INDEX call_tasks_status_created ON call_tasks (status, created_at);
