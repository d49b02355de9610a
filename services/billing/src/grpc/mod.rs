//! Billing over gRPC: each handler checks the caller's role, converts the request into a domain
//! command, runs it (asking the patient registry where a patient must exist) and converts the
//! result back.

mod convert;
mod error;
mod registry;
mod scheduling;

use std::sync::Arc;

use chrono::{DateTime, Timelike, Utc};
use clinic_common::auth::Caller;
use clinic_common::auth::{Role, TokenKey, authorize};
use clinic_common::clock::SharedClock;
use clinic_common::time::{day_span, local_date};
use clinic_common::validation::FieldViolations;
use clinic_proto::billing::v1 as pb;
use clinic_proto::billing::v1::billing_service_server::BillingService;
use clinic_proto::{next_page_token, page_from_proto};
use tonic::{Request, Response, Status};

use crate::config::Settings;
use crate::domain::cfdi;
use crate::domain::pagos::{InvoiceTaxes, PaidDocument, PaymentReceived, complement_deadline};
use crate::domain::{
    BillingError, ChargeOrder, ChargeOrigin, DailyClose, DiscountRequest, IdentityEvidence,
    NewCharge, NewCorrection, Operation, PriceListItem, PriceListItemKind, Receipt, ReceiptFormat,
};
use crate::domain::{Invoice, InvoiceStamp, PaidLine, ReceiptDocument};
use crate::domain::{InvoiceSubject, MoneyPart, payment_concepts, payment_form, public_sale};
use crate::pac::Pac;
use crate::seal::Csd;
use crate::store::{BillingStore, InvoiceDraft, Sealed};

pub use registry::PatientRegistry;
pub use scheduling::Scheduling;

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

/// What a CFDI says besides its issuer, series, folio and date.
struct Document {
    document_type: cfdi::DocumentType,
    receptor: cfdi::Receptor,
    global: Option<cfdi::GlobalPeriod>,
    related: Option<cfdi::Related>,
    payment_form: Option<String>,
    payment_method: Option<String>,
    concepts: Vec<cfdi::Concept>,
    payment: Option<PaymentReceived>,
}

/// Implements `clinic.billing.v1.BillingService`.
pub struct BillingGrpc {
    store: BillingStore,
    registry: PatientRegistry,
    scheduling: Scheduling,
    /// Checks the manager tokens given to authorise discounts.
    key: TokenKey,
    /// The clinic's CSD, when it issues invoices.
    csd: Option<Arc<Csd>>,
    /// Who stamps them, when configured.
    pac: Option<Arc<dyn Pac>>,
    clock: SharedClock,
    settings: Arc<Settings>,
}

impl BillingGrpc {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: BillingStore,
        registry: PatientRegistry,
        scheduling: Scheduling,
        key: TokenKey,
        csd: Option<Arc<Csd>>,
        pac: Option<Arc<dyn Pac>>,
        clock: SharedClock,
        settings: Arc<Settings>,
    ) -> Self {
        BillingGrpc {
            store,
            registry,
            scheduling,
            key,
            csd,
            pac,
            clock,
            settings,
        }
    }

    /// Gathers what a charge is priced from: its promotion (which must apply to the item on the
    /// charge's day) and, for an ad hoc discount above the clinic's limit, the manager who
    /// authorised it: the caller, or the owner of the manager token given.
    async fn charge_order(
        &self,
        caller: &Caller,
        new: NewCharge,
        item: PriceListItem,
        manager_token: Option<&str>,
        origin: ChargeOrigin,
        now: DateTime<Utc>,
    ) -> Result<ChargeOrder, BillingError> {
        let today = self.reading(now).today;
        let promotion = match &new.discount {
            Some(DiscountRequest::Promotion(code)) => self.store.promotion(code).await?,
            _ => None,
        };
        let mut violations = FieldViolations::new();
        if item.kind == PriceListItemKind::Package && new.quantity.get() != 1 {
            violations.add("quantity", "a package is sold one at a time");
        }
        let service_date = new.service_date.unwrap_or(today);
        let mut authorized_by = None;
        match &new.discount {
            None => {}
            Some(DiscountRequest::Promotion(code)) => match &promotion {
                None => violations.add("promotion_code", format!("{code} is not a promotion")),
                Some(promotion) => {
                    if let Some(refusal) = promotion.refusal(&item.code, item.kind, service_date) {
                        violations.add("promotion_code", format!("{code} {refusal}"));
                    }
                }
            },
            Some(DiscountRequest::AdHoc(discount)) => {
                let list = item
                    .unit_price
                    .checked_mul(i64::from(new.quantity.get()))
                    .unwrap_or(item.unit_price);
                if discount.exceeds(self.settings.discount_limit_percent, list) {
                    authorized_by = if caller.role == Role::Manager {
                        Some(caller.subject.clone())
                    } else if let Some(token) = manager_token {
                        match self.key.verify(token, now) {
                            Ok(manager) if manager.role == Role::Manager => Some(manager.subject),
                            _ => {
                                violations
                                    .add("manager_authorization", "is not a valid manager's token");
                                None
                            }
                        }
                    } else {
                        return Err(BillingError::DiscountNeedsManager {
                            limit_percent: self.settings.discount_limit_percent,
                        });
                    };
                }
            }
        }
        violations.into_result()?;
        Ok(ChargeOrder {
            new,
            item,
            promotion,
            authorized_by,
            origin,
            posted_by: caller.subject.clone(),
        })
    }

    /// How requests are read at `now`: "today" in the clinic's zone, in the clinic's currency.
    fn reading(&self, now: DateTime<Utc>) -> Reading {
        Reading {
            today: local_date(now, self.settings.clinic.time_zone),
            currency: self.settings.clinic.currency,
        }
    }

    /// Checks identity evidence given with a request (always given by a kiosk) with the patient
    /// registry. A mismatch says nothing about which part did not match.
    async fn confirm_identity(
        &self,
        patient_id: clinic_common::ids::PatientId,
        evidence: Option<&IdentityEvidence>,
    ) -> Result<(), BillingError> {
        let Some(evidence) = evidence else {
            return Ok(());
        };
        if self.registry.identity_matches(patient_id, evidence).await? {
            Ok(())
        } else {
            tracing::info!("identity evidence did not match");
            Err(BillingError::IdentityNotConfirmed)
        }
    }

    /// The issuer and its CSD, or why invoices cannot be issued.
    fn invoicing(&self) -> Result<(&crate::config::CfdiSettings, &Csd), BillingError> {
        match (&self.settings.cfdi, &self.csd) {
            (Some(cfdi), Some(csd)) => Ok((cfdi, csd)),
            _ => Err(BillingError::NotInvoiceable(
                "invoicing is not configured (billing.cfdi)".into(),
            )),
        }
    }

    /// Builds, seals, numbers and stores `document`, then has the PAC stamp it.
    #[allow(clippy::too_many_arguments)]
    async fn issue(
        &self,
        caller: &Caller,
        operation: Operation,
        request_id: &clinic_common::ids::RequestId,
        fingerprint: String,
        subject: InvoiceSubject,
        document: Document,
        now: DateTime<Utc>,
    ) -> Result<Invoice, BillingError> {
        let (settings, csd) = self.invoicing()?;
        let issued_at = now
            .with_timezone(&self.settings.clinic.time_zone)
            .naive_local();
        let currency = self.settings.clinic.currency;
        let series = match document.document_type {
            cfdi::DocumentType::Ingreso => &settings.series,
            cfdi::DocumentType::Egreso => &settings.credit_note_series,
            cfdi::DocumentType::Pago => &settings.payment_series,
        };
        let build = |folio: i64| cfdi::Comprobante {
            document_type: document.document_type,
            series: series.clone(),
            folio: folio.to_string(),
            issued_at: issued_at.with_nanosecond(0).unwrap_or(issued_at),
            payment_form: document.payment_form.clone(),
            payment_method: document.payment_method.clone(),
            currency: currency.code().to_owned(),
            place_of_issue: settings.place_of_issue.clone(),
            global: document.global.clone(),
            related: document.related.clone(),
            emisor: cfdi::Party {
                rfc: settings.issuer_rfc.clone(),
                name: settings.issuer_name.clone(),
                tax_regime: settings.issuer_tax_regime.clone(),
            },
            receptor: document.receptor.clone(),
            concepts: document.concepts.clone(),
            payment: document.payment.clone(),
        };
        let seal = |folio: i64| {
            let comprobante = build(folio);
            let cadena_original = comprobante.cadena_original(&csd.certificate_number);
            let sello = csd.seal(&cadena_original);
            let totals = comprobante.totals();
            Sealed {
                xml: comprobante.xml(&csd.certificate_number, &csd.certificate, &sello),
                cadena_original,
                total_minor: (totals.total * rust_decimal::Decimal::from(100))
                    .trunc()
                    .try_into()
                    .unwrap_or_default(),
            }
        };
        let invoice = self
            .store
            .issue_invoice(
                &InvoiceDraft {
                    operation,
                    request_id,
                    fingerprint,
                    subject,
                    series,
                    receptor_rfc: &document.receptor.party.rfc,
                    currency,
                    certificate_number: &csd.certificate_number,
                    created_by: &caller.subject,
                    seal: &seal,
                },
                now,
            )
            .await?;
        self.stamped(invoice, now).await
    }

    /// `invoice` stamped by the PAC, when one is configured and it is not stamped yet. When
    /// the PAC does not stamp, the invoice stays sealed and the error says to retry.
    async fn stamped(&self, invoice: Invoice, now: DateTime<Utc>) -> Result<Invoice, BillingError> {
        let Some(pac) = &self.pac else {
            return Ok(invoice);
        };
        if invoice.stamp.is_some() {
            return Ok(invoice);
        }
        let stamped = pac.stamp(&invoice.xml, now).await.map_err(|error| {
            tracing::warn!(error = %error, "the PAC did not stamp an invoice");
            BillingError::PacUnavailable(error.to_string())
        })?;
        let stamp = InvoiceStamp {
            uuid: stamped.uuid,
            stamped_at: stamped.stamped_at,
            pac_rfc: stamped.pac_rfc,
            sat_certificate_number: stamped.sat_certificate_number,
            xml: stamped.xml,
        };
        self.store
            .record_stamp(invoice.invoice_id, &stamp, now)
            .await?;
        tracing::info!(uuid = %stamp.uuid, "invoice stamped");
        self.store
            .invoice(invoice.invoice_id)
            .await?
            .ok_or_else(|| BillingError::InvoiceNotFound(invoice.invoice_id.to_string()))
    }

    /// The invoice a first call with this request id issued, stamped if it was not yet.
    async fn earlier_document(
        &self,
        operation: Operation,
        request_id: &clinic_common::ids::RequestId,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invoice>, BillingError> {
        match self
            .store
            .earlier_invoice(operation, request_id, fingerprint)
            .await?
        {
            Some(invoice) => Ok(Some(self.stamped(invoice, now).await?)),
            None => Ok(None),
        }
    }

    /// The receptor on a patient's invoices: their fiscal data, UsoCFDI D01 unless they named
    /// another.
    async fn patient_receptor(
        &self,
        patient_id: clinic_common::ids::PatientId,
        why: &str,
    ) -> Result<cfdi::Receptor, BillingError> {
        let fiscal = self
            .registry
            .fiscal_data(patient_id)
            .await?
            .ok_or_else(|| {
                BillingError::NotInvoiceable(format!(
                    "the patient has no fiscal data: record it in the patient registry{why}"
                ))
            })?;
        Ok(cfdi::Receptor {
            party: cfdi::Party {
                rfc: fiscal.rfc.clone(),
                name: fiscal.legal_name.clone(),
                tax_regime: fiscal.tax_regime.clone(),
            },
            postal_code: fiscal.postal_code.clone(),
            cfdi_use: if fiscal.cfdi_use.is_empty() {
                "D01".into()
            } else {
                fiscal.cfdi_use.clone()
            },
        })
    }

    /// Posts a correction of a charge for `caller`, or returns the one a first call posted.
    async fn correct(
        &self,
        caller: &Caller,
        new: NewCorrection,
        today: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        tracing::Span::current().record("charge_id", tracing::field::display(new.charge_id));
        // A retry is answered from what the first call stored, before the charge is looked at.
        let correction = match self.store.earlier_correction(&new).await? {
            Some(correction) => correction,
            None => {
                self.store
                    .post_correction(&new, &caller.subject, today, now)
                    .await?
            }
        };
        tracing::Span::current().record(
            "correction_id",
            tracing::field::display(correction.correction_id),
        );
        tracing::info!(kind = correction.kind.as_str(), "charge corrected");
        Ok(Response::new(convert::correction_to_proto(&correction)))
    }

    /// The daily close of `day` for `caller`: reception closes today only, a manager any day.
    async fn daily_close(
        &self,
        caller: &Caller,
        day: chrono::NaiveDate,
        today: chrono::NaiveDate,
    ) -> Result<DailyClose, BillingError> {
        if caller.role != Role::Manager && day != today {
            return Err(BillingError::ReportDayRestricted);
        }
        let (day_start, day_end) = day_span(day, self.settings.clinic.time_zone);
        let figures = self
            .store
            .day_figures(day, day_start, day_end, self.settings.clinic.currency)
            .await?;
        Ok(DailyClose::assemble(figures)?)
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
        let reading = self.reading(now);
        let (new, manager_token) =
            convert::new_charge(request.into_inner(), &reading).map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(new.patient_id));
        let fingerprint = new.fingerprint();

        // A retry is answered from what the first call stored, even while the registry is down.
        if let Some(charge) = self
            .store
            .earlier_charge(Operation::PostCharge, &new.request_id, &fingerprint)
            .await?
        {
            tracing::Span::current().record("charge_id", tracing::field::display(charge.charge_id));
            return Ok(Response::new(charge_to_proto(&charge)));
        }

        // Both lookups are made before reporting, so a request that is wrong in both ways names
        // both fields.
        let item = self.store.price_list_item(&new.price_code).await?;
        let registered = self.registry.is_registered(new.patient_id).await?;
        let mut violations = FieldViolations::new();
        violations.require(registered, "patient_id", "is not a registered patient");
        violations.require(item.is_some(), "price_code", "is not on the price list");
        let item = match item {
            Some(item) if violations.is_empty() => item,
            _ => return Err(BillingError::from(violations).into()),
        };

        let order = self
            .charge_order(
                &caller,
                new,
                item,
                manager_token.as_deref(),
                ChargeOrigin::Counter,
                now,
            )
            .await?;
        let charge = self
            .store
            .post_charge(
                Operation::PostCharge,
                &order,
                &fingerprint,
                reading.today,
                now,
            )
            .await?;
        tracing::Span::current().record("charge_id", tracing::field::display(charge.charge_id));
        tracing::info!("charge posted");
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
        let reading = self.reading(now);
        let (new, identity) =
            convert::new_payment(request.into_inner(), &reading, channel_of(&caller))
                .map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(new.patient_id));
        // Identity first: until it is confirmed, a kiosk learns nothing, not even a retry's answer.
        self.confirm_identity(new.patient_id, identity.as_ref())
            .await?;

        // A retry returns the first payment unchanged and writes nothing, even while the
        // registry is down: the terminal that lost the first answer must be able to print it.
        if let Some(payment) = self
            .store
            .earlier_payment(&new.request_id, &new.fingerprint())
            .await?
        {
            tracing::Span::current()
                .record("payment_id", tracing::field::display(payment.payment_id));
            return Ok(Response::new(payment_to_proto(&payment)));
        }

        if !self.registry.is_registered(new.patient_id).await? {
            return Err(BillingError::from(FieldViolations::single(
                "patient_id",
                "is not a registered patient",
            ))
            .into());
        }
        let payment = self
            .store
            .post_payment(&new, &caller.subject, reading.today, now)
            .await?;
        tracing::Span::current().record("payment_id", tracing::field::display(payment.payment_id));
        tracing::info!(receipt_number = %payment.receipt_number, "payment recorded");
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
        self.confirm_identity(patient_id, identity.as_ref()).await?;
        // No other registry call: a patient billing has never seen simply owes nothing.
        let account = self
            .store
            .account_balance(patient_id, self.settings.clinic.currency)
            .await?;
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
            drawer_session_to_proto(&session).map_err(BillingError::from)?,
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
        authorize(&request, CASH_DESK)?;
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
            drawer_session_to_proto(&session).map_err(BillingError::from)?,
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
        // A retry is answered before the drawer is looked at: the first call closed it.
        let session = match self
            .store
            .earlier_drawer_session(
                Operation::CloseCashDrawer,
                &close.request_id,
                &close.fingerprint(),
            )
            .await?
        {
            Some(session) => session,
            None => {
                self.store
                    .close_drawer(
                        &close,
                        &caller.subject,
                        self.settings.drawer_difference_limit_minor,
                        now,
                    )
                    .await?
            }
        };
        tracing::Span::current().record("session_id", tracing::field::display(session.session_id));
        tracing::info!(state = session.state.as_str(), "cash drawer closed");
        Ok(Response::new(
            drawer_session_to_proto(&session).map_err(BillingError::from)?,
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
            drawer_session_to_proto(&session).map_err(BillingError::from)?,
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
        let payment = self
            .store
            .payment(payment_id)
            .await?
            .ok_or(BillingError::PaymentNotFound(payment_id))?;
        let charges = self
            .store
            .charges_on(payment.patient_id, payment.service_date)
            .await?;
        let receipt = Receipt {
            clinic_name: self.settings.clinic.name.clone(),
            local_time: payment
                .created_at
                .with_timezone(&self.settings.clinic.time_zone)
                .naive_local(),
            payment,
            charges,
        };
        let receipt_number = receipt.number();
        // Laying out and encoding a document is CPU work: off the async workers, in this span.
        let span = tracing::Span::current();
        let content = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            match format {
                ReceiptFormat::Escpos => crate::printing::render_escpos(&receipt),
                ReceiptFormat::Pdf => Ok(crate::printing::render_pdf(&receipt)),
            }
        })
        .await
        .map_err(|error| BillingError::from(anyhow::anyhow!("receipt rendering failed: {error}")))?
        .map_err(BillingError::from)?;
        Ok(Response::new(pb::RenderedReceipt {
            content,
            content_type: format.content_type().to_owned(),
            receipt_number,
        }))
    }

    #[tracing::instrument(skip_all, fields(payment_id, refund_id))]
    async fn refund_payment(
        &self,
        request: Request<pb::RefundPaymentRequest>,
    ) -> Result<Response<pb::Refund>, Status> {
        let caller = authorize(&request, &[Role::Manager])?;
        let now = self.clock.now();
        let reading = self.reading(now);
        let new =
            convert::new_refund(request.into_inner(), &reading).map_err(BillingError::from)?;
        tracing::Span::current().record("payment_id", tracing::field::display(new.payment_id));
        // A retry returns the first refund even after the drawer it came out of was closed.
        let refund = match self
            .store
            .earlier_refund(&new.request_id, &new.fingerprint())
            .await?
        {
            Some(refund) => refund,
            None => {
                self.store
                    .refund_payment(&new, &caller.subject, reading.today, now)
                    .await?
            }
        };
        tracing::Span::current().record("refund_id", tracing::field::display(refund.refund_id));
        tracing::info!("payment refunded");
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
        let reading = self.reading(self.clock.now());
        let day =
            convert::daily_close_day(request.get_ref(), &reading).map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        let close = self.daily_close(&caller, day, reading.today).await?;
        Ok(Response::new(
            convert::daily_close_to_proto(&close).map_err(BillingError::from)?,
        ))
    }

    #[tracing::instrument(skip_all, fields(day))]
    async fn export_daily_close(
        &self,
        request: Request<pb::ExportDailyCloseRequest>,
    ) -> Result<Response<pb::ExportedReport>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let reading = self.reading(self.clock.now());
        let (day, format) =
            convert::export_request(request.get_ref(), &reading).map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        let close = self.daily_close(&caller, day, reading.today).await?;
        let file_name = format.file_name(&close);
        // Laying out a spreadsheet is CPU work: off the async workers, in this span.
        let span = tracing::Span::current();
        let content = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            crate::export::render(&close, format)
        })
        .await
        .map_err(|error| BillingError::from(anyhow::anyhow!("report rendering failed: {error}")))?
        .map_err(BillingError::from)?;
        Ok(Response::new(pb::ExportedReport {
            content,
            content_type: format.content_type().to_owned(),
            file_name,
        }))
    }

    #[tracing::instrument(skip_all, fields(charge_id, correction_id))]
    async fn post_adjustment(
        &self,
        request: Request<pb::PostAdjustmentRequest>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        let caller = authorize(&request, CORRECTORS)?;
        let now = self.clock.now();
        let reading = self.reading(now);
        let new =
            convert::new_adjustment(request.get_ref(), &reading).map_err(BillingError::from)?;
        self.correct(&caller, new, reading.today, now).await
    }

    #[tracing::instrument(skip_all, fields(charge_id, correction_id))]
    async fn issue_credit_note(
        &self,
        request: Request<pb::IssueCreditNoteRequest>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        let caller = authorize(&request, CORRECTORS)?;
        let now = self.clock.now();
        let reading = self.reading(now);
        let new =
            convert::new_credit_note(request.get_ref(), &reading).map_err(BillingError::from)?;
        self.correct(&caller, new, reading.today, now).await
    }

    #[tracing::instrument(skip_all, fields(charge_id, correction_id))]
    async fn write_off_charge(
        &self,
        request: Request<pb::WriteOffChargeRequest>,
    ) -> Result<Response<pb::ChargeCorrection>, Status> {
        let caller = authorize(&request, CORRECTORS)?;
        let now = self.clock.now();
        let reading = self.reading(now);
        let new =
            convert::new_write_off(request.get_ref(), &reading).map_err(BillingError::from)?;
        self.correct(&caller, new, reading.today, now).await
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
        Ok(Response::new(convert::open_charges_to_proto(&open)))
    }

    #[tracing::instrument(skip_all, fields(day))]
    async fn close_day(
        &self,
        request: Request<pb::CloseDayRequest>,
    ) -> Result<Response<pb::ClosedDay>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let reading = self.reading(now);
        let day =
            convert::close_day_request(request.get_ref(), &reading).map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        if caller.role != Role::Manager && day != reading.today {
            return Err(BillingError::ReportDayRestricted.into());
        }
        let (_, day_end) = day_span(day, self.settings.clinic.time_zone);
        let closed = self
            .store
            .close_day(day, day_end, &caller.subject, now)
            .await?;
        tracing::info!(closed_by = %closed.closed_by, "day closed");
        Ok(Response::new(convert::closed_day_to_proto(&closed)))
    }

    #[tracing::instrument(skip_all, fields(appointment_id, charge_id))]
    async fn post_appointment_charge(
        &self,
        request: Request<pb::PostAppointmentChargeRequest>,
    ) -> Result<Response<pb::Charge>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let now = self.clock.now();
        let reading = self.reading(now);
        let asked =
            convert::appointment_charge(request.get_ref(), &reading).map_err(BillingError::from)?;
        tracing::Span::current().record(
            "appointment_id",
            tracing::field::display(asked.appointment_id),
        );
        // The request alone identifies a retry: what scheduling says does not change it.
        let fingerprint = clinic_common::ids::request_fingerprint(&[
            "appointment",
            &request.get_ref().appointment_id,
            &asked.quantity.get().to_string(),
            &format!("{:?}", asked.discount),
            &asked.skip_package.to_string(),
        ]);
        if let Some(charge) = self
            .store
            .earlier_charge(
                Operation::PostAppointmentCharge,
                &asked.request_id,
                &fingerprint,
            )
            .await?
        {
            tracing::Span::current().record("charge_id", tracing::field::display(charge.charge_id));
            return Ok(Response::new(charge_to_proto(&charge)));
        }
        let visit = self
            .scheduling
            .visit(asked.appointment_id, self.settings.clinic.time_zone)
            .await?;
        let item = self
            .store
            .price_list_item(&visit.price_code)
            .await?
            .ok_or_else(|| {
                BillingError::AppointmentNotChargeable(format!(
                    "appointment {} is for {}, which is not on the price list",
                    asked.appointment_id, visit.price_code
                ))
            })?;
        let new = NewCharge {
            patient_id: visit.patient_id,
            price_code: visit.price_code,
            quantity: asked.quantity,
            appointment_id: Some(asked.appointment_id),
            service_date: Some(visit.service_date),
            request_id: asked.request_id,
            discount: asked.discount,
            skip_package: asked.skip_package,
        };
        let order = self
            .charge_order(
                &caller,
                new,
                item,
                asked.manager_authorization.as_deref(),
                ChargeOrigin::Appointment {
                    provider_id: visit.provider_id,
                    provider_name: visit.provider_name,
                },
                now,
            )
            .await?;
        let charge = self
            .store
            .post_charge(
                Operation::PostAppointmentCharge,
                &order,
                &fingerprint,
                reading.today,
                now,
            )
            .await?;
        tracing::Span::current().record("charge_id", tracing::field::display(charge.charge_id));
        tracing::info!("appointment charged");
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
        let now = self.clock.now();
        let (payment_id, request_id) =
            convert::invoice_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("payment_id", tracing::field::display(payment_id));
        let fingerprint = clinic_common::ids::request_fingerprint(&[&payment_id.to_string()]);
        if let Some(invoice) = self
            .earlier_document(Operation::IssueInvoice, &request_id, &fingerprint, now)
            .await?
        {
            return Ok(Response::new(convert::invoice_to_proto(&invoice)));
        }
        self.invoicing()?;
        let payment = self
            .store
            .payment_to_invoice(payment_id)
            .await?
            .ok_or(BillingError::PaymentNotFound(payment_id))?;
        if payment.invoiced {
            return Err(BillingError::AlreadyInvoiced(payment_id).into());
        }
        if payment.net_minor <= 0 {
            return Err(BillingError::NotInvoiceable(format!(
                "payment {payment_id} brought no money to invoice (paid from the advance or refunded)"
            ))
            .into());
        }
        if payment.pays_ppd_invoice {
            return Err(BillingError::NotInvoiceable(format!(
                "payment {payment_id} pays charges invoiced PPD: issue its payment complement"
            ))
            .into());
        }
        let receptor = self
            .patient_receptor(
                payment.patient_id,
                ", or the payment goes into the day's global invoice",
            )
            .await?;
        // What the payment's money pays now, and what it keeps as advance (refunds, taken
        // from the advance first, are already out of both).
        let concepts = payment_concepts(&payment.paid, payment.unallocated_minor);
        let document = Document {
            document_type: cfdi::DocumentType::Ingreso,
            receptor,
            global: None,
            related: None,
            payment_form: Some(payment_form(&payment.parts).to_owned()),
            payment_method: Some("PUE".into()),
            concepts,
            payment: None,
        };
        let invoice = self
            .issue(
                &caller,
                Operation::IssueInvoice,
                &request_id,
                fingerprint,
                InvoiceSubject::Payment(payment_id),
                document,
                now,
            )
            .await?;
        tracing::Span::current().record("invoice_id", tracing::field::display(invoice.invoice_id));
        tracing::info!(folio = invoice.folio, "invoice issued");
        Ok(Response::new(convert::invoice_to_proto(&invoice)))
    }

    #[tracing::instrument(skip_all, fields(day, invoice_id))]
    async fn issue_global_invoice(
        &self,
        request: Request<pb::IssueGlobalInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let reading = self.reading(now);
        let (day, request_id) = convert::global_invoice_request(request.get_ref(), &reading)
            .map_err(BillingError::from)?;
        tracing::Span::current().record("day", tracing::field::display(day));
        let fingerprint = clinic_common::ids::request_fingerprint(&["global", &day.to_string()]);
        if let Some(invoice) = self
            .earlier_document(
                Operation::IssueGlobalInvoice,
                &request_id,
                &fingerprint,
                now,
            )
            .await?
        {
            return Ok(Response::new(convert::invoice_to_proto(&invoice)));
        }
        let (settings, _) = self.invoicing()?;
        let sales = self.store.public_sales(day).await?;
        if sales.is_empty() {
            return Err(BillingError::NotInvoiceable(format!(
                "no payment of {day} is left to invoice"
            ))
            .into());
        }
        let parts: Vec<MoneyPart> = sales.iter().flat_map(|sale| sale.parts.clone()).collect();
        let concepts = sales
            .iter()
            .map(|sale| public_sale(sale.receipt_number, sale.net_minor))
            .collect();
        let receptor = cfdi::Receptor {
            party: cfdi::Party {
                rfc: cfdi::PUBLIC_RFC.into(),
                name: cfdi::PUBLIC_NAME.into(),
                tax_regime: "616".into(),
            },
            // The general public's fiscal address is the place of issue.
            postal_code: settings.place_of_issue.clone(),
            cfdi_use: "S01".into(),
        };
        let global = cfdi::GlobalPeriod {
            periodicity: "01".into(),
            month: day.format("%m").to_string(),
            year: chrono::Datelike::year(&day),
        };
        let document = Document {
            document_type: cfdi::DocumentType::Ingreso,
            receptor,
            global: Some(global),
            related: None,
            payment_form: Some(payment_form(&parts).to_owned()),
            payment_method: Some("PUE".into()),
            concepts,
            payment: None,
        };
        let invoice = self
            .issue(
                &caller,
                Operation::IssueGlobalInvoice,
                &request_id,
                fingerprint,
                InvoiceSubject::Global {
                    day,
                    payments: sales.iter().map(|sale| sale.payment_id).collect(),
                },
                document,
                now,
            )
            .await?;
        tracing::Span::current().record("invoice_id", tracing::field::display(invoice.invoice_id));
        tracing::info!(folio = invoice.folio, "global invoice issued");
        Ok(Response::new(convert::invoice_to_proto(&invoice)))
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
        let invoice_id = crate::domain::InvoiceId::parse(&request.get_ref().invoice_id)
            .map_err(|error| BillingError::from(FieldViolations::single("invoice_id", error)))?;
        tracing::Span::current().record("invoice_id", tracing::field::display(invoice_id));
        let invoice = self
            .store
            .invoice(invoice_id)
            .await?
            .ok_or_else(|| BillingError::InvoiceNotFound(invoice_id.to_string()))?;
        Ok(Response::new(convert::invoice_to_proto(&invoice)))
    }

    #[tracing::instrument(skip_all, fields(patient_id, invoice_id))]
    async fn issue_charges_invoice(
        &self,
        request: Request<pb::IssueChargesInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let (patient_id, charge_ids, request_id) =
            convert::charges_invoice_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("patient_id", tracing::field::display(patient_id));
        let mut key = vec![patient_id.to_string()];
        key.extend(charge_ids.iter().map(ToString::to_string));
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        let fingerprint = clinic_common::ids::request_fingerprint(&key);
        if let Some(invoice) = self
            .earlier_document(
                Operation::IssueChargesInvoice,
                &request_id,
                &fingerprint,
                now,
            )
            .await?
        {
            return Ok(Response::new(convert::invoice_to_proto(&invoice)));
        }
        self.invoicing()?;
        let open = self
            .store
            .open_charges(patient_id, self.settings.clinic.currency)
            .await?;
        let lines = self.store.charge_lines(patient_id).await?;
        let mut billed = Vec::new();
        let mut paid_lines = Vec::new();
        // A charge is billed PPD only while none of the patient's money is on it.
        let unpaid = |charge_id| {
            open.charges
                .iter()
                .find(|(charge, _)| charge.charge_id == charge_id)
                .map(|(_, standing)| standing)
        };
        if charge_ids.is_empty() {
            for line in lines.iter().filter(|line| !line.invoiced) {
                if let Some(standing) = unpaid(line.charge_id).filter(|s| s.allocated == 0) {
                    billed.push((line.charge_id, standing.due));
                    paid_lines.push(PaidLine {
                        amount_minor: standing.due,
                        ..line.line.clone()
                    });
                }
            }
            if billed.is_empty() {
                return Err(BillingError::NotInvoiceable(
                    "the patient has no charge left to invoice (unpaid and not invoiced)".into(),
                )
                .into());
            }
        } else {
            for charge_id in charge_ids {
                let line = lines
                    .iter()
                    .find(|line| line.charge_id == charge_id)
                    .ok_or(BillingError::ChargeNotFound(charge_id))?;
                if line.invoiced {
                    return Err(BillingError::AlreadyIssued(format!(
                        "charge {charge_id} is already invoiced"
                    ))
                    .into());
                }
                let standing = unpaid(charge_id)
                    .filter(|standing| standing.allocated == 0)
                    .ok_or_else(|| {
                        BillingError::NotInvoiceable(format!(
                            "charge {charge_id} is paid (in part): its payment is invoiced instead"
                        ))
                    })?;
                billed.push((charge_id, standing.due));
                paid_lines.push(PaidLine {
                    amount_minor: standing.due,
                    ..line.line.clone()
                });
            }
        }
        let receptor = self.patient_receptor(patient_id, "").await?;
        let document = Document {
            document_type: cfdi::DocumentType::Ingreso,
            receptor,
            global: None,
            related: None,
            // To be paid later: the form is not known yet (99), and each payment gets a
            // payment complement.
            payment_form: Some("99".into()),
            payment_method: Some("PPD".into()),
            concepts: payment_concepts(&paid_lines, 0),
            payment: None,
        };
        let invoice = self
            .issue(
                &caller,
                Operation::IssueChargesInvoice,
                &request_id,
                fingerprint,
                InvoiceSubject::Charges(billed),
                document,
                now,
            )
            .await?;
        tracing::Span::current().record("invoice_id", tracing::field::display(invoice.invoice_id));
        tracing::info!(folio = invoice.folio, "PPD invoice issued");
        Ok(Response::new(convert::invoice_to_proto(&invoice)))
    }

    #[tracing::instrument(skip_all, fields(correction_id, invoice_id))]
    async fn issue_credit_note_invoice(
        &self,
        request: Request<pb::IssueCreditNoteInvoiceRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let (correction_id, request_id) =
            convert::credit_note_invoice_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("correction_id", tracing::field::display(correction_id));
        let fingerprint =
            clinic_common::ids::request_fingerprint(&["credit_note", &correction_id.to_string()]);
        if let Some(invoice) = self
            .earlier_document(
                Operation::IssueCreditNoteInvoice,
                &request_id,
                &fingerprint,
                now,
            )
            .await?
        {
            return Ok(Response::new(convert::invoice_to_proto(&invoice)));
        }
        self.invoicing()?;
        let source = self
            .store
            .credit_note_source(correction_id)
            .await?
            .ok_or(BillingError::CreditNoteNotFound(correction_id))?;
        let correction = self
            .store
            .correction(correction_id)
            .await?
            .ok_or(BillingError::CreditNoteNotFound(correction_id))?;
        let related_id = source.invoice_id.ok_or_else(|| {
            BillingError::NotInvoiceable(
                "the credited charge was never invoiced: a credit note's CFDI relates to its \
                 invoice"
                    .into(),
            )
        })?;
        let related = self
            .store
            .invoice(related_id)
            .await?
            .ok_or_else(|| BillingError::InvoiceNotFound(related_id.to_string()))?;
        let Some(stamp) = &related.stamp else {
            return Err(BillingError::NotInvoiceable(format!(
                "invoice {related_id} is not stamped: it has no UUID to relate the credit note to"
            ))
            .into());
        };
        // An invoice issued after the credit note billed the charge net of it already.
        if related.created_at > correction.created_at {
            return Err(BillingError::NotInvoiceable(format!(
                "invoice {related_id} was issued after the credit note and bills the charge net \
                 of it already"
            ))
            .into());
        }
        // The credit note goes to whom the invoice went, as the invoice names them.
        let receptor_attribute = |name: &str| {
            cfdi::element_attribute(&related.xml, "cfdi:Receptor", name).unwrap_or_default()
        };
        let rfc = receptor_attribute("Rfc");
        let public = rfc == cfdi::PUBLIC_RFC;
        let receptor = cfdi::Receptor {
            party: cfdi::Party {
                rfc,
                name: receptor_attribute("Nombre"),
                tax_regime: receptor_attribute("RegimenFiscalReceptor"),
            },
            postal_code: receptor_attribute("DomicilioFiscalReceptor"),
            // G02: returns, discounts or bonuses; the general public's use stays S01.
            cfdi_use: if public { "S01" } else { "G02" }.into(),
        };
        let global =
            cfdi::element_attribute(&related.xml, "cfdi:InformacionGlobal", "Meses").map(|month| {
                cfdi::GlobalPeriod {
                    periodicity: cfdi::element_attribute(
                        &related.xml,
                        "cfdi:InformacionGlobal",
                        "Periodicidad",
                    )
                    .unwrap_or_else(|| "01".into()),
                    month,
                    year: cfdi::element_attribute(&related.xml, "cfdi:InformacionGlobal", "Año")
                        .and_then(|year| year.parse().ok())
                        .unwrap_or_default(),
                }
            });
        // Money back the way it came; on an invoice not paid yet (PPD), what is owed is
        // forgiven (15, condonación).
        let payment_form = match cfdi::root_attribute(&related.xml, "FormaPago").as_deref() {
            None | Some("99") => "15".to_owned(),
            Some(form) => form.to_owned(),
        };
        let number = correction
            .credit_note_number
            .map(|number| number.to_string())
            .unwrap_or_default();
        let line = PaidLine {
            description: format!("Nota de crédito {number}: {}", source.line.description),
            ..source.line.clone()
        };
        let document = Document {
            document_type: cfdi::DocumentType::Egreso,
            receptor,
            global,
            related: Some(cfdi::Related {
                relation: "01".into(),
                uuids: vec![stamp.uuid.clone()],
            }),
            payment_form: Some(payment_form),
            payment_method: Some("PUE".into()),
            concepts: payment_concepts(&[line], 0),
            payment: None,
        };
        let invoice = self
            .issue(
                &caller,
                Operation::IssueCreditNoteInvoice,
                &request_id,
                fingerprint,
                InvoiceSubject::CreditNote {
                    correction_id,
                    related: related_id,
                },
                document,
                now,
            )
            .await?;
        tracing::Span::current().record("invoice_id", tracing::field::display(invoice.invoice_id));
        tracing::info!(folio = invoice.folio, "credit note CFDI issued");
        Ok(Response::new(convert::invoice_to_proto(&invoice)))
    }

    #[tracing::instrument(skip_all, fields(payment_id, invoice_id))]
    async fn issue_payment_complement(
        &self,
        request: Request<pb::IssuePaymentComplementRequest>,
    ) -> Result<Response<pb::Invoice>, Status> {
        let caller = authorize(&request, CASH_DESK)?;
        let now = self.clock.now();
        let (payment_id, request_id) =
            convert::payment_complement_request(request.get_ref()).map_err(BillingError::from)?;
        tracing::Span::current().record("payment_id", tracing::field::display(payment_id));
        let fingerprint =
            clinic_common::ids::request_fingerprint(&["complement", &payment_id.to_string()]);
        if let Some(invoice) = self
            .earlier_document(
                Operation::IssuePaymentComplement,
                &request_id,
                &fingerprint,
                now,
            )
            .await?
        {
            return Ok(Response::new(convert::invoice_to_proto(&invoice)));
        }
        self.invoicing()?;
        let on = self
            .store
            .payment_on_invoices(payment_id)
            .await?
            .ok_or(BillingError::PaymentNotFound(payment_id))?;
        if on.has_complement {
            return Err(BillingError::AlreadyIssued(
                "the payment already has its payment complement".into(),
            )
            .into());
        }
        if on.invoices.is_empty() {
            return Err(BillingError::NotInvoiceable(format!(
                "none of payment {payment_id}'s money is on charges invoiced PPD"
            ))
            .into());
        }
        let mut documents = Vec::with_capacity(on.invoices.len());
        let mut reported = Vec::with_capacity(on.invoices.len());
        for (invoice_id, held_minor) in &on.invoices {
            let invoice = self
                .store
                .invoice(*invoice_id)
                .await?
                .ok_or_else(|| BillingError::InvoiceNotFound(invoice_id.to_string()))?;
            let Some(stamp) = &invoice.stamp else {
                return Err(BillingError::NotInvoiceable(format!(
                    "invoice {invoice_id} is not stamped: it has no UUID to report paid"
                ))
                .into());
            };
            let balance = self.store.invoice_balance(*invoice_id).await?;
            let previous_balance_minor =
                balance.total_minor - balance.reported_paid_minor - balance.credited_minor;
            let paid_minor = (*held_minor).min(previous_balance_minor);
            if paid_minor <= 0 {
                continue;
            }
            let lines = self.store.invoice_lines(*invoice_id).await?;
            let totals = cfdi::totals_of(&payment_concepts(&lines, 0));
            documents.push(PaidDocument {
                uuid: stamp.uuid.clone(),
                series: invoice.series.clone(),
                folio: invoice.folio.to_string(),
                installment: balance.installments + 1,
                previous_balance_minor,
                paid_minor,
                taxes: InvoiceTaxes {
                    total: totals.total,
                    exempt_base: totals.exempt_base,
                    vat_base: totals.vat_base,
                    vat: totals.vat,
                },
            });
            reported.push(ReceiptDocument {
                invoice_id: *invoice_id,
                installment: balance.installments + 1,
                previous_balance_minor,
                paid_minor,
            });
        }
        if documents.is_empty() {
            return Err(BillingError::NotInvoiceable(format!(
                "the PPD invoices payment {payment_id} pays are reported paid in full already"
            ))
            .into());
        }
        let receptor = cfdi::Receptor {
            // CP01: payments.
            cfdi_use: "CP01".into(),
            ..self.patient_receptor(on.patient_id, "").await?
        };
        let received_at = on
            .received_at
            .with_timezone(&self.settings.clinic.time_zone)
            .naive_local();
        let form = if on.parts.is_empty() {
            // Paid from the patient's advance: 30, aplicación de anticipos.
            "30"
        } else {
            payment_form(&on.parts)
        };
        let document = Document {
            document_type: cfdi::DocumentType::Pago,
            receptor,
            global: None,
            related: None,
            payment_form: None,
            payment_method: None,
            concepts: Vec::new(),
            payment: Some(PaymentReceived {
                paid_at: received_at.with_nanosecond(0).unwrap_or(received_at),
                form: form.to_owned(),
                currency: self.settings.clinic.currency.code().to_owned(),
                documents,
            }),
        };
        let invoice = self
            .issue(
                &caller,
                Operation::IssuePaymentComplement,
                &request_id,
                fingerprint,
                InvoiceSubject::PaymentReceipt {
                    payment_id,
                    documents: reported,
                },
                document,
                now,
            )
            .await?;
        tracing::Span::current().record("invoice_id", tracing::field::display(invoice.invoice_id));
        tracing::info!(folio = invoice.folio, "payment complement issued");
        Ok(Response::new(convert::invoice_to_proto(&invoice)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_pending_payment_complements(
        &self,
        request: Request<pb::ListPendingPaymentComplementsRequest>,
    ) -> Result<Response<pb::ListPendingPaymentComplementsResponse>, Status> {
        authorize(&request, CASH_DESK)?;
        let today = self.reading(self.clock.now()).today;
        let pending = self.store.pending_complements().await?;
        let currency = self.settings.clinic.currency;
        let mut payments = Vec::with_capacity(pending.len());
        for payment in pending {
            let deadline = complement_deadline(payment.paid_on);
            payments.push(pb::PendingPaymentComplement {
                payment_id: payment.payment_id.to_string(),
                patient_id: payment.patient_id.to_string(),
                receipt_number: payment.receipt_number.to_string(),
                paid_on: Some(clinic_proto::date_to_proto(payment.paid_on)),
                amount: Some(clinic_proto::money_to_proto(
                    clinic_common::Money::from_minor(payment.amount_minor, currency),
                )),
                deadline: Some(clinic_proto::date_to_proto(deadline)),
                overdue: today > deadline,
                invoice_ids: payment
                    .invoice_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            });
        }
        payments.sort_by_key(|payment| payment.deadline.as_ref().map(|d| (d.year, d.month, d.day)));
        Ok(Response::new(pb::ListPendingPaymentComplementsResponse {
            payments,
        }))
    }
}
