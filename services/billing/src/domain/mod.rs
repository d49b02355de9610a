//! Billing's model and rules, free of storage and transport: what a price-list item, a charge
//! and a payment are, what makes them valid, how amounts are computed, and what the ledger and a
//! balance hold.

mod charge;
mod error;
mod ledger;
mod payment;
mod price_list;

pub use charge::{Charge, NewCharge, Quantity};
pub use error::BillingError;
pub use ledger::{
    AccountBalance, LedgerEntry, LedgerEntryKind, LedgerPage, LedgerSource, ledger_page_size,
};
pub use payment::{
    AuthorizationCode, CardLastFour, CardType, NewPayment, Payment, PaymentMethod, ReceiptNumber,
    TransferReference,
};
pub use price_list::{
    ItemDescription, NewPriceListItem, PriceCode, PriceListItem, PriceListItemKind,
    parse_unit_price,
};

/// The calls whose `request_id` makes them idempotent. Keys are scoped per operation, so one
/// key may name a charge and a payment without them being confused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreatePriceListItem,
    PostCharge,
    PostPayment,
}

impl Operation {
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::CreatePriceListItem => "create_price_list_item",
            Operation::PostCharge => "post_charge",
            Operation::PostPayment => "post_payment",
        }
    }
}
