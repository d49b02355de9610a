//! The front desk's background work: every `late_check_every_seconds`, late patients get a call
//! task (the list also makes them when read, so it is right between rounds). Runs on every
//! replica; the table's unique constraint keeps one task per appointment.

use std::time::Duration;

use clinic_common::clock::SharedClock;
use tokio_util::sync::CancellationToken;

use crate::config::FrontDeskSettings;
use crate::domain::calls::late_window;
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
                Ok(0) => {}
                Ok(made) => tracing::info!(made, "call tasks made for late patients"),
                Err(error) => tracing::warn!(error = %error, "failed to look for late patients"),
            }
        }
    });
}
