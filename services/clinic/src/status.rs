//! `clinic status`: asks each configured service's gRPC health and reflection endpoints what
//! they report, as an operator (or a deployment check) would.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::config::{Config, Service};

/// Prints each service's health and advertised services; fails unless all are SERVING.
pub async fn print(config: &Config) -> anyhow::Result<()> {
    let mut all_serving = true;
    let mut out = std::io::stdout().lock();
    for service in Service::ALL {
        let url = &config.service(service).url;
        let (health, advertised) = match connect(url).await {
            Ok(channel) => (health(channel.clone()).await, list_services(channel).await),
            Err(error) => (Err(error), Err(anyhow::anyhow!("not connected"))),
        };
        all_serving &= matches!(health, Ok(ServingStatus::Serving));
        let health = match health {
            Ok(status) => status.as_str_name().to_owned(),
            Err(error) => format!("UNREACHABLE ({error:#})"),
        };
        let advertised = match advertised {
            Ok(names) => names.join(", "),
            Err(error) => format!("reflection failed: {error:#}"),
        };
        writeln!(
            out,
            "{:<12} {:<26} {:<12} {}",
            service.name(),
            url,
            health,
            advertised
        )?;
    }
    anyhow::ensure!(all_serving, "not every service is serving");
    Ok(())
}

/// Exits successfully only when the service at `address` reports `service` (empty: the whole
/// server) SERVING.
pub async fn check(address: &str, service: &str) -> anyhow::Result<()> {
    let url = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let channel = connect(&url)
        .await
        .with_context(|| format!("{url} does not answer"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .with_context(|| format!("{url} did not answer the health check"))?;
    let status =
        ServingStatus::try_from(response.into_inner().status).context("unknown health status")?;
    println!("{}", status.as_str_name());
    anyhow::ensure!(status == ServingStatus::Serving, "not serving");
    Ok(())
}

async fn connect(url: &str) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .connect()
        .await?)
}

async fn health(channel: Channel) -> anyhow::Result<ServingStatus> {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    ServingStatus::try_from(response.into_inner().status).context("unknown health status")
}

async fn list_services(channel: Channel) -> anyhow::Result<Vec<String>> {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    let response = responses
        .message()
        .await?
        .context("no reflection response")?;
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let mut names: Vec<String> = list
                .service
                .into_iter()
                .map(|service| service.name)
                .collect();
            names.sort();
            Ok(names)
        }
        other => anyhow::bail!("unexpected reflection response {other:?}"),
    }
}
