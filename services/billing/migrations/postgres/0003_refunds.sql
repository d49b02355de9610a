-- Refunds (PostgreSQL). Keep in step with ../sqlite/0003_refunds.sql: the same tables, columns
-- and constraint names, with PostgreSQL's types.

-- A refund reverses (part of) a payment with a new ledger entry of kind 'refund' and a positive
-- amount: the ledger stays append-only; only its kind and sign checks widen.
ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_kind,
    DROP CONSTRAINT ledger_entries_sign,
    ADD CONSTRAINT ledger_entries_kind CHECK (kind IN ('charge', 'payment', 'refund')),
    ADD CONSTRAINT ledger_entries_sign CHECK (
        (kind = 'charge' AND amount_minor >= 0) OR (kind = 'payment' AND amount_minor < 0)
        OR (kind = 'refund' AND amount_minor > 0)
    );

-- Money given back on a payment, by the payment's own method. The refunds of a payment never
-- add up to more than the payment (checked by the service under the ledger head's lock).
CREATE TABLE refunds (
    refund_id          TEXT NOT NULL,              -- UUID
    payment_id         TEXT NOT NULL REFERENCES payments (payment_id),
    patient_id         TEXT NOT NULL,
    amount_minor       BIGINT NOT NULL,            -- positive
    currency           TEXT NOT NULL,
    method             TEXT NOT NULL,              -- the payment's: cash, card, bank_transfer
    reason             TEXT NOT NULL,
    drawer_session_id  TEXT REFERENCES cash_drawer_sessions (session_id), -- cash at a terminal
    balance_after_minor BIGINT NOT NULL,           -- the patient's balance right after
    service_date       DATE NOT NULL,              -- clinic-local day refunded
    refunded_by        TEXT NOT NULL,              -- caller subject
    request_id         TEXT NOT NULL,
    ledger_sequence    BIGINT NOT NULL REFERENCES ledger_entries (sequence),
    created_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT refunds_pkey PRIMARY KEY (refund_id),
    CONSTRAINT refunds_amount_positive CHECK (amount_minor > 0),
    CONSTRAINT refunds_method CHECK (method IN ('cash', 'card', 'bank_transfer'))
);

CREATE INDEX refunds_payment ON refunds (payment_id);
CREATE INDEX refunds_drawer_session ON refunds (drawer_session_id);
