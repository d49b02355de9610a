//! The queue RPCs: calling the next patient, recalling, seating, a patient leaving, walk-ins,
//! and the two live views of the queue (staff's and the waiting room's).

use clinic_common::auth::{Caller, Role, authorize};
use clinic_common::time::local_date;
use clinic_common::validation::FieldViolations;
use clinic_proto::scheduling::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert::{self, appointment_to_proto};
use super::{SchedulingGrpc, Watch, watch};
use crate::domain::{QueueStep, SchedulingError};
use crate::spans::record_queue_entry_id;
use crate::store::Stepped;

impl SchedulingGrpc {
    pub(super) async fn do_call_next(
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

    pub(super) async fn do_recall_queue_entry(
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

    pub(super) async fn do_seat_queue_entry(
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

    pub(super) async fn do_mark_queue_entry_left(
        &self,
        request: Request<pb::MarkQueueEntryLeftRequest>,
    ) -> Result<Response<pb::QueueEntry>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let stepped = self
            .step_queue_entry(&request.get_ref().queue_entry_id, QueueStep::Leave, &caller)
            .await?;
        Ok(Response::new(convert::queue_entry_to_proto(&stepped.entry)))
    }

    pub(super) async fn do_register_walk_in(
        &self,
        request: Request<pb::RegisterWalkInRequest>,
    ) -> Result<Response<pb::RegisterWalkInResponse>, Status> {
        let caller = authorize(&request, &[Role::Reception, Role::Manager])?;
        let requested = convert::walk_in(request.get_ref()).map_err(SchedulingError::from)?;
        let entry = self
            .scheduling
            .register_walk_in(&requested, &caller)
            .await?;
        Ok(Response::new(pb::RegisterWalkInResponse {
            queue_entry: Some(convert::queue_entry_to_proto(&entry)),
        }))
    }

    pub(super) async fn do_watch_queue(
        &self,
        request: Request<pb::WatchQueueRequest>,
    ) -> Result<Response<Watch<pb::WatchQueueResponse>>, Status> {
        authorize(&request, &[Role::Reception, Role::Manager, Role::Service])?;
        let subscription = self.feed.subscribe();
        let (store, clock) = (self.store.clone(), self.clock.clone());
        let time_zone = self.settings.clinic.time_zone;
        let alert_after = self.alert_after();
        let guard = self.settings.kiosk.guard();
        let stream = watch::follow(subscription, move |changed| {
            let (store, clock) = (store.clone(), clock.clone());
            async move {
                let now = clock.now();
                let today = local_date(now, time_zone);
                let entries = store.queue(today).await?;
                let misses = store.kiosk_misses_since(guard.counted_since(now)).await?;
                let locks = guard.locks(&misses, now);
                Ok(convert::staff_queue(
                    today,
                    &entries,
                    &locks,
                    changed,
                    alert_after,
                    now,
                ))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    pub(super) async fn do_watch_waiting_room(
        &self,
        request: Request<pb::WatchWaitingRoomRequest>,
    ) -> Result<Response<Watch<pb::WatchWaitingRoomResponse>>, Status> {
        authorize(&request, &[Role::Kiosk, Role::Reception, Role::Manager])?;
        let subscription = self.feed.subscribe();
        let (store, clock) = (self.store.clone(), self.clock.clone());
        let time_zone = self.settings.clinic.time_zone;
        let alert_after = self.alert_after();
        let stream = watch::follow(subscription, move |_changed| {
            let (store, clock) = (store.clone(), clock.clone());
            async move {
                let now = clock.now();
                let today = local_date(now, time_zone);
                let entries = store.queue(today).await?;
                let called_to = store.called_to(today).await?;
                Ok(convert::waiting_room(
                    &entries,
                    &called_to,
                    alert_after,
                    now,
                ))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    /// Takes `step` of the queue entry named by `text`, announcing the change.
    async fn step_queue_entry(
        &self,
        text: &str,
        step: QueueStep,
        caller: &Caller,
    ) -> Result<Stepped, Status> {
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

    /// How long a patient may wait before the queue flags them overdue.
    fn alert_after(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::minutes(i64::from(self.settings.queue_alert_after_minutes))
    }
}
