-- Working hours and schedule exceptions (SQLite). Keep in step with
-- ../postgres/0004_working_hours.sql.

-- Each provider's working week, in clinic-local wall time: one row per stretch of a weekday
-- (several per day for split shifts, e.g. 09:00-14:00 and 16:00-20:00). Minutes since local
-- midnight rather than instants, because the same wall time is a different UTC instant either
-- side of a daylight-saving change. A provider with no rows has no hours defined and can be
-- booked at any time, as before this table existed. Replaced as a whole by SetWorkingHours.
CREATE TABLE working_hours (
    provider_id   TEXT NOT NULL REFERENCES providers (provider_id),
    weekday       INTEGER NOT NULL,                 -- ISO: 1 = Monday … 7 = Sunday
    start_minute  INTEGER NOT NULL,                 -- minutes after local midnight
    end_minute    INTEGER NOT NULL,                 -- exclusive; 1440 = midnight at the day's end
    CONSTRAINT working_hours_pkey PRIMARY KEY (provider_id, weekday, start_minute),
    CONSTRAINT working_hours_weekday CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT working_hours_minutes
        CHECK (start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440)
);

-- Stretches when a provider (provider_id set) or the whole clinic (provider_id NULL) cannot be
-- booked: holidays, blocks (meetings, training, maintenance) and breaks. Deleted outright by
-- DeleteScheduleException: they describe the future, and appointments keep no link to them.
CREATE TABLE schedule_exceptions (
    schedule_exception_id  TEXT PRIMARY KEY,    -- UUID
    provider_id            TEXT REFERENCES providers (provider_id),
    start_at               TEXT NOT NULL,
    end_at                 TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    note                   TEXT,                -- staff-facing; no patient data belongs here
    created_at             TEXT NOT NULL,
    created_by             TEXT NOT NULL,       -- the caller's subject, e.g. "manager:ana"
    CONSTRAINT schedule_exceptions_span CHECK (start_at < end_at),
    CONSTRAINT schedule_exceptions_kind CHECK (kind IN ('holiday', 'block', 'break'))
);

-- Bookings and listings look for exceptions overlapping a span.
CREATE INDEX schedule_exceptions_start ON schedule_exceptions (start_at, end_at);
