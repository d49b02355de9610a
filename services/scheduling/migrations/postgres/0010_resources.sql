-- Chairs, rooms and equipment as bookable resources (PostgreSQL). Keep in step with
-- ../sqlite/0010_resources.sql.

-- Things an appointment holds besides its provider. Booking locks the rows of the resources it
-- may use (SELECT ... FOR UPDATE, in resource_id order, after the provider's row), so bookings
-- competing for one chair take turns and never deadlock.
CREATE TABLE resources (
    resource_id   TEXT PRIMARY KEY,                 -- UUID
    display_name  TEXT NOT NULL,
    kind          TEXT NOT NULL,                    -- chair, room, equipment; never changes
    in_service    BOOLEAN NOT NULL DEFAULT TRUE, -- out of service: never assigned
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT resources_kind CHECK (kind IN ('chair', 'room', 'equipment'))
);

CREATE UNIQUE INDEX resources_display_name ON resources (display_name);
CREATE INDEX resources_kind ON resources (kind, resource_id);

-- A resource's working week, like working_hours for providers. No rows: usable at any time.
CREATE TABLE resource_hours (
    resource_id   TEXT NOT NULL REFERENCES resources (resource_id),
    weekday       INTEGER NOT NULL,                 -- ISO: 1 = Monday … 7 = Sunday
    start_minute  INTEGER NOT NULL,                 -- minutes after local midnight
    end_minute    INTEGER NOT NULL,                 -- exclusive; 1440 = midnight at the day's end
    CONSTRAINT resource_hours_pkey PRIMARY KEY (resource_id, weekday, start_minute),
    CONSTRAINT resource_hours_weekday CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT resource_hours_minutes
        CHECK (start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440)
);

-- Stretches when a resource cannot be used (maintenance, repair). Clinic-wide rows of
-- schedule_exceptions apply to resources as well.
CREATE TABLE resource_exceptions (
    resource_exception_id  TEXT PRIMARY KEY,    -- UUID
    resource_id            TEXT NOT NULL REFERENCES resources (resource_id),
    start_at               TIMESTAMPTZ NOT NULL,
    end_at                 TIMESTAMPTZ NOT NULL,
    kind                   TEXT NOT NULL,
    note                   TEXT,                -- staff-facing
    created_at             TIMESTAMPTZ NOT NULL,
    created_by             TEXT NOT NULL,
    CONSTRAINT resource_exceptions_span CHECK (start_at < end_at),
    CONSTRAINT resource_exceptions_kind CHECK (kind IN ('holiday', 'block', 'break'))
);

CREATE INDEX resource_exceptions_resource ON resource_exceptions (resource_id, start_at);

-- What an appointment type needs: one row per requirement, a given resource or any of a kind.
-- Replaced as a whole by SetAppointmentTypeResources.
CREATE TABLE appointment_type_resources (
    appointment_type_id  TEXT NOT NULL REFERENCES appointment_types (appointment_type_id),
    position             INTEGER NOT NULL,      -- order given
    kind                 TEXT NOT NULL,
    resource_id          TEXT REFERENCES resources (resource_id),   -- NULL: any of the kind
    CONSTRAINT appointment_type_resources_pkey PRIMARY KEY (appointment_type_id, position),
    CONSTRAINT appointment_type_resources_kind CHECK (kind IN ('chair', 'room', 'equipment'))
);

-- The resources each appointment holds. A resource is busy while an appointment holding it is
-- in an active status (the same statuses that hold a provider's time): cancelling or moving an
-- appointment frees its resources without touching these rows.
CREATE TABLE appointment_resources (
    appointment_id  TEXT NOT NULL REFERENCES appointments (appointment_id),
    resource_id     TEXT NOT NULL REFERENCES resources (resource_id),
    CONSTRAINT appointment_resources_pkey PRIMARY KEY (appointment_id, resource_id)
);

-- The overlap check at booking: a resource's appointments.
CREATE INDEX appointment_resources_resource ON appointment_resources (resource_id, appointment_id);
