-- Corrections, allocations and closed days (PostgreSQL). Keep in step with
-- ../sqlite/0005_corrections_allocations.sql: the same tables, columns and constraint names,
-- with PostgreSQL's types.
--
-- The ledger gains three kinds of entry, each correcting one charge: an adjustment (either
-- sign), a credit note (negative) and a write-off (negative); `related_id` names the charge they
-- correct, and for refunds the payment they give money back on. Filling `related_id` in for the
-- refunds already written is the one update the ledger ever takes, with its guard lifted for it.
ALTER TABLE ledger_entries ADD COLUMN related_id TEXT;

ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update;
UPDATE ledger_entries l SET related_id = r.payment_id
FROM refunds r WHERE l.kind = 'refund' AND r.refund_id = l.source_id;
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_update;

ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_kind,
    DROP CONSTRAINT ledger_entries_sign,
    ADD CONSTRAINT ledger_entries_kind CHECK (
        kind IN ('charge', 'payment', 'refund', 'adjustment', 'credit_note', 'write_off')
    ),
    ADD CONSTRAINT ledger_entries_sign CHECK (
        (kind = 'charge' AND amount_minor >= 0) OR (kind = 'payment' AND amount_minor < 0)
        OR (kind = 'refund' AND amount_minor > 0) OR (kind = 'adjustment' AND amount_minor <> 0)
        OR (kind IN ('credit_note', 'write_off') AND amount_minor < 0)
    ),
    ADD CONSTRAINT ledger_entries_related CHECK (
        (kind IN ('charge', 'payment')) = (related_id IS NULL)
    );

CREATE INDEX ledger_entries_related ON ledger_entries (related_id);

-- What the patient owes for a charge when it is posted: its ledger entry's amount. Until
-- discounts and packages, always unit price x quantity.
ALTER TABLE charges ADD COLUMN net_minor BIGINT NOT NULL DEFAULT 0;
UPDATE charges SET net_minor = amount_minor;

-- The patient's advance right after a payment (money paid that no charge holds); NULL for
-- payments recorded before allocations existed.
ALTER TABLE payments ADD COLUMN advance_after_minor BIGINT;

-- Adjustments, credit notes and write-offs: each corrects one charge with a ledger entry of its
-- own kind and a reason. Credit notes are numbered NC-000001, NC-000002, ...
CREATE TABLE corrections (
    correction_id       TEXT NOT NULL,             -- UUID; the ledger entry's source_id
    kind                TEXT NOT NULL,             -- adjustment, credit_note, write_off
    patient_id          TEXT NOT NULL,
    charge_id           TEXT NOT NULL REFERENCES charges (charge_id),
    amount_minor        BIGINT NOT NULL,           -- signed effect on the balance, as the ledger
    currency            TEXT NOT NULL,
    reason              TEXT NOT NULL,
    credit_note_number  BIGINT,                    -- credit notes only
    released_minor      BIGINT NOT NULL,           -- payments' money freed from the charge
    balance_after_minor BIGINT NOT NULL,           -- the patient's balance right after
    service_date        DATE NOT NULL,             -- clinic-local day posted
    created_by          TEXT NOT NULL,             -- caller subject
    request_id          TEXT NOT NULL,
    ledger_sequence     BIGINT NOT NULL REFERENCES ledger_entries (sequence),
    created_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT corrections_pkey PRIMARY KEY (correction_id),
    CONSTRAINT corrections_kind CHECK (kind IN ('adjustment', 'credit_note', 'write_off')),
    CONSTRAINT corrections_sign CHECK (
        (kind = 'adjustment' AND amount_minor <> 0)
        OR (kind IN ('credit_note', 'write_off') AND amount_minor < 0)
    ),
    CONSTRAINT corrections_credit_note_number CHECK (
        (kind = 'credit_note') = (credit_note_number IS NOT NULL)
    ),
    CONSTRAINT corrections_credit_note_number_unique UNIQUE (credit_note_number),
    CONSTRAINT corrections_released_not_negative CHECK (released_minor >= 0)
);

CREATE INDEX corrections_charge ON corrections (charge_id);
CREATE INDEX corrections_service_date ON corrections (service_date);

-- Which payment's money pays which charge. Append-only and signed: a positive row allocates, a
-- negative one releases (a refund taking the money back, a correction lowering the charge
-- below what was paid on it). A charge's outstanding amount is what it is due less its
-- allocations; a payment's money not allocated is the patient's advance.
CREATE TABLE allocations (
    allocation_seq  BIGINT GENERATED ALWAYS AS IDENTITY, -- order of writing
    patient_id      TEXT NOT NULL,
    charge_id       TEXT NOT NULL REFERENCES charges (charge_id),
    payment_id      TEXT NOT NULL REFERENCES payments (payment_id),
    amount_minor    BIGINT NOT NULL,               -- + allocated, - released
    currency        TEXT NOT NULL,
    cause           TEXT NOT NULL,                 -- what wrote it
    cause_id        TEXT NOT NULL,                 -- the payment, refund or correction
    created_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT allocations_pkey PRIMARY KEY (allocation_seq),
    CONSTRAINT allocations_amount_not_zero CHECK (amount_minor <> 0),
    CONSTRAINT allocations_cause CHECK (
        cause IN ('payment', 'refund', 'adjustment', 'credit_note', 'upgrade')
    )
);

CREATE INDEX allocations_patient ON allocations (patient_id);
CREATE INDEX allocations_charge ON allocations (charge_id);
CREATE INDEX allocations_payment ON allocations (payment_id);

-- Payments made before allocations existed pay their patient's charges oldest first: each
-- charge and each payment (less its refunds) covers a stretch of the patient's running total,
-- and a payment pays a charge where their stretches overlap.
INSERT INTO allocations
    (patient_id, charge_id, payment_id, amount_minor, currency, cause, cause_id, created_at)
SELECT c.patient_id, c.charge_id, p.payment_id,
       LEAST(c.upto, p.upto) - GREATEST(c.upto - c.amount, p.upto - p.amount),
       c.currency, 'upgrade', p.payment_id, p.created_at
FROM (
    SELECT patient_id, charge_id, currency, amount_minor AS amount,
           SUM(amount_minor) OVER (PARTITION BY patient_id ORDER BY service_date,
                                   ledger_sequence ROWS UNBOUNDED PRECEDING) AS upto
    FROM charges
) c
JOIN (
    SELECT p.patient_id, p.payment_id, p.created_at,
           p.amount_minor - COALESCE(r.refunded, 0) AS amount,
           SUM(p.amount_minor - COALESCE(r.refunded, 0))
               OVER (PARTITION BY p.patient_id ORDER BY p.service_date, p.ledger_sequence
                     ROWS UNBOUNDED PRECEDING) AS upto
    FROM payments p
    LEFT JOIN (SELECT payment_id, SUM(amount_minor) AS refunded FROM refunds
               GROUP BY payment_id) r ON r.payment_id = p.payment_id
) p ON p.patient_id = c.patient_id
WHERE LEAST(c.upto, p.upto) > GREATEST(c.upto - c.amount, p.upto - p.amount)
ORDER BY p.upto, c.upto;

-- Days closed by the daily close. No ledger entry may be dated on or before the latest one:
-- a correction to a closed day is a new entry today.
CREATE TABLE closed_days (
    day         DATE NOT NULL,                     -- clinic-local day
    closed_by   TEXT NOT NULL,                     -- caller subject
    closed_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT closed_days_pkey PRIMARY KEY (day)
);
