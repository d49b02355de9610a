//! Receipts: which payment's receipt, in which format.

use clinic_common::ids::PaymentId;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;

use crate::domain::ReceiptFormat;

/// The payment and format a `RenderReceipt` asks for.
pub fn receipt_request(
    request: &pb::RenderReceiptRequest,
) -> Result<(PaymentId, ReceiptFormat), FieldViolations> {
    let mut violations = FieldViolations::new();
    let payment_id = violations.check(
        "payment_id",
        PaymentId::parse(&request.payment_id).map_err(|_| "must be a payment id (UUID)"),
    );
    let format = match pb::ReceiptFormat::try_from(request.format) {
        Ok(pb::ReceiptFormat::Escpos) => Some(ReceiptFormat::Escpos),
        Ok(pb::ReceiptFormat::Pdf) => Some(ReceiptFormat::Pdf),
        Ok(pb::ReceiptFormat::Unspecified) | Err(_) => {
            violations.add("format", "is required: escpos or pdf");
            None
        }
    };
    match (payment_id, format) {
        (Some(payment_id), Some(format)) if violations.is_empty() => Ok((payment_id, format)),
        _ => Err(violations),
    }
}
