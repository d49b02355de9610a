//! The demo clinic's providers, their hours and today's appointments.

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike};
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::timestamp_to_proto;

use super::Seeder;

impl Seeder<'_> {
    pub(super) async fn seed_providers(
        &mut self,
    ) -> anyhow::Result<Vec<(String, scheduling::ProviderKind)>> {
        let mut providers = Vec::new();
        for (index, (name, kind)) in PROVIDERS.iter().enumerate() {
            let provider = self
                .scheduling
                .create_provider(scheduling::CreateProviderRequest {
                    provider: Some(scheduling::Provider {
                        display_name: (*name).into(),
                        kind: *kind as i32,
                        ..Default::default()
                    }),
                    request_id: format!("demo-provider-{index}"),
                })
                .await
                .context("failed to create a demo provider")?
                .into_inner();
            self.set_working_hours(&provider.provider_id).await?;
            providers.push((provider.provider_id, *kind));
        }
        Ok(providers)
    }

    /// Extended hours every day, 07:00 to 22:00, so the demo day around the current time can be
    /// seen at most hours of the day.
    async fn set_working_hours(&mut self, provider_id: &str) -> anyhow::Result<()> {
        use scheduling::{DayOfWeek, TimeOfDay, WorkingInterval};
        let at = |hours| Some(TimeOfDay { hours, minutes: 0 });
        let mut intervals = Vec::new();
        for day in [
            DayOfWeek::Monday,
            DayOfWeek::Tuesday,
            DayOfWeek::Wednesday,
            DayOfWeek::Thursday,
            DayOfWeek::Friday,
            DayOfWeek::Saturday,
            DayOfWeek::Sunday,
        ] {
            intervals.push(WorkingInterval {
                day_of_week: day as i32,
                start_time: at(DAY_STARTS),
                end_time: at(DAY_ENDS),
            });
        }
        self.scheduling
            .set_working_hours(scheduling::SetWorkingHoursRequest {
                working_hours: Some(scheduling::WorkingHours {
                    provider_id: provider_id.to_owned(),
                    intervals,
                }),
            })
            .await
            .context("failed to set a demo provider's working hours")?;
        Ok(())
    }

    /// Today's schedule around the current time: three chairs' worth of visits every 45 minutes
    /// from 90 minutes ago: five checked in and waiting, eight confirmed (the one 45 minutes
    /// past its start not checked in: a call task), three not yet confirmed, two cancelled.
    /// Visits outside the day's hours are left out.
    pub(super) async fn seed_today(
        &mut self,
        today: NaiveDate,
        providers: &[(String, scheduling::ProviderKind)],
        patient_ids: &[String],
    ) -> anyhow::Result<usize> {
        let clinicians: Vec<&String> = providers
            .iter()
            .filter(|(_, kind)| {
                matches!(
                    kind,
                    scheduling::ProviderKind::Dentist | scheduling::ProviderKind::Hygienist
                )
            })
            .map(|(id, _)| id)
            .collect();
        let time_zone = self.config.clinic.time_zone;
        let now_local = self.clock.now().with_timezone(&time_zone).naive_local();
        let quarter = now_local.time().minute() / 15 * 15;
        let first_start = now_local.date().and_time(
            NaiveTime::from_hms_opt(now_local.time().hour(), quarter, 0).expect("valid time"),
        ) - TimeDelta::minutes(90);
        let opens =
            today.and_time(NaiveTime::from_hms_opt(DAY_STARTS as u32, 0, 0).expect("valid"));
        let closes =
            today.and_time(NaiveTime::from_hms_opt(DAY_ENDS as u32 - 1, 20, 0).expect("valid"));
        let mut booked = Vec::new();
        for (slot, patient_id) in patient_ids.iter().take(18).enumerate() {
            let provider_id = clinicians[slot % clinicians.len()];
            let local_start =
                first_start + TimeDelta::minutes((slot / clinicians.len()) as i64 * 45);
            if local_start < opens || local_start > closes {
                continue;
            }
            let Some(start) = time_zone.from_local_datetime(&local_start).earliest() else {
                continue;
            };
            let start = start.to_utc();
            let (price_code, reason) = VISITS[slot % VISITS.len()];
            let appointment = self
                .scheduling
                .create_appointment(scheduling::CreateAppointmentRequest {
                    appointment: Some(scheduling::Appointment {
                        patient_id: patient_id.clone(),
                        provider_id: provider_id.clone(),
                        start_time: Some(timestamp_to_proto(start)),
                        end_time: Some(timestamp_to_proto(start + TimeDelta::minutes(40))),
                        price_code: price_code.into(),
                        reason: reason.into(),
                        ..Default::default()
                    }),
                    request_id: format!("demo-appointment-{today}-{slot}"),
                })
                .await
                .context("failed to book a demo appointment")?
                .into_inner();
            booked.push((appointment, local_start));
        }

        // The day as it stands now: the earliest visits came and went, the next are in the chair
        // (but for one patient who has not turned up: a call task), those due about now have
        // checked in and wait, and of the rest most confirmed when reminded; the last two cancelled.
        let cancelled = booked.len().saturating_sub(2);
        let mut late = false;
        let mut confirmed = 0;
        for (index, (appointment, local_start)) in booked.iter().enumerate() {
            let id = || appointment.appointment_id.clone();
            let minutes_ago = (now_local - *local_start).num_minutes();
            if index >= cancelled {
                let reason = ["Cambio de trabajo", "Enfermedad"][index - cancelled];
                self.scheduling
                    .cancel_appointment(scheduling::CancelAppointmentRequest {
                        appointment_id: id(),
                        reason: reason.into(),
                    })
                    .await
                    .context("failed to cancel a demo appointment")?;
            } else if minutes_ago > 20 && minutes_ago < 60 && !late {
                late = true;
                self.scheduling
                    .confirm_appointment(scheduling::ConfirmAppointmentRequest {
                        appointment_id: id(),
                    })
                    .await
                    .context("failed to confirm a demo appointment")?;
            } else if minutes_ago > 20 {
                let checked_in = self
                    .scheduling
                    .check_in_appointment(scheduling::CheckInAppointmentRequest {
                        appointment_id: id(),
                        identity: None,
                        confirmation_code: String::new(),
                    })
                    .await
                    .context("failed to check in a demo appointment")?
                    .into_inner();
                let queue_entry_id = checked_in
                    .queue_entry
                    .map(|entry| entry.queue_entry_id)
                    .unwrap_or_default();
                self.scheduling
                    .seat_queue_entry(scheduling::SeatQueueEntryRequest { queue_entry_id })
                    .await
                    .context("failed to seat a demo patient")?;
                if minutes_ago >= 60 {
                    self.scheduling
                        .complete_appointment(scheduling::CompleteAppointmentRequest {
                            appointment_id: id(),
                        })
                        .await
                        .context("failed to complete a demo visit")?;
                    self.scheduling
                        .check_out_appointment(scheduling::CheckOutAppointmentRequest {
                            appointment_id: id(),
                        })
                        .await
                        .context("failed to check a demo patient out")?;
                }
            } else if minutes_ago >= -15 {
                self.scheduling
                    .check_in_appointment(scheduling::CheckInAppointmentRequest {
                        appointment_id: id(),
                        identity: None,
                        confirmation_code: String::new(),
                    })
                    .await
                    .context("failed to check in a demo appointment")?;
            } else if confirmed < 8 {
                confirmed += 1;
                self.scheduling
                    .confirm_appointment(scheduling::ConfirmAppointmentRequest {
                        appointment_id: id(),
                    })
                    .await
                    .context("failed to confirm a demo appointment")?;
            }
        }
        // Reception has just called the first of those waiting.
        if booked
            .iter()
            .any(|(_, start)| (-15..=20).contains(&(now_local - *start).num_minutes()))
        {
            self.scheduling
                .call_next(scheduling::CallNextRequest {
                    provider_id: String::new(),
                    request_id: format!("demo-call-next-{today}"),
                })
                .await
                .context("failed to call the next demo patient")?;
        }
        Ok(booked.len())
    }
}

/// The demo providers' hours, every day (whole hours, clinic-local).
pub(super) const DAY_STARTS: i32 = 7;
pub(super) const DAY_ENDS: i32 = 22;

const PROVIDERS: &[(&str, scheduling::ProviderKind)] = &[
    ("Dra. Ana Ruiz", scheduling::ProviderKind::Dentist),
    ("Dr. Wei Zhang", scheduling::ProviderKind::Dentist),
    ("Hig. Olga Petrova", scheduling::ProviderKind::Hygienist),
    ("Lic. Emily Carter", scheduling::ProviderKind::Consultant),
    ("Asist. Luis Pérez", scheduling::ProviderKind::Assistant),
];

/// What today's visits are for: (price code, reason).
const VISITS: &[(&str, &str)] = &[
    ("CONS-01", "Primera consulta"),
    ("LIMP-01", "Limpieza semestral"),
    ("RES-01", "Caries molar inferior"),
    ("ORTO-MES", "Ajuste de brackets"),
    ("ENDO-01", "Dolor en premolar"),
    ("RX-PAN", "Valoración de cordales"),
];
