//! Price list, charges, payments, balances and the ledger change feed.
