-- no-transaction
-- CFDI stamped by a PAC, invoices issued PPD for charges, credit notes as CFDI (Egreso) and
-- payment documents (CFDI type P with the Pagos 2.0 complement). Keep in step with
-- ../postgres/0030_cfdi_stamps_credit_notes_payments.sql.
--
-- `invoices` gains three kinds, so it is rebuilt as in 0005 (SQLite cannot alter a CHECK):
-- foreign keys off (outside a transaction, hence `no-transaction`), copy, drop, rename, back on.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE invoices_rebuilt (
    invoice_id          TEXT NOT NULL,             -- UUID (billing's; SAT's is the stamp's)
    kind                TEXT NOT NULL,             -- payment, global, charges, credit_note, payment_receipt
    series              TEXT NOT NULL,
    folio               INTEGER NOT NULL,
    payment_id          TEXT REFERENCES payments (payment_id), -- payment, payment_receipt
    day                 TEXT,                      -- global: the day it covers
    receptor_rfc        TEXT NOT NULL,
    total_minor         INTEGER NOT NULL,          -- 0 for payment_receipt (type P)
    currency            TEXT NOT NULL,
    certificate_number  TEXT NOT NULL,             -- NoCertificado of the CSD that sealed it
    cadena_original     TEXT NOT NULL,
    xml                 TEXT NOT NULL,             -- as sealed; the stamped XML is in invoice_stamps
    status              TEXT NOT NULL,             -- sealed (a stamp, when there is one, is its own row)
    created_by          TEXT NOT NULL,
    request_id          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    correction_id       TEXT REFERENCES corrections (correction_id), -- credit_note
    related_invoice_id  TEXT REFERENCES invoices (invoice_id),       -- credit_note: what it credits
    CONSTRAINT invoices_pkey PRIMARY KEY (invoice_id),
    CONSTRAINT invoices_folio_unique UNIQUE (series, folio),
    CONSTRAINT invoices_correction_unique UNIQUE (correction_id),
    CONSTRAINT invoices_kind CHECK (
        (kind = 'payment' AND payment_id IS NOT NULL AND day IS NULL AND correction_id IS NULL)
        OR (kind = 'global' AND payment_id IS NULL AND day IS NOT NULL AND correction_id IS NULL)
        OR (kind = 'charges' AND payment_id IS NULL AND day IS NULL AND correction_id IS NULL)
        OR (kind = 'credit_note' AND payment_id IS NULL AND day IS NULL
            AND correction_id IS NOT NULL AND related_invoice_id IS NOT NULL)
        OR (kind = 'payment_receipt' AND payment_id IS NOT NULL AND day IS NULL
            AND correction_id IS NULL)
    ),
    CONSTRAINT invoices_status CHECK (status IN ('sealed'))
);

INSERT INTO invoices_rebuilt
    (invoice_id, kind, series, folio, payment_id, day, receptor_rfc, total_minor, currency,
     certificate_number, cadena_original, xml, status, created_by, request_id, created_at)
SELECT invoice_id, kind, series, folio, payment_id, day, receptor_rfc, total_minor, currency,
       certificate_number, cadena_original, xml, status, created_by, request_id, created_at
FROM invoices;

DROP TABLE invoices;
ALTER TABLE invoices_rebuilt RENAME TO invoices;

-- A payment gets one payment document.
CREATE UNIQUE INDEX invoices_payment_receipt_unique ON invoices (payment_id)
    WHERE kind = 'payment_receipt';
CREATE INDEX invoices_related ON invoices (related_invoice_id);

-- The PAC's stamp of an invoice: its folio fiscal and the stamped XML (the sealed XML with its
-- TimbreFiscalDigital). Written once, after the invoice is stored.
CREATE TABLE invoice_stamps (
    invoice_id              TEXT NOT NULL REFERENCES invoices (invoice_id),
    uuid                    TEXT NOT NULL,         -- the folio fiscal
    stamped_at              TEXT NOT NULL,         -- FechaTimbrado as written (Mexico local time)
    pac_rfc                 TEXT NOT NULL,         -- RfcProvCertif
    sat_certificate_number  TEXT NOT NULL,         -- NoCertificadoSAT
    xml                     TEXT NOT NULL,
    recorded_at             TEXT NOT NULL,
    CONSTRAINT invoice_stamps_pkey PRIMARY KEY (invoice_id),
    CONSTRAINT invoice_stamps_uuid_unique UNIQUE (uuid)
);

-- The charges an invoice issued PPD bills, each once, with the amount billed.
CREATE TABLE invoice_charges (
    charge_id     TEXT NOT NULL REFERENCES charges (charge_id),
    invoice_id    TEXT NOT NULL REFERENCES invoices (invoice_id),
    amount_minor  INTEGER NOT NULL,
    CONSTRAINT invoice_charges_pkey PRIMARY KEY (charge_id),
    CONSTRAINT invoice_charges_amount_positive CHECK (amount_minor > 0)
);

CREATE INDEX invoice_charges_invoice ON invoice_charges (invoice_id);

-- What a payment document reports for each PPD invoice it pays: the instalment number
-- (NumParcialidad), the balance before (ImpSaldoAnt) and what was paid (ImpPagado).
CREATE TABLE payment_receipt_documents (
    receipt_invoice_id      TEXT NOT NULL REFERENCES invoices (invoice_id),
    invoice_id              TEXT NOT NULL REFERENCES invoices (invoice_id),
    installment             INTEGER NOT NULL,
    previous_balance_minor  INTEGER NOT NULL,
    paid_minor              INTEGER NOT NULL,
    CONSTRAINT payment_receipt_documents_pkey PRIMARY KEY (receipt_invoice_id, invoice_id),
    CONSTRAINT payment_receipt_documents_installment_unique UNIQUE (invoice_id, installment),
    CONSTRAINT payment_receipt_documents_paid CHECK (
        paid_minor > 0 AND paid_minor <= previous_balance_minor
    )
);

COMMIT;
PRAGMA foreign_keys = ON;
