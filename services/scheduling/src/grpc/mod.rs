//! Scheduling over gRPC: each handler checks the caller's role, converts the request into a
//! domain command, runs it and converts the result back. A request that takes one store call
//! makes it; one that takes more steps (asking the patient registry, announcing queue changes,
//! offering freed time to the waitlist) calls one function of `app`.
//!
//! The handler bodies sit in one module per area, as in `domain`; [`SchedulingService`] below
//! forwards each RPC to its body, under the RPC's span.

mod appointment_types;
mod appointments;
mod calls;
mod convert;
mod error;
mod hours;
mod kiosk;
mod planned;
mod providers;
mod queue;
mod registry;
mod reminders;
mod reports;
mod resources;
mod waitlist;
mod watch;

use std::pin::Pin;
use std::sync::Arc;

use clinic_common::clock::SharedClock;
use clinic_common::ids::AppointmentId;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_server::SchedulingService;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::app::Scheduling;
use crate::config::Settings;
use crate::domain::{AppointmentTypeId, SchedulingError};
use crate::feed::QueueFeed;
use crate::spans::{record_appointment_id, record_appointment_type_id};
use crate::store::SchedulingStore;

pub use registry::{PatientContact, PatientRegistry};

/// A server stream of `T`.
type Watch<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Implements `clinic.scheduling.v1.SchedulingService`.
pub struct SchedulingGrpc {
    store: SchedulingStore,
    scheduling: Scheduling,
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
        let scheduling = Scheduling::new(
            store.clone(),
            registry,
            feed.clone(),
            clock.clone(),
            settings.clone(),
        );
        SchedulingGrpc {
            store,
            scheduling,
            feed,
            clock,
            settings,
        }
    }
}

/// The `appointment_type_id` of a request naming one appointment type.
fn requested_appointment_type(text: &str) -> Result<AppointmentTypeId, Status> {
    let appointment_type_id = convert::appointment_type_id(text)
        .map_err(|problem| FieldViolations::single("appointment_type_id", problem))
        .map_err(SchedulingError::from)?;
    record_appointment_type_id(appointment_type_id);
    Ok(appointment_type_id)
}

/// The `appointment_id` of a request naming one appointment.
fn requested_appointment(text: &str) -> Result<AppointmentId, Status> {
    let appointment_id = convert::appointment_id(text)
        .map_err(|problem| FieldViolations::single("appointment_id", problem))
        .map_err(SchedulingError::from)?;
    record_appointment_id(appointment_id);
    Ok(appointment_id)
}

#[tonic::async_trait]
impl SchedulingService for SchedulingGrpc {
    async fn create_resource(
        &self,
        request: Request<pb::CreateResourceRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        self.do_create_resource(request).await
    }

    async fn list_resources(
        &self,
        request: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        self.do_list_resources(request).await
    }

    async fn update_resource(
        &self,
        request: Request<pb::UpdateResourceRequest>,
    ) -> Result<Response<pb::Resource>, Status> {
        self.do_update_resource(request).await
    }

    async fn set_resource_hours(
        &self,
        request: Request<pb::SetResourceHoursRequest>,
    ) -> Result<Response<pb::ResourceHours>, Status> {
        self.do_set_resource_hours(request).await
    }

    async fn get_resource_hours(
        &self,
        request: Request<pb::GetResourceHoursRequest>,
    ) -> Result<Response<pb::ResourceHours>, Status> {
        self.do_get_resource_hours(request).await
    }

    async fn add_resource_exception(
        &self,
        request: Request<pb::AddResourceExceptionRequest>,
    ) -> Result<Response<pb::ResourceException>, Status> {
        self.do_add_resource_exception(request).await
    }

    async fn list_resource_exceptions(
        &self,
        request: Request<pb::ListResourceExceptionsRequest>,
    ) -> Result<Response<pb::ListResourceExceptionsResponse>, Status> {
        self.do_list_resource_exceptions(request).await
    }

    async fn delete_resource_exception(
        &self,
        request: Request<pb::DeleteResourceExceptionRequest>,
    ) -> Result<Response<pb::ResourceException>, Status> {
        self.do_delete_resource_exception(request).await
    }

    async fn set_appointment_type_resources(
        &self,
        request: Request<pb::SetAppointmentTypeResourcesRequest>,
    ) -> Result<Response<pb::AppointmentTypeResources>, Status> {
        self.do_set_appointment_type_resources(request).await
    }

    async fn get_schedule_report(
        &self,
        request: Request<pb::GetScheduleReportRequest>,
    ) -> Result<Response<pb::ScheduleReport>, Status> {
        self.do_get_schedule_report(request).await
    }

    async fn get_appointment_type_resources(
        &self,
        request: Request<pb::GetAppointmentTypeResourcesRequest>,
    ) -> Result<Response<pb::AppointmentTypeResources>, Status> {
        self.do_get_appointment_type_resources(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_provider(
        &self,
        request: Request<pb::CreateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        self.do_create_provider(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_providers(
        &self,
        request: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersResponse>, Status> {
        self.do_list_providers(request).await
    }

    #[tracing::instrument(skip_all, fields(provider_id))]
    async fn update_provider(
        &self,
        request: Request<pb::UpdateProviderRequest>,
    ) -> Result<Response<pb::Provider>, Status> {
        self.do_update_provider(request).await
    }

    #[tracing::instrument(skip_all, fields(provider_id))]
    async fn set_working_hours(
        &self,
        request: Request<pb::SetWorkingHoursRequest>,
    ) -> Result<Response<pb::WorkingHours>, Status> {
        self.do_set_working_hours(request).await
    }

    #[tracing::instrument(skip_all, fields(provider_id))]
    async fn get_working_hours(
        &self,
        request: Request<pb::GetWorkingHoursRequest>,
    ) -> Result<Response<pb::WorkingHours>, Status> {
        self.do_get_working_hours(request).await
    }

    #[tracing::instrument(skip_all, fields(schedule_exception_id))]
    async fn add_schedule_exception(
        &self,
        request: Request<pb::AddScheduleExceptionRequest>,
    ) -> Result<Response<pb::ScheduleException>, Status> {
        self.do_add_schedule_exception(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_schedule_exceptions(
        &self,
        request: Request<pb::ListScheduleExceptionsRequest>,
    ) -> Result<Response<pb::ListScheduleExceptionsResponse>, Status> {
        self.do_list_schedule_exceptions(request).await
    }

    #[tracing::instrument(skip_all, fields(schedule_exception_id))]
    async fn delete_schedule_exception(
        &self,
        request: Request<pb::DeleteScheduleExceptionRequest>,
    ) -> Result<Response<pb::ScheduleException>, Status> {
        self.do_delete_schedule_exception(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn find_free_slots(
        &self,
        request: Request<pb::FindFreeSlotsRequest>,
    ) -> Result<Response<pb::FindFreeSlotsResponse>, Status> {
        self.do_find_free_slots(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn create_appointment(
        &self,
        request: Request<pb::CreateAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        self.do_create_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn create_appointment_type(
        &self,
        request: Request<pb::CreateAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        self.do_create_appointment_type(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn get_appointment_type(
        &self,
        request: Request<pb::GetAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        self.do_get_appointment_type(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_appointment_types(
        &self,
        request: Request<pb::ListAppointmentTypesRequest>,
    ) -> Result<Response<pb::ListAppointmentTypesResponse>, Status> {
        self.do_list_appointment_types(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn update_appointment_type(
        &self,
        request: Request<pb::UpdateAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        self.do_update_appointment_type(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_type_id))]
    async fn delete_appointment_type(
        &self,
        request: Request<pb::DeleteAppointmentTypeRequest>,
    ) -> Result<Response<pb::AppointmentType>, Status> {
        self.do_delete_appointment_type(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn get_appointment(
        &self,
        request: Request<pb::GetAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        self.do_get_appointment(request).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_appointments(
        &self,
        request: Request<pb::ListAppointmentsRequest>,
    ) -> Result<Response<pb::ListAppointmentsResponse>, Status> {
        self.do_list_appointments(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn cancel_appointment(
        &self,
        request: Request<pb::CancelAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        self.do_cancel_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn confirm_appointment(
        &self,
        request: Request<pb::ConfirmAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        self.do_confirm_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn complete_appointment(
        &self,
        request: Request<pb::CompleteAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        self.do_complete_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn check_out_appointment(
        &self,
        request: Request<pb::CheckOutAppointmentRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        self.do_check_out_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn mark_no_show(
        &self,
        request: Request<pb::MarkNoShowRequest>,
    ) -> Result<Response<pb::Appointment>, Status> {
        self.do_mark_no_show(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn reschedule_appointment(
        &self,
        request: Request<pb::RescheduleAppointmentRequest>,
    ) -> Result<Response<pb::RescheduleAppointmentResponse>, Status> {
        self.do_reschedule_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn call_next(
        &self,
        request: Request<pb::CallNextRequest>,
    ) -> Result<Response<pb::QueueEntry>, Status> {
        self.do_call_next(request).await
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn recall_queue_entry(
        &self,
        request: Request<pb::RecallQueueEntryRequest>,
    ) -> Result<Response<pb::QueueEntry>, Status> {
        self.do_recall_queue_entry(request).await
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn seat_queue_entry(
        &self,
        request: Request<pb::SeatQueueEntryRequest>,
    ) -> Result<Response<pb::SeatQueueEntryResponse>, Status> {
        self.do_seat_queue_entry(request).await
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn mark_queue_entry_left(
        &self,
        request: Request<pb::MarkQueueEntryLeftRequest>,
    ) -> Result<Response<pb::QueueEntry>, Status> {
        self.do_mark_queue_entry_left(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn list_appointment_status_changes(
        &self,
        request: Request<pb::ListAppointmentStatusChangesRequest>,
    ) -> Result<Response<pb::ListAppointmentStatusChangesResponse>, Status> {
        self.do_list_appointment_status_changes(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn find_todays_appointment(
        &self,
        request: Request<pb::FindTodaysAppointmentRequest>,
    ) -> Result<Response<pb::KioskAppointment>, Status> {
        self.do_find_todays_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(appointment_id))]
    async fn check_in_appointment(
        &self,
        request: Request<pb::CheckInAppointmentRequest>,
    ) -> Result<Response<pb::CheckInAppointmentResponse>, Status> {
        self.do_check_in_appointment(request).await
    }

    #[tracing::instrument(skip_all, fields(queue_entry_id))]
    async fn register_walk_in(
        &self,
        request: Request<pb::RegisterWalkInRequest>,
    ) -> Result<Response<pb::RegisterWalkInResponse>, Status> {
        self.do_register_walk_in(request).await
    }

    type WatchQueueStream = Watch<pb::WatchQueueResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_queue(
        &self,
        request: Request<pb::WatchQueueRequest>,
    ) -> Result<Response<Self::WatchQueueStream>, Status> {
        self.do_watch_queue(request).await
    }

    type WatchWaitingRoomStream = Watch<pb::WatchWaitingRoomResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_waiting_room(
        &self,
        request: Request<pb::WatchWaitingRoomRequest>,
    ) -> Result<Response<Self::WatchWaitingRoomStream>, Status> {
        self.do_watch_waiting_room(request).await
    }

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
    async fn get_clinic_day(
        &self,
        request: Request<pb::GetClinicDayRequest>,
    ) -> Result<Response<pb::ClinicDay>, Status> {
        self.do_get_clinic_day(request).await
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
