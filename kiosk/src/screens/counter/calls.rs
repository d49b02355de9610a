//! The counter's calls that take more than one request, or turn an answer into what a panel
//! keeps: each runs off the UI thread (through [`Backend::call`]) and touches no screen state.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use clinic_proto::billing::v1 as billing;
use clinic_proto::common::v1 as common;
use clinic_proto::date_to_proto;
use clinic_proto::patients::v1 as patients;
use clinic_proto::scheduling::v1 as scheduling;
use eframe::egui;
use tokio::sync::Notify;

use super::schedule::{Known, QueueEvents, Schedule, Step};
use crate::backend::{Backend, CallError, answer};
use crate::i18n::{Lang, T, fill};
use crate::outbox::{ApprovedCardPayment, Outbox, Posting};

/// Opens the staff queue watch, kept open (and re-opened) for as long as the counter runs.
pub(super) fn watch_queue(backend: &Backend, ctx: &egui::Context) -> QueueEvents {
    let client = backend.watch.clone();
    backend.watch(ctx, move || {
        let mut client = client.clone();
        Box::pin(async move {
            client
                .watch_queue(scheduling::WatchQueueRequest {})
                .await
                .map(tonic::Response::into_inner)
        })
    })
}

/// Loads a day's appointments and the patients they name, with what the book draws them on
/// (providers and their hours, chairs and rooms, kinds of visit), asking only for what is not
/// already `known` (the providers again when one is new).
pub(super) async fn load_schedule(
    backend: Backend,
    (day, week_provider, zone): (NaiveDate, Option<String>, chrono_tz::Tz),
    known: Known,
) -> Result<Schedule, CallError> {
    let mut known = known;
    let mut scheduling = backend.scheduling.clone();
    let mut appointments = Vec::new();
    let days = match &week_provider {
        Some(_) => super::book::week_of(day),
        None => vec![day],
    };
    let exceptions = load_exceptions(&backend, &days, zone).await?;
    for shown in days {
        let mut page_token = String::new();
        loop {
            let page = answer(
                scheduling
                    .list_appointments(scheduling::ListAppointmentsRequest {
                        day: Some(date_to_proto(shown)),
                        provider_id: week_provider.clone().unwrap_or_default(),
                        patient_id: String::new(),
                        page: Some(common::PageRequest {
                            page_size: 200,
                            page_token,
                        }),
                    })
                    .await,
            )?;
            appointments.extend(page.appointments);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    appointments.sort_by_key(|a| a.start_time.as_ref().map(|t| (t.seconds, t.nanos)));
    if known.provider_order.is_empty()
        || appointments
            .iter()
            .any(|a| known.provider_name(&a.provider_id).is_empty())
    {
        load_providers(&backend, &mut known).await?;
    }
    if known.kinds.is_empty() {
        known.kinds = answer(
            scheduling
                .list_appointment_types(scheduling::ListAppointmentTypesRequest {
                    page: None,
                    show_deleted: true,
                })
                .await,
        )?
        .appointment_types
        .into_iter()
        .map(|kind| (kind.appointment_type_id, kind.display_name))
        .collect();
    }
    if known.rooms.is_empty() {
        let mut rooms: Vec<scheduling::Resource> = answer(
            scheduling
                .list_resources(scheduling::ListResourcesRequest {
                    kind: 0,
                    page: None,
                })
                .await,
        )?
        .resources
        .into_iter()
        .filter(|r| {
            r.in_service
                && matches!(
                    scheduling::ResourceKind::try_from(r.kind),
                    Ok(scheduling::ResourceKind::Chair | scheduling::ResourceKind::Room)
                )
        })
        .collect();
        rooms.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        known.rooms = rooms
            .into_iter()
            .map(|r| (r.resource_id, r.display_name))
            .collect();
    }
    let mut registry = backend.patients.clone();
    for appointment in &appointments {
        if known.patients.contains_key(&appointment.patient_id) {
            continue;
        }
        let patient = answer(
            registry
                .get_patient(patients::GetPatientRequest {
                    patient_id: appointment.patient_id.clone(),
                })
                .await,
        )?;
        known.patients.insert(patient.patient_id.clone(), patient);
    }
    Ok(Schedule {
        day,
        week_provider,
        appointments,
        exceptions,
        known,
    })
}

/// The holidays, blocks and breaks (the clinic's and every provider's) that overlap `days`.
async fn load_exceptions(
    backend: &Backend,
    days: &[NaiveDate],
    zone: chrono_tz::Tz,
) -> Result<Vec<scheduling::ScheduleException>, CallError> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    let midnight = |day: NaiveDate| clinic_common::time::start_of_day(day, zone);
    let mut scheduling = backend.scheduling.clone();
    let mut exceptions = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = answer(
            scheduling
                .list_schedule_exceptions(scheduling::ListScheduleExceptionsRequest {
                    start_time: Some(clinic_proto::timestamp_to_proto(midnight(*first))),
                    end_time: Some(clinic_proto::timestamp_to_proto(midnight(
                        last.succ_opt().unwrap_or(*last),
                    ))),
                    provider_id: String::new(),
                    page: Some(common::PageRequest {
                        page_size: 200,
                        page_token,
                    }),
                })
                .await,
        )?;
        exceptions.extend(page.schedule_exceptions);
        if page.next_page_token.is_empty() {
            return Ok(exceptions);
        }
        page_token = page.next_page_token;
    }
}

/// Every provider, by name, with their weekly working hours.
async fn load_providers(backend: &Backend, known: &mut Known) -> Result<(), CallError> {
    let mut scheduling = backend.scheduling.clone();
    let mut providers = answer(
        scheduling
            .list_providers(scheduling::ListProvidersRequest { page: None })
            .await,
    )?
    .providers;
    providers.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    known.hours.clear();
    for provider in &providers {
        let hours = answer(
            scheduling
                .get_working_hours(scheduling::GetWorkingHoursRequest {
                    provider_id: provider.provider_id.clone(),
                })
                .await,
        )?;
        known
            .hours
            .insert(provider.provider_id.clone(), hours.intervals);
    }
    known.provider_order = providers
        .iter()
        .map(|p| (p.provider_id.clone(), p.display_name.clone()))
        .collect();
    Ok(())
}

/// Takes a step in an appointment's life; answers `done` once scheduling has.
pub(super) async fn take_step(
    backend: Backend,
    step: Step,
    done: String,
) -> Result<String, CallError> {
    let mut scheduling = backend.scheduling.clone();
    match step {
        Step::Confirm(appointment_id) => {
            let request = scheduling::ConfirmAppointmentRequest { appointment_id };
            answer(scheduling.confirm_appointment(request).await).map(|_| done)
        }
        Step::NoShow(appointment_id) => {
            let request = scheduling::MarkNoShowRequest { appointment_id };
            answer(scheduling.mark_no_show(request).await).map(|_| done)
        }
        Step::Seat(queue_entry_id) => {
            let request = scheduling::SeatQueueEntryRequest { queue_entry_id };
            answer(scheduling.seat_queue_entry(request).await).map(|_| done)
        }
        Step::Complete(appointment_id) => {
            let request = scheduling::CompleteAppointmentRequest { appointment_id };
            answer(scheduling.complete_appointment(request).await).map(|_| done)
        }
        Step::CheckOut(appointment_id) => {
            let request = scheduling::CheckOutAppointmentRequest { appointment_id };
            answer(scheduling.check_out_appointment(request).await).map(|_| done)
        }
    }
}

/// Calls the next patient; answers whom (or that nobody is waiting).
pub(super) async fn call_next(
    backend: Backend,
    request: scheduling::CallNextRequest,
    lang: Lang,
) -> Result<String, CallError> {
    let mut scheduling = backend.scheduling.clone();
    match answer(scheduling.call_next(request).await) {
        Ok(entry) => Ok(fill(
            T::Calling.get(lang),
            &[("ticket", &entry.ticket_number)],
        )),
        Err(CallError::NotFound) => Ok(T::NobodyToCall.get(lang).to_owned()),
        Err(error) => Err(error),
    }
}

/// The patient's first-visit form; `None` when they have not filled one in.
pub(super) async fn intake_form(
    backend: Backend,
    patient_id: String,
) -> Result<Option<patients::IntakeForm>, CallError> {
    let mut registry = backend.patients.clone();
    match answer(
        registry
            .get_intake_form(patients::GetIntakeFormRequest { patient_id })
            .await,
    ) {
        Ok(form) => Ok(Some(form)),
        Err(CallError::NotFound) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Posts a payment without a card to billing.
pub(super) async fn post_payment(
    backend: Backend,
    request: billing::PostPaymentRequest,
) -> Result<Posting, CallError> {
    let mut billing = backend.billing.clone();
    answer(billing.post_payment(request).await).map(|payment| Posting::Recorded(Box::new(payment)))
}

/// Saves an approved card payment in the outbox and offers it to billing; the outbox's poster
/// is nudged to try again soon if billing did not take it.
pub(super) async fn post_card_payment(
    backend: Backend,
    outbox: Outbox,
    nudge: Arc<Notify>,
    payment: ApprovedCardPayment,
) -> Result<Posting, CallError> {
    let posting = crate::outbox::save_and_post(backend, outbox, payment).await;
    nudge.notify_one();
    posting
}

/// This terminal's drawer session; `None` when its drawer is closed.
pub(super) async fn cash_drawer(
    backend: Backend,
    terminal_id: String,
) -> Result<Option<billing::CashDrawerSession>, CallError> {
    let mut billing = backend.billing.clone();
    match billing
        .get_cash_drawer(billing::GetCashDrawerRequest {
            session_id: String::new(),
            terminal_id,
        })
        .await
    {
        Ok(session) => Ok(Some(session.into_inner())),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(CallError::from_status(&status)),
    }
}

/// Exports today's close in `format` into `dir`; answers where the file is.
pub(super) async fn export_daily_close(
    backend: Backend,
    format: billing::ReportFormat,
    dir: PathBuf,
    lang: Lang,
) -> Result<String, CallError> {
    let mut billing = backend.billing.clone();
    let report = answer(
        billing
            .export_daily_close(billing::ExportDailyCloseRequest {
                day: None,
                format: format as i32,
                // In the language the counter shows.
                language: lang.tag().into(),
            })
            .await,
    )?;
    let path = dir.join(&report.file_name);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| CallError::Other(e.to_string()))?;
    tokio::fs::write(&path, &report.content)
        .await
        .map_err(|e| CallError::Other(e.to_string()))?;
    Ok(fill(
        T::Exported.get(lang),
        &[("path", &path.display().to_string())],
    ))
}
