-- The data a patient's CFDI invoices are made out to, as on their Constancia de Situación
-- Fiscal; at most one row per patient. Keep in step with the other backend's
-- 0010_fiscal_data.sql.
CREATE TABLE patient_fiscal_data (
    patient_id   TEXT NOT NULL REFERENCES patients (patient_id),
    rfc          TEXT NOT NULL,                    -- 12 (company) or 13 (person) characters
    legal_name   TEXT NOT NULL,                    -- as registered with the SAT
    postal_code  TEXT NOT NULL,                    -- the fiscal address's, five digits
    tax_regime   TEXT NOT NULL,                    -- c_RegimenFiscal
    cfdi_use     TEXT,                             -- c_UsoCFDI the patient asked for
    updated_at   TEXT NOT NULL,
    CONSTRAINT patient_fiscal_data_pkey PRIMARY KEY (patient_id)
);
