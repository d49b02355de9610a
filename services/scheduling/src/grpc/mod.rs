//! Scheduling over gRPC: each handler checks the caller's role, converts the request into a
//! domain command, runs it and converts the result back.

mod convert;
mod error;
mod registry;
mod watch;

use std::pin::Pin;
use std::sync::Arc;

use clinic_common::auth::{Role, authorize};
use clinic_common::clock::SharedClock;
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use clinic_proto::next_page_token;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_server::SchedulingService;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::config::Settings;
use crate::domain::SchedulingError;
use crate::feed::QueueFeed;
use crate::store::SchedulingStore;

use convert::{CheckInTarget, appointment_to_proto, provider_to_proto};
pub use registry::PatientRegistry;

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
}

fn record_appointment_id(appointment_id: impl std::fmt::Display) {
    tracing::Span::current().record("appointment_id", tracing::field::display(appointment_id));
}

#[tonic::async_trait]
impl SchedulingService for SchedulingGrpc {
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

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn create_appointment(
        &self,
        request: Request<pb::CreateAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let new = convert::new_appointment(request.into_inner()).map_err(SchedulingError::from)?;
        // A retry is answered from what the first call stored, even if the registry is down.
        if let Some(earlier) = self.store.earlier_booking(&new).await? {
            record_appointment_id(earlier.appointment_id);
            return Ok(Response::new(appointment_to_proto(&earlier)));
        }
        let initials = self.registry.initials(new.patient_id).await?;
        let appointment = self
            .store
            .book(&new, &initials, &caller, self.clock.now())
            .await?;
        record_appointment_id(appointment.appointment_id);
        tracing::info!("appointment booked");
        Ok(Response::new(appointment_to_proto(&appointment)))
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
            self.feed.publish(change);
        }
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
    async fn check_in_appointment(
        &self,
        request: Request<pb::CheckInAppointmentRequest>,
    ) -> Result<Response<pb::CheckInAppointmentResponse>, Status> {
        let caller = authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let at_kiosk = caller.role == Role::Kiosk;
        let command =
            convert::check_in(request.get_ref(), at_kiosk).map_err(SchedulingError::from)?;
        let appointment = match &command.target {
            CheckInTarget::Id(appointment_id) => self
                .store
                .appointment(*appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(*appointment_id))?,
            CheckInTarget::Code(code) => self
                .store
                .appointment_by_code(code)
                .await?
                .ok_or(SchedulingError::ConfirmationCodeNotFound)?,
        };
        record_appointment_id(appointment.appointment_id);
        // Identity first: until it is confirmed, a kiosk learns nothing about the appointment.
        if let Some(evidence) = &command.identity {
            let matches = self
                .registry
                .identity_matches(appointment.patient_id, evidence)
                .await?;
            if !matches {
                tracing::info!("identity evidence did not match");
                return Err(SchedulingError::IdentityNotConfirmed.into());
            }
        }
        let now = self.clock.now();
        let time_zone = self.settings.clinic.time_zone;
        let checked_in = self
            .store
            .check_in(
                appointment.appointment_id,
                local_date(now, time_zone),
                time_zone,
                &caller,
                now,
            )
            .await?;
        if let Some(change) = checked_in.change {
            self.feed.publish(change);
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
        let stream = watch::follow(subscription, move |changed| {
            let (store, clock) = (store.clone(), clock.clone());
            async move {
                let now = clock.now();
                let today = local_date(now, time_zone);
                let entries = store.queue(today).await?;
                Ok(convert::staff_queue(today, &entries, changed, now))
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
        let stream = watch::follow(subscription, move |_changed| {
            let (store, clock) = (store.clone(), clock.clone());
            async move {
                let now = clock.now();
                let entries = store.queue(local_date(now, time_zone)).await?;
                Ok(convert::waiting_room(&entries, now))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
