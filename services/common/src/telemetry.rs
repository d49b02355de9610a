//! Logging. Services log through `tracing` to standard error (standard output is for what a
//! command prints, such as a token); `RUST_LOG` picks what is shown.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the process-wide subscriber. `default_filter` applies when `RUST_LOG` is unset.
/// Calling it again (as tests do) is harmless.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _already_installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        // Colour codes only where a person reads them, not in files and log collectors.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
