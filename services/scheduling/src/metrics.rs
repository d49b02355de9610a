//! Scheduling's own metrics: the waiting room's queue and the outbox of messages to patients,
//! read from the database just before each scrape. The background tasks' last success is noted
//! by the tasks themselves (see `front_desk`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clinic_common::clock::SharedClock;
use clinic_common::metrics::{self, FloatGauge};
use clinic_common::time::local_date;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::domain::{QueueEntry, QueueEntryStatus};
use crate::store::SchedulingStore;

/// The service's name in its metrics.
pub const SERVICE: &str = "scheduling";

/// The statuses an outbox message can be in, all reported (a status with no message as 0).
const OUTBOX_STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "skipped"];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    state: String,
}

/// The gauges, registered once per process.
struct Gauges {
    queue_waiting: Gauge,
    queue_longest_wait: FloatGauge,
    outbox_messages: Family<OutboxLabels, Gauge>,
    outbox_oldest_pending_age: FloatGauge,
}

impl Gauges {
    fn register(registry: &mut Registry) -> Gauges {
        let gauges = Gauges {
            queue_waiting: Gauge::default(),
            queue_longest_wait: FloatGauge::default(),
            outbox_messages: Family::default(),
            outbox_oldest_pending_age: FloatGauge::default(),
        };
        registry.register(
            "clinic_queue_waiting",
            "patients in today's waiting room, not yet called",
            gauges.queue_waiting.clone(),
        );
        registry.register(
            "clinic_queue_longest_wait_seconds",
            "how long the patient who has waited longest today has been waiting (0: nobody waits)",
            gauges.queue_longest_wait.clone(),
        );
        registry.register(
            "clinic_outbox_messages",
            "messages to patients in the outbox, by state",
            gauges.outbox_messages.clone(),
        );
        registry.register(
            "clinic_outbox_oldest_pending_age_seconds",
            "age of the oldest message not yet sent (0: none waits)",
            gauges.outbox_oldest_pending_age.clone(),
        );
        gauges
    }
}

/// Keeps the queue and outbox gauges current from `store`; `time_zone` says which day is today.
pub fn watch(store: SchedulingStore, clock: SharedClock, time_zone: Tz) {
    let metrics = metrics::for_service(SERVICE);
    let gauges = metrics.own(Gauges::register);
    metrics.set_sampler("queue and outbox", move || {
        let (store, clock, gauges) = (store.clone(), clock.clone(), Arc::clone(&gauges));
        async move {
            let now = clock.now();
            match store.queue(local_date(now, time_zone)).await {
                Ok(queue) => {
                    let (waiting, longest) = waiting_room(&queue, now);
                    gauges.queue_waiting.set(waiting);
                    gauges.queue_longest_wait.set(longest);
                }
                Err(error) => {
                    tracing::warn!(error = %error, "failed to read the queue for metrics")
                }
            }
            match store.outbox_depth().await {
                Ok((by_status, oldest)) => {
                    for state in OUTBOX_STATUSES {
                        let count = by_status
                            .iter()
                            .find(|(status, _)| status == state)
                            .map_or(0, |(_, count)| *count);
                        gauges
                            .outbox_messages
                            .get_or_create(&OutboxLabels {
                                state: state.into(),
                            })
                            .set(count);
                    }
                    gauges
                        .outbox_oldest_pending_age
                        .set(oldest.map_or(0.0, |oldest| seconds_since(oldest, now)));
                }
                Err(error) => {
                    tracing::warn!(error = %error, "failed to read the outbox for metrics")
                }
            }
        }
    });
}

/// Notes that background `task` finished a round without an error.
pub fn task_succeeded(task: &'static str) {
    metrics::for_service(SERVICE).task_succeeded(task);
}

/// How many wait to be called, and the longest of their waits in seconds.
fn waiting_room(queue: &[QueueEntry], now: DateTime<Utc>) -> (i64, f64) {
    let waiting: Vec<&QueueEntry> = queue
        .iter()
        .filter(|entry| entry.status == QueueEntryStatus::Waiting)
        .collect();
    let longest = waiting
        .iter()
        .map(|entry| seconds_since(entry.arrived_at, now))
        .fold(0.0, f64::max);
    (i64::try_from(waiting.len()).unwrap_or(i64::MAX), longest)
}

fn seconds_since(then: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    ((now - then).num_milliseconds().max(0) as f64) / 1000.0
}
