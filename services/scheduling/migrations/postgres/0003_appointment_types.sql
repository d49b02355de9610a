-- Appointment types (PostgreSQL). Keep in step with ../sqlite/0003_appointment_types.sql.

-- The kinds of visit the clinic books: how long each takes, what billing charges for it and
-- whether it needs the X-ray. Deleting a type only stamps deleted_at: appointments booked with it
-- keep pointing at it.
CREATE TABLE appointment_types (
    appointment_type_id  TEXT PRIMARY KEY,          -- UUID
    name                 TEXT NOT NULL,
    duration_minutes     INTEGER NOT NULL,
    price_code           TEXT NOT NULL,             -- billing's price-list code
    needs_xray           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    deleted_at           TIMESTAMPTZ,
    CONSTRAINT appointment_types_duration CHECK (duration_minutes BETWEEN 1 AND 480)
);

-- Reception picks types by name: two live types never share one. A deleted type frees its name.
CREATE UNIQUE INDEX appointment_types_name ON appointment_types (name) WHERE deleted_at IS NULL;

-- The type an appointment was booked as, if any.
ALTER TABLE appointments
    ADD COLUMN appointment_type_id TEXT REFERENCES appointment_types (appointment_type_id);
