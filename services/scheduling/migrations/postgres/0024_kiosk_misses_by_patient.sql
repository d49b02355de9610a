-- What each kiosk miss was aimed at (a digest of the code, appointment or name looked up), so
-- that one patient's lookups can be held back without locking the whole lobby kiosk.
ALTER TABLE kiosk_lookup_misses ADD COLUMN target TEXT NOT NULL DEFAULT '';

CREATE INDEX kiosk_lookup_misses_missed_at ON kiosk_lookup_misses (missed_at);
