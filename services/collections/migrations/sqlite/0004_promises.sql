-- Promises to pay (SQLite). Keep in step with ../postgres/0004_promises.sql: the same table,
-- columns and constraint names, with SQLite's types (TEXT instants and dates, INTEGER money).
--
-- A promise's status (open, kept, partly kept, broken) is not stored: it is derived from the
-- payments in `ledger_entries` between `made_at` and the end of `promised_date`, clinic-local,
-- so a payment the follower applies late changes it without anyone rewriting this table. Only
-- superseding is recorded, because it is a decision, not a fact the ledger can tell.
CREATE TABLE promises (
    -- Recording order: "newest first" even when several promises share an instant.
    promise_seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    promise_id     TEXT NOT NULL,                  -- UUID, the id clients see
    patient_id     TEXT NOT NULL,                  -- UUID
    amount_minor   INTEGER NOT NULL,               -- what the patient promised to pay
    promised_date  TEXT NOT NULL,                  -- clinic-local day, YYYY-MM-DD
    note           TEXT NOT NULL,                  -- up to 2000 characters; never logged
    -- The contact-log entry of the conversation the promise was made in; the conversation
    -- itself (channel, who spoke) stays in `contacts` only.
    contact_id     TEXT,
    made_at        TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,                  -- the staff member's token subject
    -- Set when a later promise on the account replaced this one before its day ended.
    superseded_at  TEXT,
    superseded_by  TEXT,
    CONSTRAINT promises_promise_id_key UNIQUE (promise_id),
    CONSTRAINT promises_amount_positive CHECK (amount_minor > 0)
);

-- An account's promises, newest first; the current one is the newest not superseded.
CREATE INDEX promises_patient ON promises (patient_id, promise_seq);
