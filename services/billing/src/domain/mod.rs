//! Billing's model and rules, free of storage and transport: what a price-list item, a charge,
//! a payment and a refund are, what makes them valid, how amounts are computed, what the ledger
//! and a balance hold, a patient's statement and who still owes today, the daily close, the cash drawer's counts and close rules, and a receipt's layout.

mod allocation;
pub mod cfdi;
mod charge;
mod correction;
mod daily_close;
mod drawer;
mod error;
mod identity;
mod invoice;
mod ledger;
pub mod pagos;
mod payment;
mod price_list;
mod promotion;
mod receipt;
mod refund;
mod report_words;
mod statement;

pub use allocation::{
    AllocationLine, AllocationMode, ChargeStanding, ChosenAllocation, Funds, Held, draw_advance,
    pair, release, spread,
};
pub use charge::{
    AppliedDiscount, AppliedDiscountKind, Charge, ChargeOrder, ChargeOrigin, NewAppointmentCharge,
    NewCharge, PackageCover, PackageId, PatientPackage, Quantity,
};
pub use correction::{Correction, CorrectionId, CorrectionKind, CreditNoteNumber, NewCorrection};
pub use daily_close::{
    ClosedDay, DailyClose, DayFigures, DrawerCloseSummary, Flow, IncomeMethod, OutstandingAccount,
    PackageSales, ProviderIncome, ReportRow, ServiceIncome, Tally, decimal,
};
pub use drawer::{
    CashCount, CashMovement, CashMovementId, CloseDrawer, CloseRefusal, CountLine, CountLineError,
    Denomination, DenominationKind, DrawerClosing, DrawerSession, DrawerSessionId, DrawerState,
    DrawerTotals, DrawerView, MovementCategory, MovementDirection, NewCashMovement, OpenDrawer,
    OpeningMismatch, TerminalId, decide_close, denominations, optional_reason,
};
pub use error::BillingError;
pub use identity::{IdentityEvidence, PhoneLastFour};
pub use invoice::{
    CreditedInvoice, FiscalData, Invoice, InvoiceId, InvoiceStamp, InvoiceSubject, MoneyPart,
    PaidLine, ReceiptDocument, daily_period, payment_concepts, payment_form, public_receptor,
    public_sale,
};
pub use ledger::{
    AccountBalance, LedgerEntry, LedgerEntryKind, LedgerPage, LedgerSource, ledger_page_size,
};
pub use payment::{
    AuthorizationCode, CardLastFour, CardType, NewPayment, Payment, PaymentMethod, PaymentPart,
    ReceiptNumber, StoredPart, TransferReference, payment_total,
};
pub use price_list::{
    ItemDescription, NewPriceListItem, PackageTerms, PriceCode, PriceListItem, PriceListItemKind,
    SatCodes, parse_unit_price,
};
pub use promotion::{
    AdHocDiscount, DiscountRequest, NewPromotion, Promotion, PromotionCode, PromotionDiscount,
    percent_of,
};
pub use receipt::{LineStyle, RECEIPT_WIDTH, Receipt, ReceiptFormat, money as format_money};
pub use refund::{NewRefund, Refund, RefundId, refundable_remainder};
pub use report_words::ReportLanguage;
pub use statement::{Statement, StatementDetail, StatementEntry, UnpaidPatient, statement_span};

/// The calls whose `request_id` makes them idempotent. Keys are scoped per operation, so one
/// key may name a charge and a payment without them being confused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreatePriceListItem,
    PostCharge,
    PostPayment,
    OpenCashDrawer,
    RecordCashMovement,
    CloseCashDrawer,
    RefundPayment,
    PostAdjustment,
    IssueCreditNote,
    WriteOffCharge,
    CreatePromotion,
    PostAppointmentCharge,
    IssueInvoice,
    IssueGlobalInvoice,
    IssueChargesInvoice,
    IssueCreditNoteInvoice,
    IssuePaymentComplement,
}

impl Operation {
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::CreatePriceListItem => "create_price_list_item",
            Operation::PostCharge => "post_charge",
            Operation::PostPayment => "post_payment",
            Operation::OpenCashDrawer => "open_cash_drawer",
            Operation::RecordCashMovement => "record_cash_movement",
            Operation::CloseCashDrawer => "close_cash_drawer",
            Operation::RefundPayment => "refund_payment",
            Operation::PostAdjustment => "post_adjustment",
            Operation::IssueCreditNote => "issue_credit_note",
            Operation::WriteOffCharge => "write_off_charge",
            Operation::CreatePromotion => "create_promotion",
            Operation::PostAppointmentCharge => "post_appointment_charge",
            Operation::IssueInvoice => "issue_invoice",
            Operation::IssueGlobalInvoice => "issue_global_invoice",
            Operation::IssueChargesInvoice => "issue_charges_invoice",
            Operation::IssueCreditNoteInvoice => "issue_credit_note_invoice",
            Operation::IssuePaymentComplement => "issue_payment_complement",
        }
    }
}
