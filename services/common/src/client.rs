//! Calling another clinic service. A service calls on its own behalf with a service token it
//! signs itself, over a channel that connects lazily, so services can start in any order and
//! ride out a restart of the one they call.

use std::time::Duration;

use anyhow::Context;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::auth::{BearerToken, Role, TokenKey};
use crate::clock::Clock;

/// A channel to another service that carries this service's token.
pub type ServiceChannel = InterceptedService<Channel, BearerToken>;

/// How long one call to another service may take before it fails with `DEADLINE_EXCEEDED`.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A lazily connecting channel to `url` on behalf of `service` (e.g. `scheduling`), whose calls
/// carry a non-expiring service token signed with `key`.
pub fn service_channel(
    url: &str,
    service: &str,
    key: &TokenKey,
    clock: &dyn Clock,
) -> anyhow::Result<ServiceChannel> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid service URL {url:?}"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(CALL_TIMEOUT)
        .connect_lazy();
    let token = key.issue(
        &format!("service:{service}"),
        Role::Service,
        clock.now(),
        None,
    );
    Ok(InterceptedService::new(channel, BearerToken::new(&token)?))
}

/// Whether a failed call to another service means it could not be reached (down, restarting,
/// overloaded or too slow), so the caller may answer UNAVAILABLE and the client retry, rather
/// than an answer the service gave.
///
/// Statuses a service sends carry no source error; the ones tonic builds from a refused, reset
/// or closed connection do, and their code depends on how the connection broke: a service that
/// shuts down mid-call can surface as INTERNAL, UNKNOWN or CANCELLED, not only UNAVAILABLE.
pub fn is_unreachable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted
    ) || std::error::Error::source(status).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_connection_is_unreachable_whatever_its_code() {
        let reset = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "connection closed");
        let status = Status::from_error(Box::new(reset));
        assert_ne!(status.code(), Code::Unavailable);
        assert!(is_unreachable(&status));
    }

    #[test]
    fn answers_the_service_gave_are_not_unreachability() {
        assert!(is_unreachable(&Status::unavailable("draining")));
        assert!(!is_unreachable(&Status::internal("internal error")));
        assert!(!is_unreachable(&Status::permission_denied("no")));
        assert!(!is_unreachable(&Status::not_found("no such patient")));
    }
}
