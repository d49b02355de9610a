-- Restructured plans and settlement discounts, disputes, escalations, payments taken by phone,
-- the account access audit and the contact log's retention (PostgreSQL). Keep in step with
-- ../sqlite/0006_collections_desk.sql.

-- Payment plans are kept when restructured, so an account may now have several: one active
-- (`replaced_at` NULL) and any number replaced.
ALTER TABLE payment_plans DROP CONSTRAINT payment_plans_patient_key;
ALTER TABLE payment_plans
    -- What the clinic forgives once the plan is paid in full, and the manager who granted it.
    ADD COLUMN settlement_discount_minor BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN discount_approved_by TEXT,
    -- The plan this one restructured, if any.
    ADD COLUMN replaces TEXT,
    -- Set when a restructuring replaced this plan: payments from then on go to the new one.
    ADD COLUMN replaced_at TIMESTAMPTZ,
    ADD COLUMN replaced_by TEXT,
    ADD COLUMN replace_reason TEXT,
    ADD CONSTRAINT payment_plans_discount CHECK (settlement_discount_minor >= 0);

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
    opened_at          TIMESTAMPTZ NOT NULL,
    answered_at        TIMESTAMPTZ,
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
FROM contact_states WHERE dispute_open;

-- Escalations per policy (to a manager, an external agency, a write-off proposal).
CREATE TABLE escalations (
    escalation_seq  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    escalation_id   TEXT NOT NULL,
    patient_id      TEXT NOT NULL,
    target          TEXT NOT NULL,                  -- manager, external_agency, write_off_proposal
    reason          TEXT NOT NULL,
    balance_minor   BIGINT NOT NULL,                -- when escalated
    days_past_due   INTEGER NOT NULL,               -- when escalated
    created_at      TIMESTAMPTZ NOT NULL,
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
    amount_minor  BIGINT NOT NULL,
    taken_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX phone_payments_taken ON phone_payments (taken_at);

-- Every opening of an account by a person (HIPAA's audit of who saw what).
CREATE TABLE account_access_log (
    access_seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    role         TEXT NOT NULL,
    accessed_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX account_access_log_patient ON account_access_log (patient_id, access_seq);

-- The purge finds expired entries, and trends read a span of days, without scanning the log.
CREATE INDEX contacts_retain_until ON contacts (retain_until);
CREATE INDEX contacts_occurred ON contacts (occurred_at);
