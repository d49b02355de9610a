-- Cash drawers (SQLite). Keep in step with ../postgres/0002_cash_drawer.sql: the same tables,
-- columns and constraint names, with SQLite's types (TEXT instants, INTEGER money in minor units).

-- A session per counter terminal, from the counted opening float to the blind closing count.
CREATE TABLE cash_drawer_sessions (
    session_id                 TEXT NOT NULL,      -- UUID
    terminal_id                TEXT NOT NULL,      -- lower-cased, e.g. counter-1
    status                     TEXT NOT NULL,
    currency                   TEXT NOT NULL,      -- ISO 4217; every amount below is in it
    opening_float_minor        INTEGER NOT NULL,   -- total of the opening count
    previous_closing_minor     INTEGER,            -- the terminal's last closing count, if any
    opening_difference_minor   INTEGER NOT NULL,   -- float - previous closing (0 without one)
    opening_difference_reason  TEXT,               -- required by the service when non-zero
    opened_by                  TEXT NOT NULL,      -- caller subject
    opened_at                  TEXT NOT NULL,
    -- Set by the close, which freezes the Z report's figures:
    counted_minor              INTEGER,            -- total of the closing count
    expected_minor             INTEGER,            -- float + taken - change + in - out
    cash_taken_minor           INTEGER,
    change_given_minor         INTEGER,
    cash_in_minor              INTEGER,
    cash_out_minor             INTEGER,
    difference_reason          TEXT,
    closed_by                  TEXT,
    closed_at                  TEXT,
    -- Set when a manager approved a difference over the limit:
    approved_by                TEXT,
    approved_at                TEXT,
    CONSTRAINT cash_drawer_sessions_pkey PRIMARY KEY (session_id),
    CONSTRAINT cash_drawer_sessions_status CHECK (status IN ('open', 'pending_approval', 'closed')),
    CONSTRAINT cash_drawer_sessions_float_not_negative CHECK (opening_float_minor >= 0),
    CONSTRAINT cash_drawer_sessions_closed_has_count CHECK (
        status = 'open' OR (counted_minor IS NOT NULL AND expected_minor IS NOT NULL
                            AND closed_by IS NOT NULL AND closed_at IS NOT NULL)
    )
);

-- One session per terminal that is not finished: opening a second drawer on a terminal (two
-- counters racing, or a retry with a new key) fails here on both backends. SQLite reports the
-- violation as `cash_drawer_sessions.terminal_id`.
CREATE UNIQUE INDEX cash_drawer_sessions_one_active_per_terminal
    ON cash_drawer_sessions (terminal_id) WHERE status <> 'closed';

-- The previous closing count of a terminal is its newest closed session.
CREATE INDEX cash_drawer_sessions_terminal ON cash_drawer_sessions (terminal_id, closed_at);

-- The opening and closing counts, one row per denomination counted.
CREATE TABLE cash_drawer_counts (
    session_id   TEXT NOT NULL REFERENCES cash_drawer_sessions (session_id),
    stage        TEXT NOT NULL,                    -- opening, closing
    kind         TEXT NOT NULL,                    -- note, coin
    value_minor  INTEGER NOT NULL,                 -- face value
    pieces       INTEGER NOT NULL,
    position     INTEGER NOT NULL,                 -- the line's place in the currency's table
    CONSTRAINT cash_drawer_counts_pkey PRIMARY KEY (session_id, stage, kind, value_minor),
    CONSTRAINT cash_drawer_counts_stage CHECK (stage IN ('opening', 'closing')),
    CONSTRAINT cash_drawer_counts_kind CHECK (kind IN ('note', 'coin')),
    CONSTRAINT cash_drawer_counts_pieces CHECK (pieces >= 0)
);

-- Cash put into or taken out of an open drawer, other than payments.
CREATE TABLE cash_movements (
    movement_id   TEXT NOT NULL,                   -- UUID
    session_id    TEXT NOT NULL REFERENCES cash_drawer_sessions (session_id),
    direction     TEXT NOT NULL,                   -- in, out
    category      TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL,                -- positive
    currency      TEXT NOT NULL,
    note          TEXT,
    recorded_by   TEXT NOT NULL,                   -- caller subject
    request_id    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    CONSTRAINT cash_movements_pkey PRIMARY KEY (movement_id),
    CONSTRAINT cash_movements_direction CHECK (direction IN ('in', 'out')),
    CONSTRAINT cash_movements_category CHECK (
        category IN ('petty_cash', 'expenses', 'bank_deposit', 'change_fund', 'other')
    ),
    CONSTRAINT cash_movements_amount_positive CHECK (amount_minor > 0)
);

CREATE INDEX cash_movements_session ON cash_movements (session_id);

-- The drawer session a cash payment was counted in; NULL for card, transfer, and cash taken
-- without a terminal (payments posted before drawers existed, or by collections by phone).
ALTER TABLE payments ADD COLUMN drawer_session_id TEXT REFERENCES cash_drawer_sessions (session_id);

CREATE INDEX payments_drawer_session ON payments (drawer_session_id);
