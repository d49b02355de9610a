-- Reminders and patient messages (PostgreSQL). Keep in step with ../sqlite/0023_reminders.sql.

-- The outbox: every message to a patient (appointment reminders, wait updates), written before
-- it is sent. The dispatcher claims a pending row (pending -> sending) before sending it, so a
-- message is sent at most once even with several replicas; a failure goes back to pending with
-- a later next_attempt_at, until attempts run out (failed).
CREATE TABLE outbox_messages (
    message_id       TEXT PRIMARY KEY,              -- UUID
    kind             TEXT NOT NULL,                 -- reminder, wait_update
    -- Which round of its kind: the reminder's offset ("72h") or the wait update's number.
    round            TEXT NOT NULL,
    -- '' when the message is not about one (not NULL, which the unique key would not compare).
    appointment_id   TEXT NOT NULL,
    queue_entry_id   TEXT NOT NULL,
    patient_id       TEXT NOT NULL,
    -- sms, whatsapp, email; none for a round skipped because the patient consented to nothing.
    channel          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    language         TEXT NOT NULL,                 -- es, en, zh, ru
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,                 -- pending, sending, sent, failed, skipped
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    -- One message per subject, round and channel.
    CONSTRAINT outbox_messages_once UNIQUE (kind, appointment_id, queue_entry_id, round, channel)
);

CREATE INDEX outbox_messages_due ON outbox_messages (status, next_attempt_at);
CREATE INDEX outbox_messages_appointment ON outbox_messages (appointment_id);

-- Replies patients sent to reminders, and what each did to the appointment.
CREATE TABLE inbound_replies (
    reply_id        TEXT PRIMARY KEY,               -- UUID
    request_id      TEXT NOT NULL UNIQUE,           -- the gateway's message id: a retry is one reply
    appointment_id  TEXT NOT NULL REFERENCES appointments (appointment_id),
    channel         TEXT NOT NULL,
    text            TEXT NOT NULL,
    action          TEXT NOT NULL,                  -- confirmed, cancelled, unrecognised, too_late
    received_at     TIMESTAMPTZ NOT NULL,
    recorded_by     TEXT NOT NULL
);
