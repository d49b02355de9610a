//! Receivables and collections work, kept current from billing's ledger.
