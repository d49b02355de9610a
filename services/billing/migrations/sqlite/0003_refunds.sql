-- no-transaction
-- Refunds (SQLite). Keep in step with ../postgres/0003_refunds.sql: the same tables, columns and
-- constraint names, with SQLite's types.

-- A refund reverses (part of) a payment with a new ledger entry of kind 'refund' and a positive
-- amount: the ledger stays append-only. SQLite cannot alter a CHECK constraint, so the ledger
-- table is rebuilt with the wider kind and sign checks, following the procedure in SQLite's
-- ALTER TABLE documentation: foreign keys off (which only works outside a transaction, hence
-- `no-transaction` above and the explicit transaction below), copy, drop, rename, and foreign
-- keys back on. The foreign keys from charges and payments name the table, so they find every
-- sequence again in the rebuilt one.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE ledger_entries_rebuilt (
    sequence      INTEGER NOT NULL,                -- 1, 2, 3, ... from ledger_head; no gaps
    patient_id    TEXT NOT NULL,                   -- UUID in the patient registry
    kind          TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL,                -- signed: + charges and refunds, - payments
    currency      TEXT NOT NULL,
    source_id     TEXT NOT NULL,                   -- the charge_id, payment_id or refund_id
    service_date  TEXT NOT NULL,                   -- clinic-local YYYY-MM-DD
    created_at    TEXT NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (sequence),
    CONSTRAINT ledger_entries_source_unique UNIQUE (source_id),
    CONSTRAINT ledger_entries_kind CHECK (kind IN ('charge', 'payment', 'refund')),
    CONSTRAINT ledger_entries_sign CHECK (
        (kind = 'charge' AND amount_minor >= 0) OR (kind = 'payment' AND amount_minor < 0)
        OR (kind = 'refund' AND amount_minor > 0)
    )
);

INSERT INTO ledger_entries_rebuilt
    (sequence, patient_id, kind, amount_minor, currency, source_id, service_date, created_at)
SELECT sequence, patient_id, kind, amount_minor, currency, source_id, service_date, created_at
FROM ledger_entries;

-- Dropping the table drops its index and its append-only triggers; both are made again below.
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_rebuilt RENAME TO ledger_entries;

CREATE INDEX ledger_entries_patient ON ledger_entries (patient_id);

-- The ledger is history: corrections are new entries (refunds, credit notes), never edits.
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;

CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;

-- Money given back on a payment, by the payment's own method. The refunds of a payment never
-- add up to more than the payment (checked by the service under the ledger head's lock).
CREATE TABLE refunds (
    refund_id          TEXT NOT NULL,              -- UUID
    payment_id         TEXT NOT NULL REFERENCES payments (payment_id),
    patient_id         TEXT NOT NULL,
    amount_minor       INTEGER NOT NULL,           -- positive
    currency           TEXT NOT NULL,
    method             TEXT NOT NULL,              -- the payment's: cash, card, bank_transfer
    reason             TEXT NOT NULL,
    drawer_session_id  TEXT REFERENCES cash_drawer_sessions (session_id), -- cash at a terminal
    balance_after_minor INTEGER NOT NULL,          -- the patient's balance right after
    service_date       TEXT NOT NULL,              -- clinic-local day refunded
    refunded_by        TEXT NOT NULL,              -- caller subject
    request_id         TEXT NOT NULL,
    ledger_sequence    INTEGER NOT NULL REFERENCES ledger_entries (sequence),
    created_at         TEXT NOT NULL,
    CONSTRAINT refunds_pkey PRIMARY KEY (refund_id),
    CONSTRAINT refunds_amount_positive CHECK (amount_minor > 0),
    CONSTRAINT refunds_method CHECK (method IN ('cash', 'card', 'bank_transfer'))
);

CREATE INDEX refunds_payment ON refunds (payment_id);
CREATE INDEX refunds_drawer_session ON refunds (drawer_session_id);

COMMIT;
PRAGMA foreign_keys = ON;
