-- Billing (PostgreSQL). Keep in step with ../sqlite/0001_billing.sql: the same tables, columns and
-- constraint names, with PostgreSQL's types (TIMESTAMPTZ, DATE, BIGINT money in minor units).

-- What the clinic charges for. Items are never edited or removed once posted against, so a
-- charge can copy the price and description it was posted with.
CREATE TABLE price_list_items (
    code              TEXT NOT NULL,               -- A-Z, 0-9, '-'; 1-32 characters
    description       TEXT NOT NULL,
    unit_price_minor  BIGINT NOT NULL,             -- minor units of `currency`
    currency          TEXT NOT NULL,               -- ISO 4217
    kind              TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT price_list_items_pkey PRIMARY KEY (code),
    CONSTRAINT price_list_items_unit_price_not_negative CHECK (unit_price_minor >= 0),
    CONSTRAINT price_list_items_kind CHECK (kind IN ('service', 'therapy', 'product'))
);

-- Idempotency keys of calls that created something or moved money. A retry finds its key and
-- gets the first result; the fingerprint tells a retry from a key reused for a different request.
CREATE TABLE idempotency_keys (
    operation    TEXT NOT NULL,                    -- create_price_list_item, post_charge, post_payment
    request_id   TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,                    -- SHA-256 of the request's content
    resource_id  TEXT NOT NULL,                    -- the price code, charge_id or payment_id
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (operation, request_id)
);

-- The one row that numbers the ledger. Every writer increments it inside its transaction; the
-- row's write lock is held until commit, so sequences are handed out one committed entry at a
-- time, with no gaps (see store::ledger).
CREATE TABLE ledger_head (
    head_id        INTEGER NOT NULL,
    last_sequence  BIGINT NOT NULL,                -- the newest entry's sequence; 0 when empty
    CONSTRAINT ledger_head_pkey PRIMARY KEY (head_id),
    CONSTRAINT ledger_head_single_row CHECK (head_id = 1)
);
INSERT INTO ledger_head (head_id, last_sequence) VALUES (1, 0);

-- The one row that numbers receipts (R-000001, R-000002, ...), sequential for the clinic.
CREATE TABLE receipt_counter (
    counter_id   INTEGER NOT NULL,
    last_number  BIGINT NOT NULL,
    CONSTRAINT receipt_counter_pkey PRIMARY KEY (counter_id),
    CONSTRAINT receipt_counter_single_row CHECK (counter_id = 1)
);
INSERT INTO receipt_counter (counter_id, last_number) VALUES (1, 0);

-- Append-only: every charge and payment adds exactly one entry, in the same transaction.
-- Balances are sums over a patient's entries.
CREATE TABLE ledger_entries (
    sequence      BIGINT NOT NULL,                 -- 1, 2, 3, ... from ledger_head; no gaps
    patient_id    TEXT NOT NULL,                   -- UUID in the patient registry
    kind          TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL,                 -- signed: + charges, - payments
    currency      TEXT NOT NULL,
    source_id     TEXT NOT NULL,                   -- the charge_id or payment_id
    service_date  DATE NOT NULL,                   -- clinic-local day
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (sequence),
    CONSTRAINT ledger_entries_source_unique UNIQUE (source_id),
    CONSTRAINT ledger_entries_kind CHECK (kind IN ('charge', 'payment')),
    CONSTRAINT ledger_entries_sign CHECK (
        (kind = 'charge' AND amount_minor >= 0) OR (kind = 'payment' AND amount_minor < 0)
    )
);

CREATE INDEX ledger_entries_patient ON ledger_entries (patient_id);

-- The ledger is history: corrections are new entries (refunds, credit notes), never edits.
CREATE FUNCTION ledger_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END;
$$;

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();

CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();

CREATE TABLE charges (
    charge_id         TEXT NOT NULL,               -- UUID
    patient_id        TEXT NOT NULL,
    appointment_id    TEXT,                        -- the visit, in scheduling, if any
    price_code        TEXT NOT NULL REFERENCES price_list_items (code),
    description       TEXT NOT NULL,               -- the item's description when posted
    quantity          INTEGER NOT NULL,
    unit_price_minor  BIGINT NOT NULL,             -- the item's price when posted
    amount_minor      BIGINT NOT NULL,             -- unit_price_minor * quantity
    currency          TEXT NOT NULL,
    service_date      DATE NOT NULL,               -- clinic-local day
    posted_by         TEXT NOT NULL,               -- caller subject
    request_id        TEXT NOT NULL,
    ledger_sequence   BIGINT NOT NULL REFERENCES ledger_entries (sequence),
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT charges_pkey PRIMARY KEY (charge_id),
    CONSTRAINT charges_quantity CHECK (quantity BETWEEN 1 AND 999),
    CONSTRAINT charges_amount CHECK (amount_minor = unit_price_minor * quantity)
);

CREATE INDEX charges_patient ON charges (patient_id, service_date);

CREATE TABLE payments (
    payment_id          TEXT NOT NULL,             -- UUID
    patient_id          TEXT NOT NULL,
    amount_minor        BIGINT NOT NULL,           -- positive
    currency            TEXT NOT NULL,
    method              TEXT NOT NULL,
    tendered_minor      BIGINT,                    -- cash only
    change_minor        BIGINT,                    -- cash only: tendered - amount
    authorization_code  TEXT,                      -- card only
    card_last_four      TEXT,                      -- card only; never the full number
    card_type           TEXT,                      -- card only: credit, debit
    transfer_reference  TEXT,                      -- bank transfer only
    receipt_number      BIGINT NOT NULL,           -- shown as R-000123
    balance_after_minor BIGINT NOT NULL,           -- the patient's balance right after
    service_date        DATE NOT NULL,             -- clinic-local day received
    received_by         TEXT NOT NULL,             -- caller subject
    request_id          TEXT NOT NULL,
    ledger_sequence     BIGINT NOT NULL REFERENCES ledger_entries (sequence),
    created_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT payments_pkey PRIMARY KEY (payment_id),
    CONSTRAINT payments_receipt_number_unique UNIQUE (receipt_number),
    CONSTRAINT payments_amount_positive CHECK (amount_minor > 0),
    CONSTRAINT payments_method CHECK (
        (method = 'cash' AND tendered_minor IS NOT NULL AND change_minor IS NOT NULL)
        OR (method = 'card' AND authorization_code IS NOT NULL AND card_last_four IS NOT NULL
            AND card_type IN ('credit', 'debit'))
        OR (method = 'bank_transfer' AND transfer_reference IS NOT NULL)
    )
);

CREATE INDEX payments_patient ON payments (patient_id, service_date);
