-- CFDI stamped by a PAC, invoices issued PPD for charges, credit notes as CFDI (Egreso) and
-- payment documents (CFDI type P with the Pagos 2.0 complement). Keep in step with
-- ../sqlite/0030_cfdi_stamps_credit_notes_payments.sql.

ALTER TABLE invoices
    ADD COLUMN correction_id TEXT REFERENCES corrections (correction_id), -- credit_note
    ADD COLUMN related_invoice_id TEXT REFERENCES invoices (invoice_id),  -- credit_note: what it credits
    ADD CONSTRAINT invoices_correction_unique UNIQUE (correction_id),
    DROP CONSTRAINT invoices_kind,
    ADD CONSTRAINT invoices_kind CHECK (
        (kind = 'payment' AND payment_id IS NOT NULL AND day IS NULL AND correction_id IS NULL)
        OR (kind = 'global' AND payment_id IS NULL AND day IS NOT NULL AND correction_id IS NULL)
        OR (kind = 'charges' AND payment_id IS NULL AND day IS NULL AND correction_id IS NULL)
        OR (kind = 'credit_note' AND payment_id IS NULL AND day IS NULL
            AND correction_id IS NOT NULL AND related_invoice_id IS NOT NULL)
        OR (kind = 'payment_receipt' AND payment_id IS NOT NULL AND day IS NULL
            AND correction_id IS NULL)
    );

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
    recorded_at             TIMESTAMPTZ NOT NULL,
    CONSTRAINT invoice_stamps_pkey PRIMARY KEY (invoice_id),
    CONSTRAINT invoice_stamps_uuid_unique UNIQUE (uuid)
);

-- The charges an invoice issued PPD bills, each once, with the amount billed.
CREATE TABLE invoice_charges (
    charge_id     TEXT NOT NULL REFERENCES charges (charge_id),
    invoice_id    TEXT NOT NULL REFERENCES invoices (invoice_id),
    amount_minor  BIGINT NOT NULL,
    CONSTRAINT invoice_charges_pkey PRIMARY KEY (charge_id),
    CONSTRAINT invoice_charges_amount_positive CHECK (amount_minor > 0)
);

CREATE INDEX invoice_charges_invoice ON invoice_charges (invoice_id);

-- What a payment document reports for each PPD invoice it pays: the instalment number
-- (NumParcialidad), the balance before (ImpSaldoAnt) and what was paid (ImpPagado).
CREATE TABLE payment_receipt_documents (
    receipt_invoice_id      TEXT NOT NULL REFERENCES invoices (invoice_id),
    invoice_id              TEXT NOT NULL REFERENCES invoices (invoice_id),
    installment             BIGINT NOT NULL,
    previous_balance_minor  BIGINT NOT NULL,
    paid_minor              BIGINT NOT NULL,
    CONSTRAINT payment_receipt_documents_pkey PRIMARY KEY (receipt_invoice_id, invoice_id),
    CONSTRAINT payment_receipt_documents_installment_unique UNIQUE (invoice_id, installment),
    CONSTRAINT payment_receipt_documents_paid CHECK (
        paid_minor > 0 AND paid_minor <= previous_balance_minor
    )
);
