-- Planned visits and recalls (PostgreSQL). Keep in step with ../sqlite/0021_planned_visits.sql.

-- "Come back in about 3 months": a visit to book once the schedule for it exists.
CREATE TABLE planned_visits (
    planned_visit_id     TEXT PRIMARY KEY,          -- UUID
    patient_id           TEXT NOT NULL,             -- the registry's id
    appointment_type_id  TEXT REFERENCES appointment_types (appointment_type_id),
    provider_id          TEXT REFERENCES providers (provider_id),
    due_date             DATE NOT NULL,             -- clinic-local, "about then"
    note                 TEXT,
    status               TEXT NOT NULL,             -- planned, booked
    appointment_id       TEXT REFERENCES appointments (appointment_id),  -- set when booked
    created_at           TIMESTAMPTZ NOT NULL,
    created_by           TEXT NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    CONSTRAINT planned_visits_status CHECK (status IN ('planned', 'booked'))
);

-- The due list.
CREATE INDEX planned_visits_due ON planned_visits (due_date, status);
