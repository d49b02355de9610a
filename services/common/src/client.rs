//! Calling another clinic service. A service calls on its own behalf with a service token it
//! signs itself, over a channel that connects lazily, so services can start in any order and
//! ride out a restart of the one they call.

use std::time::Duration;

use anyhow::Context;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

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
