-- Payment parts (PostgreSQL). Keep in step with ../sqlite/0006_payment_parts.sql: the same
-- tables, columns and constraint names, with PostgreSQL's types.
--
-- A payment can be split across methods (card and cash, two cards) and can draw on the
-- patient's advance. Each method's share is a part, with what that method records; the payment
-- keeps the total, the receipt and the ledger entry, which is for the new money only (money
-- already paid as advance is not paid again), so a payment made entirely from the advance has
-- no ledger entry.

-- Each method's share of a payment, in the order the payer gave them.
CREATE TABLE payment_parts (
    payment_id          TEXT NOT NULL REFERENCES payments (payment_id),
    position            INTEGER NOT NULL,          -- 1, 2, ...
    method              TEXT NOT NULL,
    amount_minor        BIGINT NOT NULL,           -- positive
    currency            TEXT NOT NULL,
    tendered_minor      BIGINT,                    -- cash only
    change_minor        BIGINT,                    -- cash only: tendered - amount
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

CREATE INDEX payment_parts_drawer_session ON payment_parts (drawer_session_id);

ALTER TABLE payments ADD COLUMN received_minor BIGINT;
UPDATE payments SET received_minor = amount_minor;

DROP INDEX payments_drawer_session;
ALTER TABLE payments
    DROP CONSTRAINT payments_method,
    DROP COLUMN method,
    DROP COLUMN tendered_minor,
    DROP COLUMN change_minor,
    DROP COLUMN authorization_code,
    DROP COLUMN card_last_four,
    DROP COLUMN card_type,
    DROP COLUMN transfer_reference,
    DROP COLUMN drawer_session_id,
    ALTER COLUMN received_minor SET NOT NULL,
    ALTER COLUMN ledger_sequence DROP NOT NULL,
    ADD CONSTRAINT payments_received CHECK (
        received_minor >= 0 AND received_minor <= amount_minor
    ),
    ADD CONSTRAINT payments_ledger_entry CHECK (
        (received_minor > 0) = (ledger_sequence IS NOT NULL)
    );

-- The part of the payment a refund gives money back on (and so its method).
ALTER TABLE refunds ADD COLUMN part_position INTEGER NOT NULL DEFAULT 1;
