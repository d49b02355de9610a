//! What benchmarks share: logging as a running service does, and measuring what observing
//! calls (the per-call log line, metrics, request ids, spans) costs.

use std::fs::File;
use std::future::Future;
use std::sync::Mutex;

/// Installs a log subscriber as `clinic serve` has one (`info,sqlx=warn`, text lines), writing
/// to `/dev/null`: each line is formatted and written, as in production, but not shown.
pub fn log_like_a_service() -> anyhow::Result<()> {
    let sink = File::options().write(true).open("/dev/null")?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
        .with_writer(Mutex::new(sink))
        .try_init()
        .map_err(|error| anyhow::anyhow!("a log subscriber is already installed: {error}"))
}

/// Runs `run` (which returns operations per second) `rounds` times with calls observed and as
/// many times without, in the order without, with, with, without, … so that drift in the
/// machine's load, or in the data as it grows, falls on both alike. Returns the mean rates,
/// observed first. Leaves calls observed.
pub async fn with_and_without_observing<F, Fut>(
    rounds: usize,
    mut run: F,
) -> anyhow::Result<(f64, f64)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<f64>>,
{
    let (mut observed, mut unobserved) = (0.0, 0.0);
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for observing in order {
            clinic_common::rpc::set_observing(observing);
            let rate = run().await;
            clinic_common::rpc::set_observing(true);
            if observing {
                observed += rate?;
            } else {
                unobserved += rate?;
            }
        }
    }
    let rounds = rounds.max(1) as f64;
    Ok((observed / rounds, unobserved / rounds))
}
