-- The contact log, each account's contact state and how patients may be reached (PostgreSQL).
-- Keep in step with ../sqlite/0002_contacts.sql.

-- How the patient registry says each patient may be reached, copied at the last lookup so the
-- contact rules still work while the registry is briefly down. Refreshed at every check.
CREATE TABLE contact_profiles (
    patient_id          TEXT PRIMARY KEY,           -- UUID
    time_zone           TEXT NOT NULL,              -- IANA zone; contact hours are local to it
    consent_sms         BOOLEAN NOT NULL,
    consent_whatsapp    BOOLEAN NOT NULL,
    consent_email       BOOLEAN NOT NULL,
    consent_phone_call  BOOLEAN NOT NULL,
    -- Whether the registry has a phone number / an email address (never the values: collections
    -- needs to know a channel is usable, not the address).
    has_phone           BOOLEAN NOT NULL,
    has_email           BOOLEAN NOT NULL,
    refreshed_at        TIMESTAMPTZ NOT NULL
);

-- What the contact log has set on an account. The row is also what a recording locks, so that two
-- collectors cannot both make the 7th call.
CREATE TABLE contact_states (
    patient_id       TEXT PRIMARY KEY,              -- UUID
    cease_requested  BOOLEAN NOT NULL,              -- "stop contacting me": ends outreach
    refused_to_pay   BOOLEAN NOT NULL,              -- ends outreach
    dispute_open     BOOLEAN NOT NULL,              -- outreach paused until a manager resolves it
    updated_at       TIMESTAMPTZ NOT NULL
);

-- Every contact attempt and conversation, both directions. Append-only (the trigger below) and
-- kept 3 years: `retain_until` is when a record may first be purged.
CREATE TABLE contacts (
    -- Insertion order: "oldest first" even when several contacts share an instant.
    contact_seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id      TEXT NOT NULL,                  -- UUID, the id clients see
    patient_id      TEXT NOT NULL,                  -- UUID
    channel         TEXT NOT NULL,                  -- phone_call, sms, whatsapp, email, letter
    direction       TEXT NOT NULL,                  -- outbound, inbound
    kind            TEXT NOT NULL,                  -- attempt, conversation
    purpose         TEXT NOT NULL,                  -- outreach, permitted_notice
    outcome         TEXT NOT NULL,                  -- no_answer, …, cease_requested, disputed
    notes           TEXT NOT NULL,                  -- up to 2000 characters; never logged
    next_step       TEXT,
    next_step_date  DATE,
    billing_issue   TEXT NOT NULL,                  -- none, wrong_charge, insurance, price, …
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_by     TEXT NOT NULL,                  -- the staff member's token subject
    retain_until    TIMESTAMPTZ NOT NULL,
    CONSTRAINT contacts_contact_id_key UNIQUE (contact_id)
);

-- The call rules read an account's recent contacts; the log lists them in order.
CREATE INDEX contacts_patient ON contacts (patient_id, contact_seq);

CREATE FUNCTION contacts_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the contact log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_append_only BEFORE UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_append_only();

-- Idempotency keys of calls that record something. A retry finds its key and gets the first
-- result; the fingerprint tells a retry from a key reused for a different request.
CREATE TABLE idempotency_keys (
    operation    TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (operation, request_id)
);
