//! The store layer without the gRPC edge: a booking and a check-in done with the same store
//! calls the RPCs make (through `app`), minus the transport, the token check and the patient
//! registry. The scheduling benchmark runs it beside the service to show what gRPC costs; it is
//! not an API for anything else.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clinic_common::auth::{Caller, Role};
use clinic_common::db::Database;
use clinic_common::ids::{AppointmentId, PatientId, ProviderId, RequestId};
use clinic_common::time::local_date;

use crate::domain::{BookingRequest, Initials, Routing};
use crate::store::SchedulingStore;

/// Scheduling's store on an open database.
#[derive(Debug, Clone)]
pub struct DirectStore {
    store: SchedulingStore,
    caller: Caller,
}

impl DirectStore {
    pub fn new(database: Database) -> Self {
        DirectStore {
            store: SchedulingStore::new(database),
            caller: Caller {
                subject: "reception:bench".into(),
                role: Role::Reception,
            },
        }
    }

    /// Books `[start, end)` with the provider for the patient, as `CreateAppointment` does after
    /// asking the registry for the initials: the idempotency lookup, then the booking
    /// transaction. Returns the appointment id.
    pub async fn book(
        &self,
        (patient_id, provider_id): (&str, &str),
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        request_id: &str,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> anyhow::Result<String> {
        let request = BookingRequest {
            patient_id: PatientId::parse(patient_id).map_err(anyhow::Error::msg)?,
            provider_id: ProviderId::parse(provider_id).map_err(anyhow::Error::msg)?,
            start,
            end: Some(end),
            price_code: None,
            reason: None,
            appointment_type_id: None,
            resource_ids: Vec::new(),
            request_id: RequestId::parse(request_id).map_err(anyhow::Error::msg)?,
        };
        let fingerprint = request.fingerprint();
        if let Some(earlier) = self
            .store
            .earlier_booking(&request.request_id, &fingerprint)
            .await?
        {
            return Ok(earlier.appointment_id.to_string());
        }
        let new = request.resolve(None)?;
        let appointment = self
            .store
            .book(
                &new,
                &Initials::of("Paciente", "Prueba"),
                &self.caller,
                (now, time_zone),
            )
            .await?;
        Ok(appointment.appointment_id.to_string())
    }

    /// Checks today's appointment in, as `CheckInAppointment` does for the desk: reads the
    /// appointment, triage's questions (seen before? the provider), then the check-in
    /// transaction. Returns the ticket.
    pub async fn check_in(
        &self,
        appointment_id: &str,
        (now, time_zone): (DateTime<Utc>, Tz),
    ) -> anyhow::Result<String> {
        let appointment_id = AppointmentId::parse(appointment_id).map_err(anyhow::Error::msg)?;
        let appointment = self
            .store
            .appointment(appointment_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no appointment {appointment_id}"))?;
        let first_visit = !self
            .store
            .seen_before(appointment.patient_id, appointment.slot.start())
            .await?;
        self.store.provider(appointment.provider_id).await?;
        let checked_in = self
            .store
            .check_in(
                appointment_id,
                Routing {
                    routed_to: appointment.provider_id,
                    first_visit,
                },
                (local_date(now, time_zone), time_zone),
                &self.caller,
                now,
            )
            .await?;
        Ok(checked_in.entry.ticket.to_string())
    }
}
