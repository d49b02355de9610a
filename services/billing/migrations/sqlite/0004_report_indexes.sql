-- SQLite; keep in step with ../postgres/0004_report_indexes.sql.
-- Indexes for the day-by-day reports (the unpaid-today list and the daily close), which select
-- a clinic day's charges, payments and refunds by service date, the ledger up to a day, and the
-- drawers closed within a day. Indexes only: no data changes.

CREATE INDEX charges_service_date ON charges (service_date);
CREATE INDEX payments_service_date ON payments (service_date);
CREATE INDEX refunds_service_date ON refunds (service_date);
CREATE INDEX ledger_entries_service_date ON ledger_entries (service_date);
CREATE INDEX cash_drawer_sessions_closed_at ON cash_drawer_sessions (closed_at);
