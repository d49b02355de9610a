-- CFDI 4.0 invoices. Keep in step with the other backend's 0008_invoices.sql.

-- Each invoice as issued: the sealed XML and its cadena original, never changed afterwards.
-- A payment's own invoice (to the patient's fiscal data) or a day's global invoice to the
-- general public. Folios are sequential per clinic within the series.
CREATE TABLE invoices (
    invoice_id          TEXT NOT NULL,             -- UUID (billing's; SAT's comes from stamping)
    kind                TEXT NOT NULL,             -- payment, global
    series              TEXT NOT NULL,
    folio               INTEGER NOT NULL,
    payment_id          TEXT REFERENCES payments (payment_id), -- kind payment
    day                 TEXT,                     -- kind global: the day it covers
    receptor_rfc        TEXT NOT NULL,
    total_minor         INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    certificate_number  TEXT NOT NULL,             -- NoCertificado of the CSD that sealed it
    cadena_original     TEXT NOT NULL,
    xml                 TEXT NOT NULL,
    status              TEXT NOT NULL,             -- sealed (awaiting a PAC's stamp)
    created_by          TEXT NOT NULL,
    request_id          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    CONSTRAINT invoices_pkey PRIMARY KEY (invoice_id),
    CONSTRAINT invoices_folio_unique UNIQUE (series, folio),
    CONSTRAINT invoices_kind CHECK (
        (kind = 'payment' AND payment_id IS NOT NULL AND day IS NULL)
        OR (kind = 'global' AND payment_id IS NULL AND day IS NOT NULL)
    ),
    CONSTRAINT invoices_status CHECK (status IN ('sealed'))
);

-- The payments an invoice covers: each payment is invoiced once, on its own or in its day's
-- global invoice.
CREATE TABLE invoice_payments (
    payment_id   TEXT NOT NULL REFERENCES payments (payment_id),
    invoice_id   TEXT NOT NULL REFERENCES invoices (invoice_id),
    CONSTRAINT invoice_payments_pkey PRIMARY KEY (payment_id)
);

CREATE INDEX invoice_payments_invoice ON invoice_payments (invoice_id);
