-- The parent or guardian on a first-visit form (sqlite). Keep in step with the other backend's
-- 0012_intake_guardian.sql.
-- A patient under 18 on the clinic's date is answered for, and consented for, by a parent or
-- legal guardian, who also stands as the emergency contact when none is given. All three columns
-- are set together or all NULL (no guardian: an adult, or a form recorded before this).

ALTER TABLE intake_forms ADD COLUMN guardian_name TEXT;
-- mother, father, legal_guardian, other
ALTER TABLE intake_forms ADD COLUMN guardian_relationship TEXT;
-- E.164
ALTER TABLE intake_forms ADD COLUMN guardian_phone TEXT;
