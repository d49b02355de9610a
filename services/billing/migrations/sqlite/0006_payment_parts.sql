-- no-transaction
-- Payment parts (SQLite). Keep in step with ../postgres/0006_payment_parts.sql: the same tables,
-- columns and constraint names, with SQLite's types.
--
-- A payment can be split across methods (card and cash, two cards) and can draw on the
-- patient's advance. Each method's share is a part, with what that method records; the payment
-- keeps the total, the receipt and the ledger entry, which is for the new money only (money
-- already paid as advance is not paid again), so a payment made entirely from the advance has
-- no ledger entry. SQLite cannot drop constrained columns or change NOT NULL, so `payments` is
-- rebuilt as in 0003: foreign keys off (outside a transaction, hence `no-transaction`), copy,
-- drop, rename, foreign keys back on.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE payments_rebuilt (
    payment_id          TEXT NOT NULL,             -- UUID
    patient_id          TEXT NOT NULL,
    amount_minor        INTEGER NOT NULL,          -- every part: what the receipt says was paid
    received_minor      INTEGER NOT NULL,          -- new money: every part but the advance
    currency            TEXT NOT NULL,
    receipt_number      INTEGER NOT NULL,          -- shown as R-000123
    balance_after_minor INTEGER NOT NULL,          -- the patient's balance right after
    advance_after_minor INTEGER,                   -- the patient's advance right after
    service_date        TEXT NOT NULL,             -- clinic-local day received
    received_by         TEXT NOT NULL,             -- caller subject
    request_id          TEXT NOT NULL,
    ledger_sequence     INTEGER REFERENCES ledger_entries (sequence), -- none without new money
    created_at          TEXT NOT NULL,
    CONSTRAINT payments_pkey PRIMARY KEY (payment_id),
    CONSTRAINT payments_receipt_number_unique UNIQUE (receipt_number),
    CONSTRAINT payments_amount_positive CHECK (amount_minor > 0),
    CONSTRAINT payments_received CHECK (received_minor >= 0 AND received_minor <= amount_minor),
    CONSTRAINT payments_ledger_entry CHECK ((received_minor > 0) = (ledger_sequence IS NOT NULL))
);

INSERT INTO payments_rebuilt
    (payment_id, patient_id, amount_minor, received_minor, currency, receipt_number,
     balance_after_minor, advance_after_minor, service_date, received_by, request_id,
     ledger_sequence, created_at)
SELECT payment_id, patient_id, amount_minor, amount_minor, currency, receipt_number,
       balance_after_minor, advance_after_minor, service_date, received_by, request_id,
       ledger_sequence, created_at
FROM payments;

-- Each method's share of a payment, in the order the payer gave them.
CREATE TABLE payment_parts (
    payment_id          TEXT NOT NULL REFERENCES payments (payment_id),
    position            INTEGER NOT NULL,          -- 1, 2, ...
    method              TEXT NOT NULL,
    amount_minor        INTEGER NOT NULL,          -- positive
    currency            TEXT NOT NULL,
    tendered_minor      INTEGER,                   -- cash only
    change_minor        INTEGER,                   -- cash only: tendered - amount
    authorization_code  TEXT,                      -- card only
    card_last_four      TEXT,                      -- card only; never the full number
    card_type           TEXT,                      -- card only: credit, debit
    transfer_reference  TEXT,                      -- bank transfer only
    drawer_session_id   TEXT REFERENCES cash_drawer_sessions (session_id), -- cash at a terminal
    CONSTRAINT payment_parts_pkey PRIMARY KEY (payment_id, position),
    CONSTRAINT payment_parts_amount_positive CHECK (amount_minor > 0),
    CONSTRAINT payment_parts_method CHECK (
        (method = 'cash' AND tendered_minor IS NOT NULL AND change_minor IS NOT NULL)
        OR (method = 'card' AND authorization_code IS NOT NULL AND card_last_four IS NOT NULL
            AND card_type IN ('credit', 'debit'))
        OR (method = 'bank_transfer' AND transfer_reference IS NOT NULL)
        OR method = 'advance'
    ),
    CONSTRAINT payment_parts_drawer_cash_only CHECK (
        drawer_session_id IS NULL OR method = 'cash'
    )
);

INSERT INTO payment_parts
    (payment_id, position, method, amount_minor, currency, tendered_minor, change_minor,
     authorization_code, card_last_four, card_type, transfer_reference, drawer_session_id)
SELECT payment_id, 1, method, amount_minor, currency, tendered_minor, change_minor,
       authorization_code, card_last_four, card_type, transfer_reference, drawer_session_id
FROM payments;

DROP TABLE payments;
ALTER TABLE payments_rebuilt RENAME TO payments;

CREATE INDEX payments_patient ON payments (patient_id, service_date);
CREATE INDEX payments_service_date ON payments (service_date);
CREATE INDEX payment_parts_drawer_session ON payment_parts (drawer_session_id);

-- The part of the payment a refund gives money back on (and so its method).
ALTER TABLE refunds ADD COLUMN part_position INTEGER NOT NULL DEFAULT 1;

COMMIT;
PRAGMA foreign_keys = ON;
