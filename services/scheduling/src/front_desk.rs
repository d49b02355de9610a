//! The front desk's background work: every `late_check_every_seconds`, late patients get a call
//! task (the list also makes them when read, so it is right between rounds); every
//! `messages_every_seconds`, due reminders and wait updates are written to the outbox and due
//! messages sent. Runs on every replica: unique constraints keep one task per appointment and
//! one message per round, and a message is claimed before it is sent.

use std::sync::Arc;
use std::time::Duration;

use clinic_common::clock::SharedClock;
use tokio_util::sync::CancellationToken;

use crate::config::{FrontDeskSettings, Settings};
use crate::domain::calls::late_window;
use crate::grpc::PatientRegistry;
use crate::reminders::Senders;
use crate::store::SchedulingStore;

/// Starts the background work; it ends when `stopping` is cancelled.
pub fn spawn(
    store: SchedulingStore,
    clock: SharedClock,
    settings: FrontDeskSettings,
    stopping: CancellationToken,
) {
    let every = Duration::from_secs(u64::from(settings.late_check_every_seconds.max(1)));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stopping.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let now = clock.now();
            match store
                .make_late_tasks(late_window(now, settings.late_after()), now)
                .await
            {
                Ok(made) => {
                    if made > 0 {
                        tracing::info!(made, "call tasks made for late patients");
                    }
                    crate::metrics::task_succeeded("late_arrivals");
                }
                Err(error) => tracing::warn!(error = %error, "failed to look for late patients"),
            }
        }
    });
}

/// Starts the messaging work: planning the outbox and sending; it ends when `stopping` is
/// cancelled.
pub fn spawn_messages(
    store: SchedulingStore,
    registry: PatientRegistry,
    clock: SharedClock,
    settings: Arc<Settings>,
    stopping: CancellationToken,
) {
    let senders = Senders::from_settings(&settings);
    let every = Duration::from_secs(u64::from(settings.front_desk.messages_every_seconds.max(1)));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stopping.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let now = clock.now();
            let planned = crate::reminders::plan(&store, &registry, &settings, now).await;
            if let Err(error) = &planned {
                tracing::warn!(error = %error, "failed to write due messages");
            }
            let sent = crate::reminders::dispatch(&store, &senders, now).await;
            match &sent {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "messages sent"),
                Err(error) => tracing::warn!(error = %error, "failed to send messages"),
            }
            if planned.is_ok() && sent.is_ok() {
                crate::metrics::task_succeeded("messages");
            }
        }
    });
}
