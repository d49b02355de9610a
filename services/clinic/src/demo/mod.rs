//! A believable demo clinic, seeded through the services' public gRPC APIs exactly as a client
//! would: providers, a price list, patients with Spanish, English, Chinese and Russian names,
//! today's appointments in mixed states, a book of open balances and the collections desk's
//! overdue book (promises, plans, disputes, an escalation).
//!
//! Seeding happens once per data directory. Every call carries a deterministic request id, so a
//! seed interrupted half-way can simply be run again without duplicating anything.

use anyhow::Context;
use chrono::TimeDelta;
use clinic_common::auth::BearerToken;
use clinic_common::auth::{Role, TokenKey};
use clinic_common::client::ServiceChannel;
use clinic_common::clock::Clock;
use clinic_common::time::local_date;
use clinic_proto::billing::v1::billing_service_client::BillingServiceClient;
use clinic_proto::collections::v1::collections_service_client::CollectionsServiceClient;
use clinic_proto::patients::v1::patient_service_client::PatientServiceClient;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use tonic::service::interceptor::InterceptedService;

use crate::config::Config;

pub use devices::write_configs as write_device_configs;

mod accounts;
mod devices;
mod flow;
mod overdue;
mod people;
mod schedule;
mod visits;

/// Written into the data directory once the demo clinic is complete.
const MARKER_FILE: &str = "demo-seeded";

/// Seeds the demo clinic unless this data directory already has it.
pub async fn seed_once(config: &Config, key: &TokenKey, clock: &dyn Clock) -> anyhow::Result<()> {
    let marker = config.data_dir.join(MARKER_FILE);
    if marker.exists() {
        println!("Demo data is already in {}.", config.data_dir.display());
        return Ok(());
    }
    let summary = Seeder::connect(config, key, clock)?.seed().await?;
    std::fs::write(&marker, format!("{summary}\n"))
        .with_context(|| format!("failed to write {}", marker.display()))?;
    println!("Seeded the demo clinic: {summary}.");
    Ok(())
}

struct Seeder<'a> {
    config: &'a Config,
    clock: &'a dyn Clock,
    patients: PatientServiceClient<ServiceChannel>,
    scheduling: SchedulingServiceClient<ServiceChannel>,
    billing: BillingServiceClient<ServiceChannel>,
    collections: CollectionsServiceClient<ServiceChannel>,
}

impl<'a> Seeder<'a> {
    fn connect(config: &'a Config, key: &TokenKey, clock: &'a dyn Clock) -> anyhow::Result<Self> {
        // The seeder acts as the clinic's manager setting up the practice.
        let manager_channel = |url: &str| -> anyhow::Result<ServiceChannel> {
            let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?.connect_lazy();
            let token = key.issue(
                "manager:demo-setup",
                Role::Manager,
                clock.now(),
                Some(TimeDelta::hours(1)),
            );
            Ok(InterceptedService::new(channel, BearerToken::new(&token)?))
        };
        Ok(Seeder {
            config,
            clock,
            patients: PatientServiceClient::new(manager_channel(&config.patients.url)?),
            scheduling: SchedulingServiceClient::new(manager_channel(
                &config.scheduling.service.url,
            )?),
            billing: BillingServiceClient::new(manager_channel(&config.billing.service.url)?),
            collections: CollectionsServiceClient::new(manager_channel(
                &config.collections.service.url,
            )?),
        })
    }

    async fn seed(&mut self) -> anyhow::Result<String> {
        let currency = self.config.clinic.currency.code().to_owned();
        let time_zone = self.config.clinic.time_zone;
        let today = local_date(self.clock.now(), time_zone);

        let providers = self.seed_providers().await?;
        self.seed_price_list(&currency).await?;
        let kinds = self.seed_visit_kinds().await?;
        let patient_ids = self.seed_patients(today).await?;
        let appointments = self.seed_today(today, &providers, &patient_ids).await?;
        let flow = self.seed_flow(today, &providers, &patient_ids).await?;
        let open = self.seed_balances(today, &patient_ids, &currency).await?;
        let overdue = self.seed_overdue(today, &patient_ids, &currency).await?;
        let cash_payments = self.seed_drawer(&patient_ids, &currency).await?;
        Ok(format!(
            "{} providers, {} price-list items, {} kinds of visit, {} patients, {} appointments today, \
             {} open balances, {} accounts in collections, the {} drawer open with {} cash payments, \
             {} patients on the waitlist with {} open offers, {} planned visits, {} messages in the \
             outbox, late arrivals to call: {}",
            providers.len(),
            accounts::PRICE_LIST.len(),
            kinds,
            patient_ids.len(),
            appointments,
            open,
            overdue,
            accounts::DEMO_TERMINAL,
            cash_payments,
            flow.waitlist,
            flow.offers,
            flow.planned,
            flow.messages,
            flow.call_tasks
        ))
    }
}

/// A small deterministic generator, so every demo clinic looks the same.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound.max(1)
    }
}

/// An email-safe handle for a name; scripts without Latin letters get a romanised stand-in.
fn ascii_handle(name: &str) -> String {
    let handle: String = name
        .chars()
        .filter_map(|c| match c {
            'á' | 'Á' => Some('a'),
            'é' | 'É' => Some('e'),
            'í' | 'Í' => Some('i'),
            'ó' | 'Ó' => Some('o'),
            'ú' | 'Ú' | 'ü' => Some('u'),
            'ñ' | 'Ñ' => Some('n'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    if handle.is_empty() {
        "paciente".into()
    } else {
        handle
    }
}
