-- Settlement discounts granted (SQLite). Keep in step with ../postgres/0008_settlements.sql.
-- Set when a plan with a settlement discount was paid in full and billing wrote the discount off.
ALTER TABLE payment_plans ADD COLUMN settled_at TEXT;

-- How a settlement discount is written off: the amounts per charge, fixed once (from billing's
-- outstanding amounts when the plan was paid off) so that a retry asks billing for exactly the
-- same write-offs under the same idempotency keys.
CREATE TABLE settlement_write_offs (
    plan_id       TEXT NOT NULL,
    charge_id     TEXT NOT NULL,                    -- billing's charge
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    done_at       TEXT,                             -- when billing confirmed it
    CONSTRAINT settlement_write_offs_pkey PRIMARY KEY (plan_id, charge_id)
);
