-- Receivables kept from billing's ledger feed (PostgreSQL). Keep in step with
-- ../sqlite/0001_receivables.sql. Collections never reads billing's tables: every row here comes
-- from `BillingService.ListLedgerEntries` or the patient registry. Money is in minor units of the
-- clinic's currency.

-- Where the follower is in billing's feed: exactly one row. `applied_sequence` moves in the same
-- transaction as the entries it covers, so a crash between pages re-reads and never re-applies.
CREATE TABLE ledger_cursor (
    cursor_id              INTEGER PRIMARY KEY CHECK (cursor_id = 1),
    applied_sequence       BIGINT NOT NULL CHECK (applied_sequence >= 0),
    -- The newest sequence billing reported at the last successful poll, and when that was.
    billing_head_sequence  BIGINT NOT NULL CHECK (billing_head_sequence >= 0),
    last_sync_at           TIMESTAMPTZ
);

INSERT INTO ledger_cursor (cursor_id, applied_sequence, billing_head_sequence, last_sync_at)
VALUES (1, 0, 0, NULL);

-- Every ledger entry applied, as billing sent it: the history that recovery and payment-plan
-- follow-up are computed from. The primary key is a second guard against applying an entry twice.
CREATE TABLE ledger_entries (
    sequence      BIGINT PRIMARY KEY,
    patient_id    TEXT NOT NULL,                -- UUID
    kind          TEXT NOT NULL,                -- charge, payment, adjustment (a kind not known yet)
    amount_minor  BIGINT NOT NULL,              -- signed: positive raises what the patient owes
    source_id     TEXT NOT NULL,                -- billing's charge or payment id
    service_date  DATE NOT NULL,                -- clinic-local day
    created_at    TIMESTAMPTZ NOT NULL,         -- when billing recorded it
    applied_at    TIMESTAMPTZ NOT NULL          -- when collections applied it
);

CREATE INDEX ledger_entries_patient ON ledger_entries (patient_id, sequence);

-- One row per patient the ledger has mentioned.
CREATE TABLE receivable_accounts (
    patient_id               TEXT PRIMARY KEY,  -- UUID
    -- "Given Family" from the patient registry; NULL until the registry has answered, empty when
    -- it did not know the patient.
    patient_name             TEXT,
    -- Charges minus payments, as in billing: positive when the patient owes.
    balance_minor            BIGINT NOT NULL,
    -- Payments not yet allocated to a charge; later charges consume it first.
    credit_minor             BIGINT NOT NULL CHECK (credit_minor >= 0),
    -- Service day of the oldest charge with something left to pay (the basis of aging).
    oldest_open_charge_date  DATE,
    last_payment_at          TIMESTAMPTZ,
    last_activity_at         TIMESTAMPTZ,
    -- The ledger sequence that last changed the account.
    updated_sequence         BIGINT NOT NULL
);

-- The receivables list: open balances, largest first.
CREATE INDEX receivable_accounts_open ON receivable_accounts (balance_minor DESC, patient_id)
    WHERE balance_minor > 0;
-- Accounts whose holder's name is still to be asked for.
CREATE INDEX receivable_accounts_unnamed ON receivable_accounts (patient_id)
    WHERE patient_name IS NULL;

-- Each debt on an account and what payments have left of it. Payments are allocated to the
-- oldest (service_date, charge_sequence) first.
CREATE TABLE account_charges (
    charge_sequence  BIGINT PRIMARY KEY,        -- the ledger sequence of the entry
    patient_id       TEXT NOT NULL REFERENCES receivable_accounts (patient_id),
    source_id        TEXT NOT NULL,             -- billing's charge id
    service_date     DATE NOT NULL,
    amount_minor     BIGINT NOT NULL CHECK (amount_minor > 0),
    remaining_minor  BIGINT NOT NULL,
    CONSTRAINT account_charges_remaining_in_range
        CHECK (remaining_minor >= 0 AND remaining_minor <= amount_minor)
);

CREATE INDEX account_charges_open ON account_charges (patient_id, service_date, charge_sequence)
    WHERE remaining_minor > 0;
