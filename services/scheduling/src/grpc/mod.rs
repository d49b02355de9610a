//! Scheduling over gRPC: each handler checks the caller's role, converts the request into a
//! domain command, runs it and converts the result back.

mod convert;
mod error;
mod registry;
mod reports;
mod resources;
mod watch;
// Front desk flow: waitlist, planned visits, call tasks and tomorrow.
mod calls;
mod planned;
mod reminders;
mod waitlist;

use std::pin::Pin;
use std::sync::Arc;

use clinic_common::auth::{Caller, Role, authorize};
use clinic_common::clock::SharedClock;
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_server::SchedulingService;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::config::Settings;
use crate::domain::waitlist::FreedBy;
use crate::domain::{
    Appointment, AppointmentSlot, ConsultantLoad, ExceptionKind, KioskLookup, PatientFacts,
    Provider, QueueStep, Reschedule, Routing, SchedulingError, SlotSearch, Step, WalkIn,
    findable_at_kiosk, free_slots,
};
use crate::feed::QueueFeed;
use crate::store::SchedulingStore;

use convert::{CheckInTarget, KioskView, appointment_to_proto, provider_to_proto};
pub use registry::{PatientContact, PatientRegistry};

/// A server stream of `T`.
type Watch<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Implements `clinic.scheduling.v1.SchedulingService`.
pub struct SchedulingGrpc {
    store: SchedulingStore,
    registry: PatientRegistry,
    feed: QueueFeed,
    clock: SharedClock,
    settings: Arc<Settings>,
}

impl SchedulingGrpc {
    pub fn new(
        store: SchedulingStore,
        registry: PatientRegistry,
        feed: QueueFeed,
        clock: SharedClock,
        settings: Arc<Settings>,
    ) -> Self {
        SchedulingGrpc {
            store,
            registry,
            feed,
            clock,
            settings,
        }
    }

    /// Adds to a booking the chairs, rooms or equipment its appointment type needs, so that every
    /// way of booking (the desk, the waitlist, a planned visit) holds them.
    async fn add_type_requirements(
        &self,
        new: &mut crate::domain::NewAppointment,
    ) -> Result<(), SchedulingError> {
        if let Some(type_id) = new.appointment_type_id {
            new.resources.requirements = self.store.type_requirements(type_id).await?;
        }
        Ok(())
    }
}

fn record_appointment_id(appointment_id: impl std::fmt::Display) {
    tracing::Span::current().record("appointment_id", tracing::field::display(appointment_id));
}

fn record_queue_entry_id(queue_entry_id: impl std::fmt::Display) {
    tracing::Span::current().record("queue_entry_id", tracing::field::display(queue_entry_id));
}

fn record_appointment_type_id(appointment_type_id: impl std::fmt::Display) {
    tracing::Span::current().record(
        "appointment_type_id",
        tracing::field::display(appointment_type_id),
    );
}

/// The `appointment_type_id` of a request naming one appointment type.
fn requested_appointment_type(text: &str) -> Result<crate::domain::AppointmentTypeId, Status> {
    let appointment_type_id = convert::appointment_type_id(text)
        .map_err(|problem| FieldViolations::single("appointment_type_id", problem))
        .map_err(SchedulingError::from)?;
    record_appointment_type_id(appointment_type_id);
    Ok(appointment_type_id)
}

/// The `appointment_id` of a request naming one appointment.
fn requested_appointment(text: &str) -> Result<clinic_common::ids::AppointmentId, Status> {
    let appointment_id = convert::appointment_id(text)
        .map_err(|problem| FieldViolations::single("appointment_id", problem))
        .map_err(SchedulingError::from)?;
    record_appointment_id(appointment_id);
    Ok(appointment_id)
}

/// How many patients' records a name lookup asks the registry for at once.
const REGISTRY_LOOKUPS_AT_ONCE: usize = 8;

impl SchedulingGrpc {
    /// Refuses a kiosk that has missed too often lately (see `FindTodaysAppointment`). Staff are
    /// not limited.
    async fn guard_kiosk(&self, caller: &Caller) -> Result<(), SchedulingError> {
        if caller.role != Role::Kiosk {
            return Ok(());
        }
        let guard = self.settings.kiosk.guard();
        let misses = self
            .store
            .kiosk_misses(&caller.subject, guard.counted_since(self.clock.now()))
            .await?;
        if guard.allows(misses) {
            Ok(())
        } else {
            tracing::warn!(kiosk = %caller.subject, misses, "kiosk lookups refused for a while");
            Err(SchedulingError::KioskTooManyMisses)
        }
    }

    /// Counts a kiosk's failed lookup or check-in against it.
    async fn kiosk_missed(&self, caller: &Caller) -> Result<(), SchedulingError> {
        if caller.role != Role::Kiosk {
            return Ok(());
        }
        let now = self.clock.now();
        let guard = self.settings.kiosk.guard();
        self.store
            .record_kiosk_miss(&caller.subject, now, guard.counted_since(now))
            .await
    }

    /// The appointment today, with the patient's registry record, that a kiosk lookup
    /// describes; `None` for every kind of miss.
    async fn find_todays(
        &self,
        lookup: &KioskLookup,
    ) -> Result<Option<(Appointment, PatientFacts)>, SchedulingError> {
        let now = self.clock.now();
        let time_zone = self.settings.clinic.time_zone;
        let today = local_date(now, time_zone);
        match lookup {
            KioskLookup::ByCode { code, .. } => {
                let Some(appointment) = self.store.appointment_by_code(code).await? else {
                    return Ok(None);
                };
                if !findable_at_kiosk(&appointment) || appointment.local_day(time_zone) != today {
                    return Ok(None);
                }
                let facts = self.registry.patient_facts(appointment.patient_id).await?;
                Ok(facts
                    .filter(|facts| lookup.matches(facts))
                    .map(|facts| (appointment, facts)))
            }
            KioskLookup::ByName { .. } => {
                let appointments = self
                    .store
                    .findable_between(clinic_common::time::day_span(today, time_zone))
                    .await?;
                let mut patients: Vec<clinic_common::ids::PatientId> = Vec::new();
                for appointment in &appointments {
                    if !patients.contains(&appointment.patient_id) {
                        patients.push(appointment.patient_id);
                    }
                }
                let mut matching = Vec::new();
                for batch in patients.chunks(REGISTRY_LOOKUPS_AT_ONCE) {
                    let mut lookups = tokio::task::JoinSet::new();
                    for patient_id in batch {
                        let (registry, patient_id) = (self.registry.clone(), *patient_id);
                        lookups.spawn(async move {
                            (patient_id, registry.patient_facts(patient_id).await)
                        });
                    }
                    while let Some(done) = lookups.join_next().await {
                        let (patient_id, facts) = done.map_err(|error| {
                            anyhow::anyhow!("a registry lookup failed: {error}")
                        })?;
                        if let Some(facts) = facts?
                            && lookup.matches(&facts)
                        {
                            matching.push((patient_id, facts));
                        }
                    }
                }
                // Two registered patients matching everything (twins sharing a phone) cannot be
                // told apart at the kiosk: reception sorts them out.
                if matching.len() != 1 {
                    if matching.len() > 1 {
                        tracing::warn!(matches = matching.len(), "kiosk lookup is ambiguous");
                    }
                    return Ok(None);
                }
                let (patient_id, facts) = matching.remove(0);
                Ok(appointments
                    .into_iter()
                    .find(|appointment| appointment.patient_id == patient_id)
                    .map(|appointment| (appointment, facts)))
            }
        }
    }

    /// Who receives a patient who has arrived (see `domain::triage`). `provider` is the one they
    /// are booked with, or (walk-ins) asked for or seen by last.
    async fn route(
        &self,
        first_visit: bool,
        provider: Option<&Provider>,
    ) -> Result<Option<clinic_common::ids::ProviderId>, SchedulingError> {
        let policy = self.settings.triage.policy();
        let now = self.clock.now();
        let time_zone = self.settings.clinic.time_zone;
        let mut consultants = Vec::new();
        if first_visit && policy.first_visit == crate::domain::FirstVisitRoute::Consultant {
            for (provider_id, waiting) in self
                .store
                .consultant_loads(local_date(now, time_zone))
                .await?
            {
                if self.store.on_duty(provider_id, now, time_zone).await? {
                    consultants.push(ConsultantLoad {
                        provider_id,
                        waiting,
                    });
                }
            }
        }
        Ok(policy.route(first_visit, provider, &consultants))
    }

    /// Triage for an appointment being checked in: whether it is the patient's first visit, and
    /// who receives them. An appointment already checked in keeps what it was given (the store
    /// ignores this then).
    async fn triage(&self, appointment: &Appointment) -> Result<Routing, SchedulingError> {
        let unrouted = Routing {
            routed_to: appointment.provider_id,
            first_visit: false,
        };
        if !matches!(
            appointment.status,
            crate::domain::AppointmentStatus::Scheduled
                | crate::domain::AppointmentStatus::Confirmed
        ) {
            return Ok(unrouted);
        }
        let first_visit = !self
            .store
            .seen_before(appointment.patient_id, appointment.slot.start())
            .await?;
        let provider = self.store.provider(appointment.provider_id).await?;
        let routed_to = self
            .route(first_visit, provider.as_ref())
            .await?
            .unwrap_or(appointment.provider_id);
        Ok(Routing {
            routed_to,
            first_visit,
        })
    }

    /// How long a patient may wait before the queue flags them overdue.
    fn alert_after(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::minutes(i64::from(self.settings.queue_alert_after_minutes))
    }

    /// Takes `step` of the queue entry named by `text`, announcing the change.
    async fn step_queue_entry(
        &self,
        text: &str,
        step: QueueStep,
        caller: &clinic_common::auth::Caller,
    ) -> Result<crate::store::Stepped, Status> {
        let queue_entry_id = convert::queue_entry_id(text)
            .map_err(|problem| FieldViolations::single("queue_entry_id", problem))
            .map_err(SchedulingError::from)?;
        record_queue_entry_id(queue_entry_id);
        let stepped = self
            .store
            .step_queue_entry(queue_entry_id, step, caller, self.clock.now())
            .await?;
        self.feed.publish(stepped.change).await;
        tracing::info!(
            status = stepped.entry.status.as_str(),
            "queue entry changed"
        );
        Ok(stepped)
    }

    /// Takes `step` of the appointment named by `text`, a step that changes only its status.
    async fn step_appointment(
        &self,
        text: &str,
        step: Step,
        caller: &clinic_common::auth::Caller,
    ) -> Result<pb::Appointment, Status> {
        let appointment_id = requested_appointment(text)?;
        let now = self.clock.now();
        let appointment = self
            .store
            .change_status(
                appointment_id,
                |current| match step {
                    Step::MarkNoShow => current.mark_no_show(now),
                    _ => current.advance(step),
                },
                caller,
                now,
            )
            .await?;
        tracing::info!(status = appointment.status.as_str(), "appointment changed");
        Ok(appointment_to_proto(&appointment))
    }
}

#[tonic::async_trait]
impl SchedulingService for SchedulingGrpc {
    // Resources and reports: bodies in `resources.rs` and `reports.rs`.
    async fn create_resource(
        &self,
        r: Request<pb::CreateResourceRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        self.create_resource_rpc(r).await
    }
    async fn list_resources(
        &self,
        r: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        self.list_resources_rpc(r).await
    }
    async fn update_resource(
        &self,
        r: Request<pb::UpdateResourceRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        self.update_resource_rpc(r).await
    }
    async fn set_resource_hours(
        &self,
        r: Request<pb::SetResourceHoursRequest>,
    ) -> Result<Response<pb::ResourceHours>, Status> {
        self.set_resource_hours_rpc(r).await
    }
    async fn get_resource_hours(
        &self,
        r: Request<pb::GetResourceHoursRequest>,
    ) -> Result<Response<pb::ResourceHours>, Status> {
        self.get_resource_hours_rpc(r).await
    }
    async fn add_resource_exception(
        &self,
        r: Request<pb::AddResourceExceptionRequest>,
    ) -> Result<Response<pb::ResourceException>, Status> {
        self.add_resource_exception_rpc(r).await
    }
    async fn list_resource_exceptions(
        &self,
        r: Request<pb::ListResourceExceptionsRequest>,
    ) -> Result<Response<pb::ListResourceExceptionsResponse>, Status> {
        self.list_resource_exceptions_rpc(r).await
    }
    async fn delete_resource_exception(
        &self,
        r: Request<pb::DeleteResourceExceptionRequest>,
    ) -> Result<Response<pb::ResourceException>, Status> {
        self.delete_resource_exception_rpc(r).await
    }
    async fn set_appointment_type_resources(
        &self,
        r: Request<pb::SetAppointmentTypeResourcesRequest>,
    ) -> Result<Response<pb::AppointmentTypeResources>, Status> {
        self.set_appointment_type_resources_rpc(r).await
    }
    async fn get_schedule_report(
        &self,
        r: Request<pb::GetScheduleReportRequest>,
    ) -> Result<Response<pb::ScheduleReport>, Status> {
        self.get_schedule_report_rpc(r).await
    }
    async fn get_appointment_type_resources(
        &self,
        r: Request<pb::GetAppointmentTypeResourcesRequest>,
    ) -> Result<Response<pb::AppointmentTypeResources>, Status> {
        self.get_appointment_type_resources_rpc(r).await
    }
    #[tracing::instrument(skip_all)]
    async fn create_provider(
        &self,
        request: Request<pb::CreateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        authorize(&request, &[Role::Manager, Role::Service])?;
        let new = convert::new_provider(request.into_inner()).map_err(SchedulingError::from)?;
        let provider = self.store.create_provider(&new, self.clock.now()).await?;
        tracing::info!(provider_id = %provider.provider_id, "provider added");
        Ok(Response::new(provider_to_proto(&provider)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_providers(
        &self,
        request: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersResponse>, Status> {
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
        let mut violations = FieldViolations::new();
        let Some((size, offset)) = convert::page(request.get_ref().page.as_ref(), &mut violations)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        let providers = self.store.providers(size, offset).await?;
        Ok(Response::new(pb::ListProvidersResponse {
            next_page_token: next_page_token(offset, size, providers.len()),
            providers: providers.iter().map(provider_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(provider_id))]
    async fn update_provider(
        &self,
        request: Request<pb::UpdateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        authorize(&request, &[Role::Manager])?;
        let update = convert::provider_update(request.get_ref()).map_err(SchedulingError::from)?;
        tracing::Span::current().record("provider_id", tracing::field::display(update.provider_id));
        let provider = self.store.update_provider(&update).await?;
        tracing::info!("provider changed");
        Ok(Response::new(provider_to_proto(&provider)))
    }

    #[tracing::instrument(skip_all, fields(provider_id))]
    async fn set_working_hours(
        &self,
        request: Request<pb::SetWorkingHoursRequest>,
    ) -> Result<Response<pb::WorkingHours>, Status> {
        authorize(&request, &[Role::Manager])?;
        let (provider_id, hours) =
            convert::working_hours(request.get_ref()).map_err(SchedulingError::from)?;
        tracing::Span::current().record("provider_id", tracing::field::display(provider_id));
        let hours = self.store.set_working_hours(provider_id, &hours).await?;
        tracing::info!(intervals = hours.intervals().len(), "working hours set");
        self.offer_new_hours(vec![provider_id]).await;
        Ok(Response::new(convert::working_hours_to_proto(
            provider_id,
            &hours,
        )))
    }

    #[tracing::instrument(skip_all, fields(provider_id))]
    async fn get_working_hours(
        &self,
        request: Request<pb::GetWorkingHoursRequest>,
    ) -> Result<Response<pb::WorkingHours>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let provider_id = convert::provider_id_of(&request.get_ref().provider_id)
            .map_err(SchedulingError::from)?;
        tracing::Span::current().record("provider_id", tracing::field::display(provider_id));
        let hours = self.store.working_hours(provider_id).await?;
        Ok(Response::new(convert::working_hours_to_proto(
            provider_id,
            &hours,
        )))
    }

    #[tracing::instrument(skip_all, fields(schedule_exception_id))]
    async fn add_schedule_exception(
        &self,
        request: Request<pb::AddScheduleExceptionRequest>,
    ) -> Result<Response<pb::ScheduleException>, Status> {
        let caller = authorize(&request, &[Role::Manager, Role::Reception])?;
        let new =
            convert::new_schedule_exception(request.get_ref()).map_err(SchedulingError::from)?;
        // The desk may block time (a patient's long visit, a chair out of use); holidays and
        // breaks shape everyone's week and are the manager's to set.
        if caller.role == Role::Reception && new.kind != ExceptionKind::Block {
            return Err(Status::permission_denied(
                "reception may add blocks only; holidays and breaks are for a manager",
            ));
        }
        let exception = self
            .store
            .add_schedule_exception(&new, &caller, self.clock.now())
            .await?;
        tracing::Span::current().record(
            "schedule_exception_id",
            tracing::field::display(exception.schedule_exception_id),
        );
        tracing::info!(kind = exception.kind.as_str(), "schedule exception added");
        Ok(Response::new(convert::schedule_exception_to_proto(
            &exception,
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn list_schedule_exceptions(
        &self,
        request: Request<pb::ListScheduleExceptionsRequest>,
    ) -> Result<Response<pb::ListScheduleExceptionsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let query = convert::exception_query(request.get_ref()).map_err(SchedulingError::from)?;
        let exceptions = self
            .store
            .schedule_exceptions(query.span, query.provider_id, query.size, query.offset)
            .await?;
        Ok(Response::new(pb::ListScheduleExceptionsResponse {
            next_page_token: next_page_token(query.offset, query.size, exceptions.len()),
            schedule_exceptions: exceptions
                .iter()
                .map(convert::schedule_exception_to_proto)
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(schedule_exception_id))]
    async fn delete_schedule_exception(
        &self,
        request: Request<pb::DeleteScheduleExceptionRequest>,
    ) -> Result<Response<pb::ScheduleException>, Status> {
        authorize(&request, &[Role::Manager])?;
        let exception_id = convert::schedule_exception_id(&request.get_ref().schedule_exception_id)
            .map_err(SchedulingError::from)?;
        tracing::Span::current().record(
            "schedule_exception_id",
            tracing::field::display(exception_id),
        );
        let exception = self.store.delete_schedule_exception(exception_id).await?;
        tracing::info!("schedule exception deleted");
        let freed_for = match exception.provider_id {
            Some(provider_id) => vec![provider_id],
            None => self.store.providers_with_hours().await?,
        };
        self.offer_new_hours(freed_for).await;
        Ok(Response::new(convert::schedule_exception_to_proto(
            &exception,
        )))
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn find_free_slots(
        &self,
        request: Request<pb::FindFreeSlotsRequest>,
    ) -> Result<Response<pb::FindFreeSlotsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let query = convert::slot_query(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_type_id(query.appointment_type_id);
        let appointment_type = self
            .store
            .appointment_type(query.appointment_type_id)
            .await?
            .ok_or(SchedulingError::AppointmentTypeNotFound(
                query.appointment_type_id,
            ))?;
        if appointment_type.deleted_at.is_some() {
            return Err(SchedulingError::from(FieldViolations::single(
                "appointment_type_id",
                "is deleted and can no longer be booked",
            ))
            .into());
        }
        let time_zone = self.settings.clinic.time_zone;
        let search = SlotSearch {
            first: query.first,
            last: query.last,
            length: appointment_type.details.length.as_delta(),
            preferences: query.preferences,
        };
        let providers = match query.provider_id {
            Some(provider_id) => vec![provider_id],
            None => self.store.providers_with_hours().await?,
        };
        let now = self.clock.now();
        let reach = search.reach(time_zone);
        let (needs, calendars) = self
            .resource_calendars(query.appointment_type_id, reach)
            .await?;
        let mut slots = Vec::new();
        for provider_id in providers {
            // Reads the hours first, so an unknown provider is NOT_FOUND.
            let hours = self.store.working_hours(provider_id).await?;
            if hours.is_empty() {
                continue;
            }
            let blocked = self.store.blocked_times(provider_id, reach).await?;
            for start in free_slots(&hours, &blocked, &search, now, time_zone) {
                if resources::resources_allow(&needs, &calendars, (start, search.length), time_zone)
                {
                    slots.push((start, provider_id));
                }
            }
        }
        slots.sort_by_key(|(start, provider_id)| (*start, provider_id.to_string()));
        let page: Vec<pb::FreeSlot> = slots
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.size).unwrap_or(usize::MAX))
            .map(|slot| convert::free_slot_to_proto(slot, search.length))
            .collect();
        Ok(Response::new(pb::FindFreeSlotsResponse {
            next_page_token: next_page_token(query.offset, query.size, page.len()),
            slots: page,
        }))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn create_appointment(
        &self,
        request: Request<pb::CreateAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let requested =
            convert::new_appointment(request.into_inner()).map_err(SchedulingError::from)?;
        // A retry is answered from what the first call stored, even if the registry is down or
        // the appointment type has changed since.
        if let Some(earlier) = self
            .store
            .earlier_booking(&requested.request_id, &requested.fingerprint())
            .await?
        {
            record_appointment_id(earlier.appointment_id);
            return Ok(Response::new(appointment_to_proto(&earlier)));
        }
        let appointment_type = match requested.appointment_type_id {
            Some(appointment_type_id) => Some(
                self.store
                    .appointment_type(appointment_type_id)
                    .await?
                    .ok_or(SchedulingError::UnusableAppointmentType(
                        "is not a known appointment type",
                    ))?,
            ),
            None => None,
        };
        let mut new = requested.resolve(appointment_type.as_ref())?;
        self.add_type_requirements(&mut new).await?;
        let initials = self.registry.initials(new.patient_id).await?;
        let appointment = self
            .store
            .book(
                &new,
                &initials,
                &caller,
                (self.clock.now(), self.settings.clinic.time_zone),
            )
            .await?;
        record_appointment_id(appointment.appointment_id);
        tracing::info!("appointment booked");
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn create_appointment_type(
        &self,
        request: Request<pb::CreateAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Manager])?;
        let new =
            convert::new_appointment_type(request.get_ref()).map_err(SchedulingError::from)?;
        let appointment_type = self
            .store
            .create_appointment_type(&new, self.clock.now())
            .await?;
        record_appointment_type_id(appointment_type.appointment_type_id);
        tracing::info!("appointment type added");
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn get_appointment_type(
        &self,
        request: Request<pb::GetAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let appointment_type_id =
            requested_appointment_type(&request.get_ref().appointment_type_id)?;
        let appointment_type = self
            .store
            .appointment_type(appointment_type_id)
            .await?
            .ok_or(SchedulingError::AppointmentTypeNotFound(
                appointment_type_id,
            ))?;
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn list_appointment_types(
        &self,
        request: Request<pb::ListAppointmentTypesRequest>,
    ) -> Result<Response<pb::ListAppointmentTypesResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let mut violations = FieldViolations::new();
        let Some((size, offset)) = convert::page(request.get_ref().page.as_ref(), &mut violations)
        else {
            return Err(SchedulingError::from(violations).into());
        };
        let types = self
            .store
            .appointment_types(request.get_ref().show_deleted, size, offset)
            .await?;
        Ok(Response::new(pb::ListAppointmentTypesResponse {
            next_page_token: next_page_token(offset, size, types.len()),
            appointment_types: types
                .iter()
                .map(convert::appointment_type_to_proto)
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn update_appointment_type(
        &self,
        request: Request<pb::UpdateAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Manager])?;
        let (appointment_type_id, details) =
            convert::type_update(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_type_id(appointment_type_id);
        let appointment_type = self
            .store
            .update_appointment_type(appointment_type_id, &details, self.clock.now())
            .await?;
        tracing::info!("appointment type changed");
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn delete_appointment_type(
        &self,
        request: Request<pb::DeleteAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        authorize(&request, &[Role::Manager])?;
        let appointment_type_id =
            requested_appointment_type(&request.get_ref().appointment_type_id)?;
        let appointment_type = self
            .store
            .delete_appointment_type(appointment_type_id, self.clock.now())
            .await?;
        tracing::info!("appointment type deleted");
        Ok(Response::new(convert::appointment_type_to_proto(
            &appointment_type,
        )))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn get_appointment(
        &self,
        request: Request<pb::GetAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let appointment_id = convert::appointment_id(&request.get_ref().appointment_id)
            .map_err(|problem| FieldViolations::single("appointment_id", problem))
            .map_err(SchedulingError::from)?;
        record_appointment_id(appointment_id);
        let appointment = self
            .store
            .appointment(appointment_id)
            .await?
            .ok_or(SchedulingError::AppointmentNotFound(appointment_id))?;
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_appointments(
        &self,
        request: Request<pb::ListAppointmentsRequest>,
    ) -> Result<Response<pb::ListAppointmentsResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let query = convert::appointment_query(request.get_ref(), self.settings.clinic.time_zone)
            .map_err(SchedulingError::from)?;
        let appointments = self
            .store
            .appointments_between(
                query.span,
                query.provider_id,
                query.patient_id,
                query.size,
                query.offset,
            )
            .await?;
        Ok(Response::new(pb::ListAppointmentsResponse {
            next_page_token: next_page_token(query.offset, query.size, appointments.len()),
            appointments: appointments.iter().map(appointment_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn cancel_appointment(
        &self,
        request: Request<pb::CancelAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let (appointment_id, reason) =
            convert::cancellation(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_id(appointment_id);
        let (appointment, change) = self
            .store
            .cancel(appointment_id, reason, &caller, self.clock.now())
            .await?;
        if let Some(change) = change {
            self.feed.publish(change).await;
        }
        self.offer_freed(&appointment, FreedBy::Cancelled).await;
        tracing::info!(
            late = appointment.cancellation.as_ref().is_some_and(|c| c.late),
            "appointment cancelled"
        );
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn confirm_appointment(
        &self,
        request: Request<pb::ConfirmAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let appointment_id = convert::appointment_id(&request.get_ref().appointment_id)
            .map_err(|problem| FieldViolations::single("appointment_id", problem))
            .map_err(SchedulingError::from)?;
        record_appointment_id(appointment_id);
        let appointment = self
            .store
            .confirm(appointment_id, &caller, self.clock.now())
            .await?;
        Ok(Response::new(appointment_to_proto(&appointment)))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn complete_appointment(
        &self,
        request: Request<pb::CompleteAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let appointment = self
            .step_appointment(&request.get_ref().appointment_id, Step::Complete, &caller)
            .await?;
        Ok(Response::new(appointment))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn check_out_appointment(
        &self,
        request: Request<pb::CheckOutAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let appointment = self
            .step_appointment(&request.get_ref().appointment_id, Step::CheckOut, &caller)
            .await?;
        Ok(Response::new(appointment))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn mark_no_show(
        &self,
        request: Request<pb::MarkNoShowRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let appointment = self
            .step_appointment(&request.get_ref().appointment_id, Step::MarkNoShow, &caller)
            .await?;
        self.offer_freed_by_id(&appointment.appointment_id, FreedBy::NoShow)
            .await;
        Ok(Response::new(appointment))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn reschedule_appointment(
        &self,
        request: Request<pb::RescheduleAppointmentRequest>,
    ) -> Result<Response<pb::RescheduleAppointmentResponse>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let requested = convert::reschedule(request.get_ref()).map_err(SchedulingError::from)?;
        record_appointment_id(requested.appointment_id);
        let end = match requested.end {
            Some(end) => end,
            None => {
                // As long as the visit it replaces.
                let current = self
                    .store
                    .appointment(requested.appointment_id)
                    .await?
                    .ok_or(SchedulingError::AppointmentNotFound(
                        requested.appointment_id,
                    ))?;
                requested.start + (current.slot.end() - current.slot.start())
            }
        };
        let slot = AppointmentSlot::new(requested.start, end).map_err(|problems| {
            let mut violations = FieldViolations::new();
            for (field, problem) in [("start_time", problems.start), ("end_time", problems.end)] {
                if let Some(problem) = problem {
                    violations.add(field, problem);
                }
            }
            SchedulingError::from(violations)
        })?;
        let command = Reschedule {
            appointment_id: requested.appointment_id,
            slot,
            request_id: requested.request_id,
        };
        let (old, new) = self
            .store
            .reschedule(
                &command,
                &caller,
                (self.clock.now(), self.settings.clinic.time_zone),
            )
            .await?;
        tracing::info!(new_appointment_id = %new.appointment_id, "appointment rescheduled");
        self.offer_freed(&old, FreedBy::Rescheduled).await;
        Ok(Response::new(pb::RescheduleAppointmentResponse {
            rescheduled_appointment: Some(appointment_to_proto(&old)),
            appointment: Some(appointment_to_proto(&new)),
        }))
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn call_next(
        &self,
        request: Request<pb::CallNextRequest>,
    ) -> Result<Response<pb::QueueEntry>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let command = convert::call_next(request.get_ref()).map_err(SchedulingError::from)?;
        let now = self.clock.now();
        let today = local_date(now, self.settings.clinic.time_zone);
        let (entry, change) = self.store.call_next(&command, today, &caller, now).await?;
        record_queue_entry_id(entry.queue_entry_id);
        if let Some(change) = change {
            self.feed.publish(change).await;
            tracing::info!(ticket = %entry.ticket, "patient called");
        }
        Ok(Response::new(convert::queue_entry_to_proto(&entry)))
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn recall_queue_entry(
        &self,
        request: Request<pb::RecallQueueEntryRequest>,
    ) -> Result<Response<pb::QueueEntry>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let stepped = self
            .step_queue_entry(
                &request.get_ref().queue_entry_id,
                QueueStep::Recall,
                &caller,
            )
            .await?;
        Ok(Response::new(convert::queue_entry_to_proto(&stepped.entry)))
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn seat_queue_entry(
        &self,
        request: Request<pb::SeatQueueEntryRequest>,
    ) -> Result<Response<pb::SeatQueueEntryResponse>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let stepped = self
            .step_queue_entry(&request.get_ref().queue_entry_id, QueueStep::Seat, &caller)
            .await?;
        Ok(Response::new(pb::SeatQueueEntryResponse {
            queue_entry: Some(convert::queue_entry_to_proto(&stepped.entry)),
            appointment: stepped.appointment.as_ref().map(appointment_to_proto),
        }))
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn mark_queue_entry_left(
        &self,
        request: Request<pb::MarkQueueEntryLeftRequest>,
    ) -> Result<Response<pb::QueueEntry>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let stepped = self
            .step_queue_entry(&request.get_ref().queue_entry_id, QueueStep::Leave, &caller)
            .await?;
        Ok(Response::new(convert::queue_entry_to_proto(&stepped.entry)))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn list_appointment_status_changes(
        &self,
        request: Request<pb::ListAppointmentStatusChangesRequest>,
    ) -> Result<Response<pb::ListAppointmentStatusChangesResponse>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let appointment_id = violations.check(
            "appointment_id",
            convert::appointment_id(&request.appointment_id),
        );
        let page = convert::page(request.page.as_ref(), &mut violations);
        let (Some(appointment_id), Some((size, offset))) = (appointment_id, page) else {
            return Err(SchedulingError::from(violations).into());
        };
        record_appointment_id(appointment_id);
        let changes = self
            .store
            .status_changes(appointment_id, size, offset)
            .await?;
        Ok(Response::new(pb::ListAppointmentStatusChangesResponse {
            next_page_token: next_page_token(offset, size, changes.len()),
            status_changes: changes
                .iter()
                .map(convert::status_change_to_proto)
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn find_todays_appointment(
        &self,
        request: Request<pb::FindTodaysAppointmentRequest>,
    ) -> Result<Response<pb::KioskAppointment>, Status> {
        let caller = authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let lookup = convert::kiosk_lookup(request.get_ref()).map_err(SchedulingError::from)?;
        self.guard_kiosk(&caller).await?;
        let Some((appointment, facts)) = self.find_todays(&lookup).await? else {
            self.kiosk_missed(&caller).await?;
            tracing::info!("kiosk lookup found nothing");
            return Err(SchedulingError::KioskNoMatch.into());
        };
        record_appointment_id(appointment.appointment_id);
        let provider = self
            .store
            .provider(appointment.provider_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("an appointment's provider is missing"))
            .map_err(SchedulingError::from)?;
        let first_visit = !self
            .store
            .seen_before(appointment.patient_id, appointment.slot.start())
            .await?;
        Ok(Response::new(convert::kiosk_appointment_to_proto(
            &KioskView {
                appointment: &appointment,
                provider_display_name: provider.display_name.as_str(),
                given_name: &facts.given_name,
                first_visit,
            },
        )))
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn check_in_appointment(
        &self,
        request: Request<pb::CheckInAppointmentRequest>,
    ) -> Result<Response<pb::CheckInAppointmentResponse>, Status> {
        let caller = authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let at_kiosk = caller.role == Role::Kiosk;
        let command =
            convert::check_in(request.get_ref(), at_kiosk).map_err(SchedulingError::from)?;
        self.guard_kiosk(&caller).await?;
        let found = match &command.target {
            CheckInTarget::Id(appointment_id) => self
                .store
                .appointment(*appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(*appointment_id)),
            CheckInTarget::Code(code) => self
                .store
                .appointment_by_code(code)
                .await?
                .ok_or(SchedulingError::ConfirmationCodeNotFound),
        };
        let appointment = match found {
            Ok(appointment) => appointment,
            Err(error) => {
                self.kiosk_missed(&caller).await?;
                return Err(error.into());
            }
        };
        record_appointment_id(appointment.appointment_id);
        // Identity first: until it is confirmed, a kiosk learns nothing about the appointment.
        if let Some(evidence) = &command.identity {
            let matches = self
                .registry
                .identity_matches(appointment.patient_id, evidence)
                .await?;
            if !matches {
                self.kiosk_missed(&caller).await?;
                tracing::info!("identity evidence did not match");
                return Err(SchedulingError::IdentityNotConfirmed.into());
            }
        }
        let now = self.clock.now();
        let time_zone = self.settings.clinic.time_zone;
        let routing = self.triage(&appointment).await?;
        let checked_in = self
            .store
            .check_in(
                appointment.appointment_id,
                routing,
                (local_date(now, time_zone), time_zone),
                &caller,
                now,
            )
            .await?;
        if let Some(change) = checked_in.change {
            self.feed.publish(change).await;
            tracing::info!(ticket = %checked_in.entry.ticket, "patient checked in");
        }
        let mut appointment = appointment_to_proto(&checked_in.appointment);
        if at_kiosk {
            // Clinical and staff notes are not for the lobby.
            appointment.reason.clear();
            appointment.cancel_reason.clear();
        }
        Ok(Response::new(pb::CheckInAppointmentResponse {
            appointment: Some(appointment),
            queue_entry: Some(convert::queue_entry_to_proto(&checked_in.entry)),
        }))
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn register_walk_in(
        &self,
        request: Request<pb::RegisterWalkInRequest>,
    ) -> Result<Response<pb::RegisterWalkInResponse>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let requested = convert::walk_in(request.get_ref()).map_err(SchedulingError::from)?;
        let fingerprint = requested.fingerprint();
        // A retry is answered from what the first call stored, even with the registry down.
        if let Some(earlier) = self
            .store
            .earlier_walk_in(&requested.request_id, &fingerprint)
            .await?
        {
            record_queue_entry_id(earlier.queue_entry_id);
            return Ok(Response::new(pb::RegisterWalkInResponse {
                queue_entry: Some(convert::queue_entry_to_proto(&earlier)),
            }));
        }
        let expected_length = match requested.appointment_type_id {
            Some(appointment_type_id) => {
                let usable = self
                    .store
                    .appointment_type(appointment_type_id)
                    .await?
                    .ok_or("is not a known appointment type")
                    .and_then(|appointment_type| match appointment_type.deleted_at {
                        Some(_) => Err("is deleted and can no longer be booked"),
                        None => Ok(appointment_type.details.length.as_delta()),
                    });
                usable
                    .map_err(|problem| FieldViolations::single("appointment_type_id", problem))
                    .map_err(SchedulingError::from)?
            }
            None => self.settings.triage.walk_in_length(),
        };
        let asked_for = match requested.provider_id {
            Some(provider_id) => {
                Some(self.store.provider(provider_id).await?.ok_or_else(|| {
                    SchedulingError::from(FieldViolations::single(
                        "provider_id",
                        "is not a known provider",
                    ))
                })?)
            }
            None => None,
        };
        let initials = match self.registry.initials(requested.patient_id).await {
            Err(SchedulingError::UnknownPatient(_)) => {
                return Err(SchedulingError::from(FieldViolations::single(
                    "patient_id",
                    "is not a registered patient",
                ))
                .into());
            }
            other => other?,
        };
        let now = self.clock.now();
        let time_zone = self.settings.clinic.time_zone;
        let today = local_date(now, time_zone);
        let first_visit = !self.store.seen_before(requested.patient_id, now).await?;
        let provider = match asked_for {
            Some(provider) => Some(provider),
            None if !first_visit => match self.store.last_seen_by(requested.patient_id).await? {
                Some(provider_id) => self.store.provider(provider_id).await?,
                None => None,
            },
            None => None,
        };
        let routed_to = self
            .route(first_visit, provider.as_ref())
            .await?
            .ok_or(SchedulingError::NobodyToRoute)?;
        let walk_in = WalkIn {
            patient_id: requested.patient_id,
            initials,
            provider_id: provider.map_or(routed_to, |provider| provider.provider_id),
            routing: Routing {
                routed_to,
                first_visit,
            },
            expected_length,
            request_id: requested.request_id,
            fingerprint,
        };
        let (entry, change) = self
            .store
            .register_walk_in(
                &walk_in,
                (today, clinic_common::time::day_span(today, time_zone)),
                &caller,
                now,
            )
            .await?;
        record_queue_entry_id(entry.queue_entry_id);
        if let Some(change) = change {
            self.feed.publish(change).await;
            tracing::info!(ticket = %entry.ticket, "walk-in joined the queue");
        }
        Ok(Response::new(pb::RegisterWalkInResponse {
            queue_entry: Some(convert::queue_entry_to_proto(&entry)),
        }))
    }

    type WatchQueueStream = Watch<pb::WatchQueueResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_queue(
        &self,
        request: Request<pb::WatchQueueRequest>,
    ) -> Result<Response<Self::WatchQueueStream>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let subscription = self.feed.subscribe();
        let (store, clock) = (self.store.clone(), self.clock.clone());
        let time_zone = self.settings.clinic.time_zone;
        let alert_after = self.alert_after();
        let stream = watch::follow(subscription, move |changed| {
            let (store, clock) = (store.clone(), clock.clone());
            async move {
                let now = clock.now();
                let today = local_date(now, time_zone);
                let entries = store.queue(today).await?;
                Ok(convert::staff_queue(
                    today,
                    &entries,
                    changed,
                    alert_after,
                    now,
                ))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    type WatchWaitingRoomStream = Watch<pb::WatchWaitingRoomResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_waiting_room(
        &self,
        request: Request<pb::WatchWaitingRoomRequest>,
    ) -> Result<Response<Self::WatchWaitingRoomStream>, Status> {
        authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let subscription = self.feed.subscribe();
        let (store, clock) = (self.store.clone(), self.clock.clone());
        let time_zone = self.settings.clinic.time_zone;
        let alert_after = self.alert_after();
        let stream = watch::follow(subscription, move |_changed| {
            let (store, clock) = (store.clone(), clock.clone());
            async move {
                let now = clock.now();
                let entries = store.queue(local_date(now, time_zone)).await?;
                Ok(convert::waiting_room(&entries, alert_after, now))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    // ---- Front desk flow: the bodies are in waitlist.rs, planned.rs and calls.rs.

    #[tracing::instrument(skip_all)]
    async fn create_waitlist_entry(
        &self,
        request: Request<pb::CreateWaitlistEntryRequest>,
    ) -> Result<Response<pb::WaitlistEntry>, Status> {
        self.do_create_waitlist_entry(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_waitlist_entries(
        &self,
        request: Request<pb::ListWaitlistEntriesRequest>,
    ) -> Result<Response<pb::ListWaitlistEntriesResponse>, Status> {
        self.do_list_waitlist_entries(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn remove_waitlist_entry(
        &self,
        request: Request<pb::RemoveWaitlistEntryRequest>,
    ) -> Result<Response<pb::WaitlistEntry>, Status> {
        self.do_remove_waitlist_entry(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_waitlist_offers(
        &self,
        request: Request<pb::ListWaitlistOffersRequest>,
    ) -> Result<Response<pb::ListWaitlistOffersResponse>, Status> {
        self.do_list_waitlist_offers(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn accept_waitlist_offer(
        &self,
        request: Request<pb::AcceptWaitlistOfferRequest>,
    ) -> Result<Response<pb::AcceptWaitlistOfferResponse>, Status> {
        self.do_accept_waitlist_offer(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn decline_waitlist_offer(
        &self,
        request: Request<pb::DeclineWaitlistOfferRequest>,
    ) -> Result<Response<pb::WaitlistOffer>, Status> {
        self.do_decline_waitlist_offer(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_planned_visit(
        &self,
        request: Request<pb::CreatePlannedVisitRequest>,
    ) -> Result<Response<pb::PlannedVisit>, Status> {
        self.do_create_planned_visit(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_planned_visits(
        &self,
        request: Request<pb::ListPlannedVisitsRequest>,
    ) -> Result<Response<pb::ListPlannedVisitsResponse>, Status> {
        self.do_list_planned_visits(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn book_planned_visit(
        &self,
        request: Request<pb::BookPlannedVisitRequest>,
    ) -> Result<Response<pb::BookPlannedVisitResponse>, Status> {
        self.do_book_planned_visit(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_call_tasks(
        &self,
        request: Request<pb::ListCallTasksRequest>,
    ) -> Result<Response<pb::ListCallTasksResponse>, Status> {
        self.do_list_call_tasks(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn complete_call_task(
        &self,
        request: Request<pb::CompleteCallTaskRequest>,
    ) -> Result<Response<pb::CallTask>, Status> {
        self.do_complete_call_task(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_tomorrow(
        &self,
        request: Request<pb::ListTomorrowRequest>,
    ) -> Result<Response<pb::ListTomorrowResponse>, Status> {
        self.do_list_tomorrow(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn list_outbox_messages(
        &self,
        request: Request<pb::ListOutboxMessagesRequest>,
    ) -> Result<Response<pb::ListOutboxMessagesResponse>, Status> {
        self.do_list_outbox_messages(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn record_reply(
        &self,
        request: Request<pb::RecordReplyRequest>,
    ) -> Result<Response<pb::RecordReplyResponse>, Status> {
        self.do_record_reply(request).await
    }
}
