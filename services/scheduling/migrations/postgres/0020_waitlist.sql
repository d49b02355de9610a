-- The waitlist (PostgreSQL). Keep in step with ../sqlite/0020_waitlist.sql.

-- Patients waiting for time the schedule does not have yet: "only Dr. X", "only after 18:00".
CREATE TABLE waitlist_entries (
    waitlist_entry_id      TEXT PRIMARY KEY,        -- UUID
    patient_id             TEXT NOT NULL,           -- the registry's id
    provider_id            TEXT REFERENCES providers (provider_id),  -- NULL: anyone
    appointment_type_id    TEXT REFERENCES appointment_types (appointment_type_id),
    -- The visit's length: the type's when one is named, else as asked.
    duration_minutes       INTEGER NOT NULL,
    -- Clinic-local wall times, minutes after midnight; NULL does not narrow.
    earliest_start_minute  INTEGER,
    latest_end_minute      INTEGER,
    -- ISO weekday numbers (1 Monday .. 7 Sunday), comma-separated; empty means any day.
    weekdays               TEXT NOT NULL DEFAULT '',
    first_day              DATE NOT NULL,           -- clinic-local
    last_day               DATE NOT NULL,
    note                   TEXT,
    status                 TEXT NOT NULL,           -- waiting, booked, removed
    appointment_id         TEXT,                    -- set when booked
    created_at             TIMESTAMPTZ NOT NULL,
    created_by             TEXT NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    CONSTRAINT waitlist_entries_status CHECK (status IN ('waiting', 'booked', 'removed')),
    CONSTRAINT waitlist_entries_days CHECK (last_day >= first_day)
);

-- Offers are made to waiting entries, oldest first.
CREATE INDEX waitlist_entries_status_created ON waitlist_entries (status, created_at);

-- Freed time offered to a waitlist entry. Every matching entry gets an offer of the same time,
-- ranked (1 = the best match); the first accepted wins and the others become 'taken'.
CREATE TABLE waitlist_offers (
    waitlist_offer_id  TEXT PRIMARY KEY,            -- UUID
    waitlist_entry_id  TEXT NOT NULL REFERENCES waitlist_entries (waitlist_entry_id),
    provider_id        TEXT NOT NULL REFERENCES providers (provider_id),
    start_at           TIMESTAMPTZ NOT NULL,
    end_at             TIMESTAMPTZ NOT NULL,
    rank               INTEGER NOT NULL,
    -- open, accepted, declined, expired, taken, withdrawn
    status             TEXT NOT NULL,
    freed_by           TEXT NOT NULL,               -- cancelled, no_show, rescheduled, hours
    expires_at         TIMESTAMPTZ NOT NULL,
    appointment_id     TEXT,                        -- set when accepted
    created_at         TIMESTAMPTZ NOT NULL,
    decided_at         TIMESTAMPTZ,
    decided_by         TEXT,
    -- The same time is offered to an entry once, however often it frees up.
    CONSTRAINT waitlist_offers_once UNIQUE (waitlist_entry_id, provider_id, start_at)
);

CREATE INDEX waitlist_offers_slot ON waitlist_offers (provider_id, start_at);
