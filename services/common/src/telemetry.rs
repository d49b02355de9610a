//! Logging. Services log through `tracing`; `RUST_LOG` picks what is shown.

use tracing_subscriber::EnvFilter;

/// Installs the process-wide subscriber. `default_filter` applies when `RUST_LOG` is unset.
/// Calling it again (as tests do) is harmless.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _already_installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
