-- Which collector works which account (PostgreSQL). Keep in step with
-- ../sqlite/0003_assignments.sql. One collector per account; reassigning replaces the row.
CREATE TABLE account_assignments (
    patient_id   TEXT PRIMARY KEY,                  -- UUID
    collector    TEXT NOT NULL,                     -- the collector's token subject
    assigned_by  TEXT NOT NULL,                     -- the manager who assigned it
    assigned_at  TIMESTAMPTZ NOT NULL
);

-- A collector's own worklist.
CREATE INDEX account_assignments_collector ON account_assignments (collector);
