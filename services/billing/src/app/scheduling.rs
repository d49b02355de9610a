//! Scheduling as billing asks it: what an appointment was (patient, provider, price code,
//! status, day) and what its provider is called. Billing never reads scheduling's tables; it
//! asks over gRPC with its own service token.

use chrono::NaiveDate;
use chrono_tz::Tz;
use clinic_common::client::{ServiceChannel, is_unreachable};
use clinic_common::ids::{AppointmentId, PatientId};
use clinic_common::time::local_date;
use clinic_proto::scheduling::v1 as pb;
use clinic_proto::scheduling::v1::scheduling_service_client::SchedulingServiceClient;
use clinic_proto::timestamp_from_proto;
use tonic::{Code, Status};

use crate::domain::{BillingError, PriceCode};

/// Providers are listed in pages of this many while looking one up.
const PROVIDER_PAGE: i32 = 500;

/// A client for `clinic.scheduling.v1.SchedulingService`, calling with billing's service token.
#[derive(Clone)]
pub struct Scheduling {
    client: SchedulingServiceClient<ServiceChannel>,
}

/// What billing needs of a visit to charge it.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub patient_id: PatientId,
    pub provider_id: String,
    pub provider_name: String,
    pub price_code: PriceCode,
    /// The clinic-local day it took place.
    pub service_date: NaiveDate,
}

impl Scheduling {
    pub fn new(client: SchedulingServiceClient<ServiceChannel>) -> Self {
        Scheduling { client }
    }

    /// The visit `appointment_id` was, if it took place (completed or checked out) and has a
    /// price code to charge; its day in `time_zone`.
    pub async fn visit(
        &self,
        appointment_id: AppointmentId,
        time_zone: Tz,
    ) -> Result<Visit, BillingError> {
        let request = pb::GetAppointmentRequest {
            appointment_id: appointment_id.to_string(),
        };
        let appointment = match self.client.clone().get_appointment(request).await {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == Code::NotFound => {
                return Err(BillingError::AppointmentNotFound(appointment_id));
            }
            Err(status) => return Err(scheduling_failure(status)),
        };
        let status = appointment.status();
        if !matches!(
            status,
            pb::AppointmentStatus::Completed | pb::AppointmentStatus::CheckedOut
        ) {
            return Err(BillingError::AppointmentNotChargeable(format!(
                "appointment {appointment_id} is {}: only a completed visit is charged",
                status_name(status)
            )));
        }
        let price_code = PriceCode::parse(&appointment.price_code).map_err(|_| {
            BillingError::AppointmentNotChargeable(format!(
                "appointment {appointment_id} has no price code to charge"
            ))
        })?;
        let unreadable = |what: &str| {
            anyhow::anyhow!("scheduling answered appointment {appointment_id} without {what}")
        };
        let patient_id =
            PatientId::parse(&appointment.patient_id).map_err(|_| unreadable("a patient"))?;
        let start = timestamp_from_proto(appointment.start_time.as_ref())
            .map_err(|_| unreadable("a start time"))?;
        let provider_name = self.provider_name(&appointment.provider_id).await?;
        Ok(Visit {
            patient_id,
            provider_id: appointment.provider_id,
            provider_name,
            price_code,
            service_date: local_date(start, time_zone),
        })
    }

    /// The display name of a provider, as scheduling lists them.
    async fn provider_name(&self, provider_id: &str) -> Result<String, BillingError> {
        let mut page_token = String::new();
        loop {
            let request = pb::ListProvidersRequest {
                page: Some(clinic_proto::common::v1::PageRequest {
                    page_size: PROVIDER_PAGE,
                    page_token,
                }),
            };
            let page = self
                .client
                .clone()
                .list_providers(request)
                .await
                .map_err(scheduling_failure)?
                .into_inner();
            if let Some(provider) = page
                .providers
                .into_iter()
                .find(|provider| provider.provider_id == provider_id)
            {
                return Ok(provider.display_name);
            }
            if page.next_page_token.is_empty() {
                return Err(anyhow::anyhow!(
                    "scheduling does not list provider {provider_id} of one of its appointments"
                )
                .into());
            }
            page_token = page.next_page_token;
        }
    }
}

fn status_name(status: pb::AppointmentStatus) -> &'static str {
    match status {
        pb::AppointmentStatus::Unspecified => "in no known status",
        pb::AppointmentStatus::Scheduled => "scheduled",
        pb::AppointmentStatus::Confirmed => "confirmed",
        pb::AppointmentStatus::Arrived => "arrived",
        pb::AppointmentStatus::Seated => "seated",
        pb::AppointmentStatus::Completed => "completed",
        pb::AppointmentStatus::CheckedOut => "checked out",
        pb::AppointmentStatus::Cancelled => "cancelled",
        pb::AppointmentStatus::NoShow => "a no-show",
        pb::AppointmentStatus::Rescheduled => "rescheduled",
    }
}

/// Scheduling that cannot be reached (or does not answer in time) is `SchedulingUnavailable`,
/// which the caller may retry; any other failure is a deployment fault.
fn scheduling_failure(status: Status) -> BillingError {
    if is_unreachable(&status) {
        tracing::warn!(code = ?status.code(), "scheduling is unavailable");
        return BillingError::SchedulingUnavailable;
    }
    anyhow::anyhow!(
        "scheduling refused a call: {:?} {}",
        status.code(),
        status.message()
    )
    .into()
}
