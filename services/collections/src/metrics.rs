//! Collections' own metrics: how far the receivables are behind billing's ledger feed, read
//! from the database just before each scrape, and the background tasks' last success.

use std::sync::Arc;

use clinic_common::metrics::{self, FloatGauge};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::store::ReceivablesStore;

/// The service's name in its metrics.
pub const SERVICE: &str = "collections";

/// The gauges, registered once per process.
struct Gauges {
    feed_lag: Gauge,
    last_applied: FloatGauge,
}

impl Gauges {
    fn register(registry: &mut Registry) -> Gauges {
        let gauges = Gauges {
            feed_lag: Gauge::default(),
            last_applied: FloatGauge::default(),
        };
        registry.register(
            "clinic_collections_feed_lag_entries",
            "billing's ledger entries not yet applied to the receivables, as of the last sync",
            gauges.feed_lag.clone(),
        );
        registry.register(
            "clinic_collections_feed_last_applied_timestamp_seconds",
            "when the receivables last caught up with a page of billing's ledger (Unix time; 0: never)",
            gauges.last_applied.clone(),
        );
        gauges
    }
}

/// Keeps the feed's gauges current from `store`.
pub fn watch(store: ReceivablesStore) {
    let metrics = metrics::for_service(SERVICE);
    let gauges = metrics.own(Gauges::register);
    metrics.set_sampler("ledger feed", move || {
        let (store, gauges) = (store.clone(), Arc::clone(&gauges));
        async move {
            match store.sync_status().await {
                Ok(status) => {
                    gauges
                        .feed_lag
                        .set((status.billing_head_sequence - status.applied_sequence).max(0));
                    gauges.last_applied.set(
                        status
                            .last_sync_at
                            .map_or(0.0, |at| at.timestamp_millis() as f64 / 1000.0),
                    );
                }
                Err(error) => {
                    tracing::warn!(error = %error, "failed to read the ledger cursor for metrics")
                }
            }
        }
    });
}

/// Notes that background `task` finished a round without an error.
pub fn task_succeeded(task: &'static str) {
    metrics::for_service(SERVICE).task_succeeded(task);
}
