//! Billing over gRPC: each handler checks the caller's role, converts the request into a domain
//! command (`convert`), calls one function of the application layer (`crate::app`) or, for a
//! plain read or write, of the store, and converts the result back. Errors become statuses in
//! one place (`error`).

mod convert;
mod error;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use clinic_common::auth::{Caller, Role, authorize};
use clinic_common::clock::SharedClock;
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::billing_service_server::BillingService;
use clinic_proto::{next_page_token, page_from_proto};
use tonic::{Request, Response, Status};

use crate::app::Billing;
use crate::config::Settings;
use crate::domain::{BillingError, DrawerView, Invoice, InvoiceId, NewCorrection};
use crate::store::BillingStore;

use convert::{
    DrawerQuery, Reading, cash_movement_to_proto, charge_to_proto, drawer_session_to_proto,
    payment_to_proto, price_list_item_to_proto,
};

/// Who runs the cash desk.
const CASH_DESK: &[Role] = &[Role::Reception, Role::Manager];

/// Who corrects charges after they were posted: a manager, or another service on its own
/// behalf (collections answering a dispute).
const CORRECTORS: &[Role] = &[Role::Manager, Role::Service];

const PRICE_LIST_PAGE_DEFAULT: u32 = 100;
const PRICE_LIST_PAGE_MAX: u32 = 500;

const UNPAID_PAGE_DEFAULT: u32 = 100;
const UNPAID_PAGE_MAX: u32 = 500;

/// How a caller's requests are read: kiosks identify the patient and pay by card only.
fn channel_of(caller: &Caller) -> convert::Channel {
    if caller.role == Role::Kiosk {
        convert::Channel::Kiosk
    } else {
        convert::Channel::Staff
    }
}

/// An invoice as the answer to the call that issued it, its id recorded on the call's span.
fn invoice_response(invoice: &Invoice) -> Response<pb::Invoice> {
    tracing::Span::current().record("invoice_id", tracing::field::display(invoice.invoice_id));
    Response::new(convert::invoice_to_proto(invoice))
}

/// Implements `clinic.billing.v1.BillingService`.
pub struct BillingGrpc {
    /// For plain reads and writes, which need nothing else.
    store: BillingStore,
    billing: Billing,
    clock: SharedClock,
    settings: Arc<Settings>,
}

impl BillingGrpc {
    pub fn new(
        store: BillingStore,
        billing: Billing,
        clock: SharedClock,
        settings: Arc<Settings>,
    ) -> Self {
        BillingGrpc {
            store,
            billing,
            clock,
            settings,
        }
    }

    /// How requests are read at `now`: "today" in the clinic's zone, in the clinic's currency.
    fn reading(&self, now: DateTime<Utc>) -> Reading {
        Reading {
            today: local_date(now, self.settings.clinic.time_zone),
            currency: self.settings.clinic.currency,
        }
    }

    /// Posts a correction of a charge for `caller` and answers with it.
    async fn correct(
        &self,
        caller: &Caller,
        new: NewCorrection,
        now: DateTime<Utc>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        tracing::Span::current().record("charge_id", tracing::field::display(new.charge_id));
        let correction = self.billing.correct(caller, new, now).await?;
        tracing::Span::current().record(
            "correction_id",
            tracing::field::display(correction.correction_id),
        );
        Ok(Response::new(convert::correction_to_proto(&correction)))
    }
}

#[tonic::async_trait]
impl BillingService for BillingGrpc {
    #[tracing::instrument(skip_all, fields(price_code))]
    async fn create_price_list_item(
        &self,
        request: Request<pb::CreatePriceListItemRequest>,
    ) -> Result<Response<pb::PriceListItem>, Status> {
        authorize(&request, &[Role::Manager, Role::Service])?;
        let now = self.clock.now();
        let new = convert::new_price_list_item(request.into_inner(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("price_code", new.code.as_str());
        let item = self.store.create_price_list_item(&new, now).await?;
        Ok(Response::new(price_list_item_to_proto(&item)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_price_list_items(
        &self,
        request: Request<pb::ListPriceListItemsRequest>,
    ) -> Result<Response<pb::ListPriceListItemsResponse>, Status> {
        authorize(
            &request,
            &[
                Role::Reception,
                Role::Manager,
                Role::Collections,
                Role::Service,
                Role::Kiosk,
            ],
        )?;
        let (size, offset) = page_from_proto(
            request.get_ref().page.as_ref(),
            PRICE_LIST_PAGE_DEFAULT,
            PRICE_LIST_PAGE_MAX,
        )
        .map_err(|error| BillingError::from(FieldViolations::single("page", error)))?;
        let items = self.store.list_price_list_items(size, offset).await?;
        Ok(Response::new(pb::ListPriceListItemsResponse {
            next_page_token: next_page_token(offset, size, items.len()),
            items: items.iter().map(price_list_item_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id, charge_id))]
    async fn post_charge(
        &self,
        request: Request<pb::PostChargeRequest>,
    ) -> Result<Response<pb::Charge>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        // One reading of the clock, so the default service date and the timestamp agree.
        let now = self.clock.now();
        let (new, manager_token) = convert::new_charge(request.into_inner(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(new.patient_id));
        let charge = self
            .billing
            .post_charge(&caller, new, manager_token.as_deref(), now)
            .await?;
        tracing::Span::current().record("charge_id", tracing::field::display(charge.charge_id));
        Ok(Response::new(charge_to_proto(&charge)))
    }

    #[tracing::instrument(skip_all, fields(patient_id, payment_id))]
    async fn post_payment(
        &self,
        request: Request<pb::PostPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        let caller = authorize(
            &request,
            &[
                Role::Reception,
                Role::Manager,
                Role::Collections,
                Role::Kiosk,
            ],
        )?;
        let now = self.clock.now();
        let (new, identity) = convert::new_payment(
            request.into_inner(),
            &self.reading(now),
            channel_of(&caller),
        )
        .map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(new.patient_id));
        let payment = self
            .billing
            .post_payment(&caller, new, identity, now)
            .await?;
        tracing::Span::current().record("payment_id", tracing::field::display(payment.payment_id));
        Ok(Response::new(payment_to_proto(&payment)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn get_account_balance(
        &self,
        request: Request<pb::GetAccountBalanceRequest>,
    ) -> Result<Response<pb::AccountBalance>, Status> {
        let caller = authorize(
            &request,
            &[
                Role::Reception,
                Role::Manager,
                Role::Collections,
                Role::Service,
                Role::Kiosk,
            ],
        )?;
        let (patient_id, identity) =
            convert::balance_request(request.get_ref(), channel_of(&caller))
                .map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let account = self.billing.account_balance(patient_id, identity).await?;
        let account = convert::account_balance_to_proto(&account).map_err(BillingError::from)?;
        Ok(Response::new(account))
    }

    #[tracing::instrument(skip_all, fields(after_sequence))]
    async fn list_ledger_entries(
        &self,
        request: Request<pb::ListLedgerEntriesRequest>,
    ) -> Result<Response<pb::ListLedgerEntriesResponse>, Status> {
        authorize(&request, &[Role::Service, Role::Manager])?;
        let (after_sequence, page_size) =
            convert::ledger_query(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("after_sequence", after_sequence);
        let page = self.store.ledger_page(after_sequence, page_size).await?;
        Ok(Response::new(convert::ledger_page_to_proto(&page)))
    }

    #[tracing::instrument(skip_all, fields(terminal_id, session_id))]
    async fn open_cash_drawer(
        &self,
        request: Request<pb::OpenCashDrawerRequest>,
    ) -> Result<Response<pb::CashDrawerSession>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let open = convert::open_drawer(request.into_inner(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("terminal_id", open.terminal_id.as_str());
        let session = self.store.open_drawer(&open, &caller.subject, now).await?;
        tracing::Span::current().record("session_id", tracing::field::display(session.session_id));
        tracing::info!("cash drawer opened");
        Ok(Response::new(
            drawer_session_to_proto(&session, DrawerView::for_caller(&caller))
                .map_err(BillingError::from)?,
        ))
    }

    #[tracing::instrument(skip_all, fields(terminal_id, movement_id))]
    async fn record_cash_movement(
        &self,
        request: Request<pb::RecordCashMovementRequest>,
    ) -> Result<Response<pb::CashMovement>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let new = convert::new_cash_movement(request.into_inner(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("terminal_id", new.terminal_id.as_str());
        let movement = self
            .store
            .record_cash_movement(&new, &caller.subject, now)
            .await?;
        tracing::Span::current()
            .record("movement_id", tracing::field::display(movement.movement_id));
        tracing::info!("cash movement recorded");
        Ok(Response::new(cash_movement_to_proto(&movement)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_cash_drawer(
        &self,
        request: Request<pb::GetCashDrawerRequest>,
    ) -> Result<Response<pb::CashDrawerSession>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let query = convert::drawer_query(request.get_ref()).map_err(BillingError::from)?;
        let session = match query {
            DrawerQuery::Session(session_id) => self
                .store
                .drawer_session(session_id)
                .await?
                .ok_or(BillingError::DrawerSessionNotFound(session_id))?,
            DrawerQuery::Terminal(terminal_id) => self
                .store
                .current_drawer(&terminal_id)
                .await?
                .ok_or(BillingError::NoCurrentDrawer(terminal_id))?,
        };
        Ok(Response::new(
            drawer_session_to_proto(&session, DrawerView::for_caller(&caller))
                .map_err(BillingError::from)?,
        ))
    }

    #[tracing::instrument(skip_all, fields(terminal_id, session_id))]
    async fn close_cash_drawer(
        &self,
        request: Request<pb::CloseCashDrawerRequest>,
    ) -> Result<Response<pb::CashDrawerSession>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let close = convert::close_drawer(request.into_inner(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("terminal_id", close.terminal_id.as_str());
        let session = self.billing.close_drawer(&caller, close, now).await?;
        tracing::Span::current().record("session_id", tracing::field::display(session.session_id));
        Ok(Response::new(
            drawer_session_to_proto(&session, DrawerView::for_caller(&caller))
                .map_err(BillingError::from)?,
        ))
    }

    #[tracing::instrument(skip_all, fields(session_id))]
    async fn approve_cash_drawer_close(
        &self,
        request: Request<pb::ApproveCashDrawerCloseRequest>,
    ) -> Result<Response<pb::CashDrawerSession>, Status> {
        let caller = authorize(&request, &[Role::Manager])?;
        let session_id = convert::session_id(&request.get_ref().session_id)
            .map_err(|error| BillingError::from(FieldViolations::single("session_id", error)))?;
        tracing::Span::current().record("session_id", tracing::field::display(session_id));
        let session = self
            .store
            .approve_close(session_id, &caller.subject, self.clock.now())
            .await?;
        tracing::info!("cash drawer close approved");
        Ok(Response::new(
            drawer_session_to_proto(&session, DrawerView::for_caller(&caller))
                .map_err(BillingError::from)?,
        ))
    }

    #[tracing::instrument(skip_all, fields(payment_id))]
    async fn render_receipt(
        &self,
        request: Request<pb::RenderReceiptRequest>,
    ) -> Result<Response<pb::RenderedReceipt>, Status> {
        authorize(
            &request,
            &[Role::Reception, Role::Manager, Role::Collections],
        )?;
        let (payment_id, format) =
            convert::receipt_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("payment_id", tracing::field::display(payment_id));
        let rendered = self.billing.render_receipt(payment_id, format).await?;
        Ok(Response::new(pb::RenderedReceipt {
            content: rendered.content,
            content_type: format.content_type().to_owned(),
            receipt_number: rendered.receipt_number,
        }))
    }

    #[tracing::instrument(skip_all, fields(payment_id, refund_id))]
    async fn refund_payment(
        &self,
        request: Request<pb::RefundPaymentRequest>,
    ) -> Result<Response<pb::Refund>, Status> {
        let caller = authorize(&request, &[Role::Manager])?;
        let now = self.clock.now();
        let new = convert::new_refund(request.into_inner(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("payment_id", tracing::field::display(new.payment_id));
        let refund = self.billing.refund_payment(&caller, new, now).await?;
        tracing::Span::current().record("refund_id", tracing::field::display(refund.refund_id));
        Ok(Response::new(convert::refund_to_proto(&refund)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_unpaid_today(
        &self,
        request: Request<pb::ListUnpaidTodayRequest>,
    ) -> Result<Response<pb::ListUnpaidTodayResponse>, Status> {
        authorize(&request, CASH_DESK)?;
        let (size, offset) = page_from_proto(
            request.get_ref().page.as_ref(),
            UNPAID_PAGE_DEFAULT,
            UNPAID_PAGE_MAX,
        )
        .map_err(|error| BillingError::from(FieldViolations::single("page", error)))?;
        let reading = self.reading(self.clock.now());
        let unpaid = self
            .store
            .unpaid_today(reading.today, size, offset, reading.currency)
            .await?;
        let mut patients = Vec::with_capacity(unpaid.len());
        for patient in &unpaid {
            patients.push(convert::unpaid_patient_to_proto(patient).map_err(BillingError::from)?);
        }
        Ok(Response::new(pb::ListUnpaidTodayResponse {
            next_page_token: next_page_token(offset, size, unpaid.len()),
            patients,
            day: Some(clinic_proto::date_to_proto(reading.today)),
        }))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Result<Response<pb::Statement>, Status> {
        authorize(
            &request,
            &[Role::Reception, Role::Manager, Role::Collections],
        )?;
        let (patient_id, from, to) =
            convert::statement_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        // No registry call, as for the balance: a patient billing has never seen owes nothing.
        let statement = self
            .store
            .statement(patient_id, from, to, self.settings.clinic.currency)
            .await?;
        Ok(Response::new(convert::statement_to_proto(&statement)))
    }

    #[tracing::instrument(skip_all, fields(day))]
    async fn get_daily_close(
        &self,
        request: Request<pb::GetDailyCloseRequest>,
    ) -> Result<Response<pb::DailyClose>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let day = convert::daily_close_day(request.get_ref(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        let close = self.billing.daily_close(&caller, day, now).await?;
        Ok(Response::new(
            convert::daily_close_to_proto(&close, DrawerView::for_caller(&caller))
                .map_err(BillingError::from)?,
        ))
    }

    #[tracing::instrument(skip_all, fields(day))]
    async fn export_daily_close(
        &self,
        request: Request<pb::ExportDailyCloseRequest>,
    ) -> Result<Response<pb::ExportedReport>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let (day, format, language) =
            convert::export_request(request.get_ref(), &self.reading(now))
                .map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        let report = self
            .billing
            .export_daily_close(&caller, day, (format, language), now)
            .await?;
        Ok(Response::new(pb::ExportedReport {
            content: report.content,
            content_type: format.content_type().to_owned(),
            file_name: report.file_name,
        }))
    }

    #[tracing::instrument(skip_all, fields(charge_id, correction_id))]
    async fn post_adjustment(
        &self,
        request: Request<pb::PostAdjustmentRequest>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        let caller = authorize(&request, CORRECTORS)?;
        let now = self.clock.now();
        let new = convert::new_adjustment(request.get_ref(), &self.reading(now))
            .map_err(BillingError::from)?;
        self.correct(&caller, new, now).await
    }

    #[tracing::instrument(skip_all, fields(charge_id, correction_id))]
    async fn issue_credit_note(
        &self,
        request: Request<pb::IssueCreditNoteRequest>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        let caller = authorize(&request, CORRECTORS)?;
        let now = self.clock.now();
        let new = convert::new_credit_note(request.get_ref(), &self.reading(now))
            .map_err(BillingError::from)?;
        self.correct(&caller, new, now).await
    }

    #[tracing::instrument(skip_all, fields(charge_id, correction_id))]
    async fn write_off_charge(
        &self,
        request: Request<pb::WriteOffChargeRequest>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        let caller = authorize(&request, CORRECTORS)?;
        let now = self.clock.now();
        let new = convert::new_write_off(request.get_ref(), &self.reading(now))
            .map_err(BillingError::from)?;
        self.correct(&caller, new, now).await
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn list_open_charges(
        &self,
        request: Request<pb::ListOpenChargesRequest>,
    ) -> Result<Response<pb::ListOpenChargesResponse>, Status> {
        authorize(
            &request,
            &[
                Role::Reception,
                Role::Manager,
                Role::Collections,
                Role::Service,
            ],
        )?;
        let patient_id = convert::patient_id(&request.get_ref().patient_id)
            .map_err(|error| BillingError::from(FieldViolations::single("patient_id", error)))?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let open = self
            .store
            .open_charges(patient_id, self.settings.clinic.currency)
            .await?;
        Ok(Response::new(
            convert::open_charges_to_proto(&open).map_err(BillingError::from)?,
        ))
    }

    #[tracing::instrument(skip_all, fields(day))]
    async fn close_day(
        &self,
        request: Request<pb::CloseDayRequest>,
    ) -> Result<Response<pb::ClosedDay>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let day = convert::close_day_request(request.get_ref(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        let closed = self.billing.close_day(&caller, day, now).await?;
        Ok(Response::new(convert::closed_day_to_proto(&closed)))
    }

    #[tracing::instrument(skip_all, fields(appointment_id, charge_id))]
    async fn post_appointment_charge(
        &self,
        request: Request<pb::PostAppointmentChargeRequest>,
    ) -> Result<Response<pb::Charge>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let now = self.clock.now();
        let asked = convert::appointment_charge(request.get_ref(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record(
            "appointment_id",
            tracing::field::display(asked.appointment_id),
        );
        let charge = self
            .billing
            .post_appointment_charge(&caller, asked, now)
            .await?;
        tracing::Span::current().record("charge_id", tracing::field::display(charge.charge_id));
        Ok(Response::new(charge_to_proto(&charge)))
    }

    #[tracing::instrument(skip_all, fields(patient_id))]
    async fn list_patient_packages(
        &self,
        request: Request<pb::ListPatientPackagesRequest>,
    ) -> Result<Response<pb::ListPatientPackagesResponse>, Status> {
        authorize(
            &request,
            &[
                Role::Reception,
                Role::Manager,
                Role::Collections,
                Role::Service,
            ],
        )?;
        let patient_id = convert::patient_id(&request.get_ref().patient_id)
            .map_err(|error| BillingError::from(FieldViolations::single("patient_id", error)))?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let packages = self.store.patient_packages(patient_id).await?;
        Ok(Response::new(pb::ListPatientPackagesResponse {
            packages: packages
                .iter()
                .map(convert::patient_package_to_proto)
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(promotion_code))]
    async fn create_promotion(
        &self,
        request: Request<pb::CreatePromotionRequest>,
    ) -> Result<Response<pb::Promotion>, Status> {
        let caller = authorize(&request, &[Role::Manager])?;
        let now = self.clock.now();
        let new = convert::new_promotion(request.get_ref(), &self.reading(now))
            .map_err(BillingError::from)?;
        tracing::Span::current().record("promotion_code", new.code.as_str());
        let promotion = self
            .store
            .create_promotion(&new, self.settings.clinic.currency, &caller.subject, now)
            .await?;
        tracing::info!("promotion created");
        Ok(Response::new(convert::promotion_to_proto(&promotion)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_promotions(
        &self,
        request: Request<pb::ListPromotionsRequest>,
    ) -> Result<Response<pb::ListPromotionsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let active_on = match request.get_ref().active_on.as_ref() {
            None => None,
            Some(day) => Some(clinic_proto::date_from_proto(Some(day)).map_err(|error| {
                BillingError::from(FieldViolations::single("active_on", error))
            })?),
        };
        let promotions = self.store.promotions(active_on).await?;
        Ok(Response::new(pb::ListPromotionsResponse {
            promotions: promotions.iter().map(convert::promotion_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(payment_id, invoice_id))]
    async fn issue_invoice(
        &self,
        request: Request<pb::IssueInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let (payment_id, request_id) =
            convert::invoice_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("payment_id", tracing::field::display(payment_id));
        let invoice = self
            .billing
            .issue_invoice(&caller, payment_id, request_id, self.clock.now())
            .await?;
        Ok(invoice_response(&invoice))
    }

    #[tracing::instrument(skip_all, fields(day, invoice_id))]
    async fn issue_global_invoice(
        &self,
        request: Request<pb::IssueGlobalInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let (day, request_id) =
            convert::global_invoice_request(request.get_ref(), &self.reading(now))
                .map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        let invoice = self
            .billing
            .issue_global_invoice(&caller, day, request_id, now)
            .await?;
        Ok(invoice_response(&invoice))
    }

    #[tracing::instrument(skip_all, fields(invoice_id))]
    async fn get_invoice(
        &self,
        request: Request<pb::GetInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        authorize(
            &request,
            &[Role::Reception, Role::Manager, Role::Collections],
        )?;
        let invoice_id = InvoiceId::parse(&request.get_ref().invoice_id)
            .map_err(|error| BillingError::from(FieldViolations::single("invoice_id", error)))?;
        tracing::Span::current().record("invoice_id", tracing::field::display(invoice_id));
        let invoice = self.billing.invoice(invoice_id).await?;
        Ok(Response::new(convert::invoice_to_proto(&invoice)))
    }

    #[tracing::instrument(skip_all, fields(patient_id, invoice_id))]
    async fn issue_charges_invoice(
        &self,
        request: Request<pb::IssueChargesInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let (patient_id, charge_ids, request_id) =
            convert::charges_invoice_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let invoice = self
            .billing
            .issue_charges_invoice(
                &caller,
                patient_id,
                charge_ids,
                request_id,
                self.clock.now(),
            )
            .await?;
        Ok(invoice_response(&invoice))
    }

    #[tracing::instrument(skip_all, fields(correction_id, invoice_id))]
    async fn issue_credit_note_invoice(
        &self,
        request: Request<pb::IssueCreditNoteInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let (correction_id, request_id) =
            convert::credit_note_invoice_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("correction_id", tracing::field::display(correction_id));
        let invoice = self
            .billing
            .issue_credit_note_invoice(&caller, correction_id, request_id, self.clock.now())
            .await?;
        Ok(invoice_response(&invoice))
    }

    #[tracing::instrument(skip_all, fields(payment_id, invoice_id))]
    async fn issue_payment_complement(
        &self,
        request: Request<pb::IssuePaymentComplementRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let (payment_id, request_id) =
            convert::payment_complement_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("payment_id", tracing::field::display(payment_id));
        let invoice = self
            .billing
            .issue_payment_complement(&caller, payment_id, request_id, self.clock.now())
            .await?;
        Ok(invoice_response(&invoice))
    }

    #[tracing::instrument(skip_all)]
    async fn list_pending_payment_complements(
        &self,
        request: Request<pb::ListPendingPaymentComplementsRequest>,
    ) -> Result<Response<pb::ListPendingPaymentComplementsResponse>, Status> {
        authorize(&request, CASH_DESK)?;
        let pending = self.billing.pending_complements(self.clock.now()).await?;
        Ok(Response::new(pb::ListPendingPaymentComplementsResponse {
            payments: pending
                .iter()
                .map(convert::pending_complement_to_proto)
                .collect(),
        }))
    }
}
