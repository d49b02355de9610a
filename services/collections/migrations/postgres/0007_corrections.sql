-- Billing's corrections of charges (PostgreSQL). Keep in step with ../sqlite/0007_corrections.sql.
-- An adjustment, credit note or write-off names the charge it corrects (a refund, the payment it
-- gives back); replaying the ledger (aging on a past day) applies it to that charge.
ALTER TABLE ledger_entries ADD COLUMN related_source_id TEXT;
