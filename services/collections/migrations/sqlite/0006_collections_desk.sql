-- Restructured plans and settlement discounts, disputes, escalations, payments taken by phone,
-- the account access audit and the contact log's retention (SQLite). Keep in step with
-- ../postgres/0006_collections_desk.sql: the same tables, columns and constraint names.

-- Payment plans are kept when restructured, so an account may now have several: one active
-- (`replaced_at` NULL) and any number replaced. SQLite cannot drop the old one-plan-per-account
-- constraint in place, so both tables are rebuilt with their rows.
CREATE TABLE payment_plans_rebuilt (
    plan_id                     TEXT PRIMARY KEY,   -- UUID
    patient_id                  TEXT NOT NULL,      -- UUID
    total_minor                 INTEGER NOT NULL,   -- down payment + instalments
    down_payment_minor          INTEGER NOT NULL,   -- 0 when there is none
    instalment_count            INTEGER NOT NULL,
    frequency                   TEXT NOT NULL,      -- weekly, biweekly, monthly
    first_date                  TEXT NOT NULL,      -- clinic-local day of instalment 1
    created_at                  TEXT NOT NULL,
    created_by                  TEXT NOT NULL,      -- the staff member's token subject
    -- What the clinic forgives once the plan is paid in full, and the manager who granted it.
    settlement_discount_minor   INTEGER NOT NULL DEFAULT 0,
    discount_approved_by        TEXT,
    -- The plan this one restructured, if any.
    replaces                    TEXT,
    -- Set when a restructuring replaced this plan: payments from then on go to the new one.
    replaced_at                 TEXT,
    replaced_by                 TEXT,
    replace_reason              TEXT,
    CONSTRAINT payment_plans_amounts CHECK (down_payment_minor >= 0
        AND down_payment_minor < total_minor),
    CONSTRAINT payment_plans_instalment_count CHECK (instalment_count BETWEEN 1 AND 24),
    CONSTRAINT payment_plans_discount CHECK (settlement_discount_minor >= 0)
);

INSERT INTO payment_plans_rebuilt (plan_id, patient_id, total_minor, down_payment_minor,
    instalment_count, frequency, first_date, created_at, created_by)
SELECT plan_id, patient_id, total_minor, down_payment_minor, instalment_count, frequency,
    first_date, created_at, created_by FROM payment_plans;

CREATE TABLE plan_instalments_rebuilt (
    plan_id       TEXT NOT NULL REFERENCES payment_plans_rebuilt (plan_id),
    number        INTEGER NOT NULL,
    due_date      TEXT NOT NULL,                    -- clinic-local day, YYYY-MM-DD
    amount_minor  INTEGER NOT NULL,
    CONSTRAINT plan_instalments_pkey PRIMARY KEY (plan_id, number),
    CONSTRAINT plan_instalments_amount_positive CHECK (amount_minor > 0)
);

INSERT INTO plan_instalments_rebuilt SELECT plan_id, number, due_date, amount_minor
FROM plan_instalments;

DROP TABLE plan_instalments;
DROP TABLE payment_plans;
ALTER TABLE payment_plans_rebuilt RENAME TO payment_plans;
ALTER TABLE plan_instalments_rebuilt RENAME TO plan_instalments;

-- One active plan per account.
CREATE UNIQUE INDEX payment_plans_active_patient ON payment_plans (patient_id)
    WHERE replaced_at IS NULL;
CREATE INDEX payment_plans_patient ON payment_plans (patient_id, created_at);

-- Disputes: opened by a contact whose outcome is `disputed`, closed by an answer. While one is
-- open the account's contact state holds outreach (`contact_states.dispute_open`).
CREATE TABLE disputes (
    dispute_id         TEXT PRIMARY KEY,
    patient_id         TEXT NOT NULL,
    contact_id         TEXT,                        -- the contact it was raised in
    billing_issue      TEXT NOT NULL,               -- none, wrong_charge, insurance, …
    opened_at          TEXT NOT NULL,
    answered_at        TEXT,
    answer             TEXT,                        -- corrected_charge, credit_note, upheld
    answer_note        TEXT,
    billing_reference  TEXT,                        -- billing's corrected charge / credit note
    answered_by        TEXT
);

CREATE UNIQUE INDEX disputes_open_patient ON disputes (patient_id) WHERE answered_at IS NULL;
CREATE INDEX disputes_patient ON disputes (patient_id, opened_at);

-- Accounts already on hold get the dispute record they would have had.
INSERT INTO disputes (dispute_id, patient_id, contact_id, billing_issue, opened_at)
SELECT 'dispute-' || patient_id, patient_id, NULL, 'none', updated_at
FROM contact_states WHERE dispute_open = 1;

-- Escalations per policy (to a manager, an external agency, a write-off proposal).
CREATE TABLE escalations (
    escalation_seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    escalation_id   TEXT NOT NULL,
    patient_id      TEXT NOT NULL,
    target          TEXT NOT NULL,                  -- manager, external_agency, write_off_proposal
    reason          TEXT NOT NULL,
    balance_minor   INTEGER NOT NULL,               -- when escalated
    days_past_due   INTEGER NOT NULL,               -- when escalated
    created_at      TEXT NOT NULL,
    escalated_by    TEXT NOT NULL,
    CONSTRAINT escalations_escalation_id_key UNIQUE (escalation_id)
);

CREATE INDEX escalations_patient ON escalations (patient_id, escalation_seq);

-- Payments collectors took by phone through billing: who took which (for "collected by
-- collector"). The amounts themselves reach the receivables through billing's ledger.
CREATE TABLE phone_payments (
    payment_id    TEXT PRIMARY KEY,                 -- billing's payment id
    patient_id    TEXT NOT NULL,
    collector     TEXT NOT NULL,                    -- the token subject who took it
    amount_minor  INTEGER NOT NULL,
    taken_at      TEXT NOT NULL
);

CREATE INDEX phone_payments_taken ON phone_payments (taken_at);

-- Every opening of an account by a person (HIPAA's audit of who saw what).
CREATE TABLE account_access_log (
    access_seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    role         TEXT NOT NULL,
    accessed_at  TEXT NOT NULL
);

CREATE INDEX account_access_log_patient ON account_access_log (patient_id, access_seq);

-- The purge finds expired entries, and trends read a span of days, without scanning the log.
CREATE INDEX contacts_retain_until ON contacts (retain_until);
CREATE INDEX contacts_occurred ON contacts (occurred_at);
