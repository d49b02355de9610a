-- Payment plans (PostgreSQL). Keep in step with ../sqlite/0005_payment_plans.sql: the same tables,
-- columns and constraint names, with PostgreSQL's types (TIMESTAMPTZ, DATE, BIGINT).
--
-- The schedule is stored as made (restructuring, later, will keep it as history); what has been
-- paid towards each line is not: it is derived from the payments in `ledger_entries` from
-- `created_at` on, applied to the schedule oldest line first.
CREATE TABLE payment_plans (
    plan_id             TEXT PRIMARY KEY,           -- UUID
    patient_id          TEXT NOT NULL,              -- UUID
    total_minor         BIGINT NOT NULL,            -- down payment + instalments
    down_payment_minor  BIGINT NOT NULL,            -- 0 when there is none
    instalment_count    INTEGER NOT NULL,
    frequency           TEXT NOT NULL,              -- weekly, biweekly, monthly
    first_date          DATE NOT NULL,              -- clinic-local day of instalment 1
    created_at          TIMESTAMPTZ NOT NULL,
    created_by          TEXT NOT NULL,              -- the staff member's token subject
    -- One plan per account; payments from the plan's creation all go to it.
    CONSTRAINT payment_plans_patient_key UNIQUE (patient_id),
    CONSTRAINT payment_plans_amounts CHECK (down_payment_minor >= 0
        AND down_payment_minor < total_minor),
    CONSTRAINT payment_plans_instalment_count CHECK (instalment_count BETWEEN 1 AND 24)
);

-- Each line of a plan's schedule: number 0 is the down payment (due the day the plan was made),
-- instalments count from 1. The amounts sum exactly to the plan's total.
CREATE TABLE plan_instalments (
    plan_id       TEXT NOT NULL REFERENCES payment_plans (plan_id),
    number        INTEGER NOT NULL,
    due_date      DATE NOT NULL,                    -- clinic-local day
    amount_minor  BIGINT NOT NULL,
    CONSTRAINT plan_instalments_pkey PRIMARY KEY (plan_id, number),
    CONSTRAINT plan_instalments_amount_positive CHECK (amount_minor > 0)
);
