-- Packages, promotions, discounts and charges from appointments (PostgreSQL). Keep in step
-- with ../sqlite/0007_packages_discounts.sql: the same tables, columns and constraint names,
-- with PostgreSQL's types.

-- The price list gains packages: N sessions of one service sold ahead, each consumed by a later
-- charge for that service.
ALTER TABLE price_list_items
    ADD COLUMN package_sessions INTEGER,
    ADD COLUMN package_covers TEXT REFERENCES price_list_items (code),
    DROP CONSTRAINT price_list_items_kind,
    ADD CONSTRAINT price_list_items_kind CHECK (
        kind IN ('service', 'therapy', 'product', 'package')
    ),
    ADD CONSTRAINT price_list_items_package CHECK (
        (kind = 'package') = (package_sessions IS NOT NULL AND package_covers IS NOT NULL)
    ),
    ADD CONSTRAINT price_list_items_package_sessions CHECK (package_sessions BETWEEN 1 AND 100);

-- Promotions a manager set up: a discount per unit (a percentage or an amount) on some items,
-- or on all of them, over a span of service days. Given by anyone at the counter: the manager
-- authorised them by creating them.
CREATE TABLE promotions (
    code              TEXT NOT NULL,              -- A-Z, 0-9, '-'; like price codes
    description       TEXT NOT NULL,
    percent_off       INTEGER,                    -- 1-100, or
    amount_off_minor  BIGINT,                     -- per unit, in the currency
    currency          TEXT NOT NULL,
    valid_from        DATE NOT NULL,              -- first service day, clinic-local
    valid_to          DATE NOT NULL,              -- last service day
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT promotions_pkey PRIMARY KEY (code),
    CONSTRAINT promotions_one_discount CHECK (
        (percent_off IS NULL) <> (amount_off_minor IS NULL)
    ),
    CONSTRAINT promotions_percent CHECK (percent_off BETWEEN 1 AND 100),
    CONSTRAINT promotions_amount CHECK (amount_off_minor > 0),
    CONSTRAINT promotions_span CHECK (valid_to >= valid_from)
);

-- The items a promotion applies to; none means every item but packages.
CREATE TABLE promotion_items (
    promotion_code  TEXT NOT NULL REFERENCES promotions (code),
    price_code      TEXT NOT NULL REFERENCES price_list_items (code),
    CONSTRAINT promotion_items_pkey PRIMARY KEY (promotion_code, price_code)
);

-- A charge's price, discount and package cover. amount_minor stays unit price x quantity;
-- what the patient owes for the charge (net_minor, its ledger entry) is that less the units a
-- package covers and less the discount on the rest.
ALTER TABLE charges ADD COLUMN covered_quantity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE charges ADD COLUMN package_id TEXT;              -- the package that covered units
ALTER TABLE charges ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE charges ADD COLUMN promotion_code TEXT REFERENCES promotions (code);
ALTER TABLE charges ADD COLUMN discount_percent INTEGER;     -- an ad hoc percentage
ALTER TABLE charges ADD COLUMN discount_reason TEXT;         -- why, for an ad hoc discount
ALTER TABLE charges ADD COLUMN discount_authorized_by TEXT;  -- the manager, over the limit
-- Charges from a completed appointment: who gave the service.
ALTER TABLE charges ADD COLUMN origin TEXT NOT NULL DEFAULT 'counter';  -- counter, appointment
ALTER TABLE charges ADD COLUMN provider_id TEXT;
ALTER TABLE charges ADD COLUMN provider_name TEXT;

-- An appointment is charged from scheduling once.
CREATE UNIQUE INDEX charges_one_per_appointment ON charges (appointment_id)
    WHERE origin = 'appointment';

-- Packages sold: the sessions a patient prepaid. Sessions used are the charges it covered.
CREATE TABLE patient_packages (
    package_id        TEXT NOT NULL,              -- UUID
    patient_id        TEXT NOT NULL,
    charge_id         TEXT NOT NULL REFERENCES charges (charge_id), -- the sale
    package_code      TEXT NOT NULL REFERENCES price_list_items (code),
    covers            TEXT NOT NULL REFERENCES price_list_items (code),
    sessions          INTEGER NOT NULL,
    service_date      DATE NOT NULL,              -- the day it was sold
    created_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT patient_packages_pkey PRIMARY KEY (package_id),
    CONSTRAINT patient_packages_sale_unique UNIQUE (charge_id),
    CONSTRAINT patient_packages_sessions CHECK (sessions >= 1)
);

CREATE INDEX patient_packages_patient ON patient_packages (patient_id, covers);
CREATE INDEX charges_package ON charges (package_id);
