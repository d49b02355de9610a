//! CFDI invoices: what each kind of invoice request names, and invoices and pending payment
//! complements on the wire.

use crate::app::PendingComplement;
use chrono::NaiveDate;
use clinic_common::ids::{ChargeId, PatientId, PaymentId, RequestId};
use clinic_common::validation::{FieldViolations, echo};
use clinic_proto::billing::v1 as pb;
use clinic_proto::timestamp_to_proto;
use clinic_proto::{date_to_proto, money_to_proto};

use super::{Reading, report_day};

pub fn invoice_request(
    request: &pb::IssueInvoiceRequest,
) -> Result<(PaymentId, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let payment_id = violations.check(
        "payment_id",
        PaymentId::parse(&request.payment_id).map_err(|_| "must be a payment id (UUID)"),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (payment_id, request_id) {
        (Some(payment_id), Some(request_id)) if violations.is_empty() => {
            Ok((payment_id, request_id))
        }
        _ => Err(violations),
    }
}

pub fn global_invoice_request(
    request: &pb::IssueGlobalInvoiceRequest,
    reading: &Reading,
) -> Result<(NaiveDate, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let day = report_day(request.day.as_ref(), reading, &mut violations);
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (day, request_id) {
        (Some(day), Some(request_id)) if violations.is_empty() => Ok((day, request_id)),
        _ => Err(violations),
    }
}

pub fn invoice_to_proto(invoice: &crate::domain::Invoice) -> pb::Invoice {
    let mut proto = pb::Invoice {
        invoice_id: invoice.invoice_id.to_string(),
        series: invoice.series.clone(),
        folio: invoice.folio,
        receptor_rfc: invoice.receptor_rfc.clone(),
        total: Some(money_to_proto(invoice.total)),
        certificate_number: invoice.certificate_number.clone(),
        cadena_original: invoice.cadena_original.clone(),
        xml: invoice.xml.clone(),
        status: pb::InvoiceStatus::Sealed.into(),
        created_by: invoice.created_by.clone(),
        create_time: Some(timestamp_to_proto(invoice.created_at)),
        ..Default::default()
    };
    if let Some(stamp) = &invoice.stamp {
        proto.set_status(pb::InvoiceStatus::Stamped);
        proto.xml = stamp.xml.clone();
        proto.uuid = stamp.uuid.clone();
        proto.stamp_time = stamp.stamped_at.clone();
        proto.pac_rfc = stamp.pac_rfc.clone();
        proto.sat_certificate_number = stamp.sat_certificate_number.clone();
    }
    match &invoice.subject {
        crate::domain::InvoiceSubject::Payment(payment_id) => {
            proto.set_kind(pb::InvoiceKind::Payment);
            proto.payment_id = payment_id.to_string();
            proto.payment_ids = vec![payment_id.to_string()];
        }
        crate::domain::InvoiceSubject::Global { day, payments } => {
            proto.set_kind(pb::InvoiceKind::Global);
            proto.day = Some(date_to_proto(*day));
            proto.payment_ids = payments.iter().map(ToString::to_string).collect();
        }
        crate::domain::InvoiceSubject::Charges(charges) => {
            proto.set_kind(pb::InvoiceKind::Charges);
            proto.charge_ids = charges.iter().map(|(id, _)| id.to_string()).collect();
        }
        crate::domain::InvoiceSubject::CreditNote {
            correction_id,
            related,
        } => {
            proto.set_kind(pb::InvoiceKind::CreditNote);
            proto.correction_id = correction_id.to_string();
            proto.related_invoice_id = related.to_string();
        }
        crate::domain::InvoiceSubject::PaymentReceipt {
            payment_id,
            documents,
        } => {
            proto.set_kind(pb::InvoiceKind::PaymentComplement);
            proto.payment_id = payment_id.to_string();
            proto.payment_ids = vec![payment_id.to_string()];
            proto.paid_invoice_ids = documents
                .iter()
                .map(|document| document.invoice_id.to_string())
                .collect();
        }
    }
    proto
}

pub fn charges_invoice_request(
    request: &pb::IssueChargesInvoiceRequest,
) -> Result<(PatientId, Vec<ChargeId>, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let patient_id = violations.check(
        "patient_id",
        PatientId::parse(&request.patient_id).map_err(|_| "must be a patient id (UUID)"),
    );
    let mut charge_ids = Vec::with_capacity(request.charge_ids.len());
    for text in &request.charge_ids {
        match ChargeId::parse(text) {
            Ok(charge_id) if !charge_ids.contains(&charge_id) => charge_ids.push(charge_id),
            Ok(_) => violations.add("charge_ids", format!("{} is named twice", echo(text))),
            Err(_) => violations.add(
                "charge_ids",
                format!("{} is not a charge id (UUID)", echo(text)),
            ),
        }
    }
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (patient_id, request_id) {
        (Some(patient_id), Some(request_id)) if violations.is_empty() => {
            Ok((patient_id, charge_ids, request_id))
        }
        _ => Err(violations),
    }
}

pub fn credit_note_invoice_request(
    request: &pb::IssueCreditNoteInvoiceRequest,
) -> Result<(crate::domain::CorrectionId, RequestId), FieldViolations> {
    let mut violations = FieldViolations::new();
    let correction_id = violations.check(
        "correction_id",
        crate::domain::CorrectionId::parse(&request.correction_id),
    );
    let request_id = violations.check("request_id", RequestId::parse(&request.request_id));
    match (correction_id, request_id) {
        (Some(correction_id), Some(request_id)) if violations.is_empty() => {
            Ok((correction_id, request_id))
        }
        _ => Err(violations),
    }
}

pub fn payment_complement_request(
    request: &pb::IssuePaymentComplementRequest,
) -> Result<(PaymentId, RequestId), FieldViolations> {
    invoice_request(&pb::IssueInvoiceRequest {
        payment_id: request.payment_id.clone(),
        request_id: request.request_id.clone(),
    })
}

pub fn pending_complement_to_proto(payment: &PendingComplement) -> pb::PendingPaymentComplement {
    pb::PendingPaymentComplement {
        payment_id: payment.payment_id.to_string(),
        patient_id: payment.patient_id.to_string(),
        receipt_number: payment.receipt_number.to_string(),
        paid_on: Some(date_to_proto(payment.paid_on)),
        amount: Some(money_to_proto(payment.amount)),
        deadline: Some(date_to_proto(payment.deadline)),
        overdue: payment.overdue,
        invoice_ids: payment
            .invoice_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}
