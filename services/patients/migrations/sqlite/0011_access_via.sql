-- The service a person read a record through (scheduling's confirmation list, billing's
-- statements): empty for a person's own call to the registry.
ALTER TABLE patient_access_log ADD COLUMN via TEXT NOT NULL DEFAULT '';
