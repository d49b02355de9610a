//! The demo clinic's front-desk flow around the current time: a no-show earlier today, a
//! waitlist with offers for a visit cancelled tomorrow, planned visits coming due, tomorrow's
//! visits to confirm, and the reminders and call tasks they produce.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use clinic_proto::common::v1::DateRange;
use clinic_proto::scheduling::v1 as scheduling;
use clinic_proto::{date_to_proto, timestamp_to_proto};

use super::Seeder;
use super::schedule::{DAY_ENDS, DAY_STARTS};

/// What the flow seeded, for the summary line.
pub(super) struct FlowSummary {
    pub waitlist: usize,
    pub offers: usize,
    pub planned: usize,
    pub messages: usize,
    pub call_tasks: usize,
}

impl Seeder<'_> {
    pub(super) async fn seed_flow(
        &mut self,
        today: NaiveDate,
        providers: &[(String, scheduling::ProviderKind)],
        patient_ids: &[String],
    ) -> anyhow::Result<FlowSummary> {
        let patient = |index: usize| patient_ids[index % patient_ids.len()].clone();
        let (ruiz, zhang, petrova) = (&providers[0].0, &providers[1].0, &providers[2].0);
        let tomorrow = today + TimeDelta::days(1);

        // A no-show: booked two and a half hours ago with Dr. Zhang, never came.
        let now = self.clock.now();
        let quarter = DateTime::from_timestamp(now.timestamp() / 900 * 900, 0).unwrap_or(now);
        let missed_start = quarter - TimeDelta::minutes(150);
        if self.within_hours(missed_start, today) {
            let missed = self
                .book_flow(&patient(18), zhang, missed_start, 30, "demo-flow-no-show")
                .await?;
            self.scheduling
                .mark_no_show(scheduling::MarkNoShowRequest {
                    appointment_id: missed.appointment_id,
                })
                .await
                .context("failed to record the demo no-show")?;
        }

        // The waitlist: only Dra. Ruiz; after 17:00 on weekdays; anyone, any time.
        let range = DateRange {
            start_date: Some(date_to_proto(today)),
            end_date: Some(date_to_proto(today + TimeDelta::days(21))),
        };
        let wishes = [
            (
                patient(19),
                ruiz.clone(),
                None,
                Vec::new(),
                "Solo con la Dra. Ruiz",
            ),
            (
                patient(20),
                String::new(),
                Some(17),
                (1..=5).collect(),
                "Solo después del trabajo",
            ),
            (
                patient(21),
                String::new(),
                None,
                Vec::new(),
                "Lo antes posible",
            ),
        ];
        for (index, (patient_id, provider_id, after, weekdays, note)) in
            wishes.into_iter().enumerate()
        {
            self.scheduling
                .create_waitlist_entry(scheduling::CreateWaitlistEntryRequest {
                    waitlist_entry: Some(scheduling::WaitlistEntry {
                        patient_id,
                        provider_id,
                        duration_minutes: 30,
                        preferences: Some(scheduling::SlotPreferences {
                            earliest_start_time: after
                                .map(|hours| scheduling::TimeOfDay { hours, minutes: 0 }),
                            latest_end_time: None,
                            days_of_week: weekdays,
                        }),
                        date_range: Some(range),
                        note: note.into(),
                        ..Default::default()
                    }),
                    request_id: format!("demo-waitlist-{index}"),
                })
                .await
                .context("failed to put a demo patient on the waitlist")?;
        }
        // Tomorrow's 10:00 with Dra. Ruiz is cancelled: the waitlist is offered it.
        let freed_start = self.local(tomorrow, 10, 0)?;
        let freed = self
            .book_flow(&patient(22), ruiz, freed_start, 30, "demo-flow-freed")
            .await?;
        self.scheduling
            .cancel_appointment(scheduling::CancelAppointmentRequest {
                appointment_id: freed.appointment_id,
                reason: "Viaje de trabajo".into(),
            })
            .await
            .context("failed to cancel the demo visit that frees time")?;

        // Planned visits ("come back in about 3 months") coming due.
        let plans = [
            (patient(23), -3, "Revisión a los 3 meses de la endodoncia"),
            (patient(24), 2, "Control de ortodoncia"),
            (patient(25), 20, "Limpieza semestral"),
        ];
        for (index, (patient_id, days, note)) in plans.iter().enumerate() {
            self.scheduling
                .create_planned_visit(scheduling::CreatePlannedVisitRequest {
                    planned_visit: Some(scheduling::PlannedVisit {
                        patient_id: patient_id.clone(),
                        provider_id: ruiz.clone(),
                        due_date: Some(date_to_proto(today + TimeDelta::days(*days))),
                        note: (*note).into(),
                        ..Default::default()
                    }),
                    request_id: format!("demo-plan-{index}"),
                })
                .await
                .context("failed to plan a demo visit")?;
        }

        // Tomorrow's visits to confirm (reminded a day ahead), and some in three days.
        let ahead = [
            (26, zhang, tomorrow, (11, 0), true),
            (27, zhang, tomorrow, (11, 45), false),
            (28, petrova, tomorrow, (12, 0), true),
            (29, petrova, tomorrow, (12, 45), false),
            (30, ruiz, today + TimeDelta::days(3), (10, 30), false),
            (31, zhang, today + TimeDelta::days(3), (16, 0), false),
        ];
        for (index, provider_id, day, (hour, minute), confirmed) in ahead {
            let start = self.local(day, hour, minute)?;
            let appointment = self
                .book_flow(
                    &patient(index),
                    provider_id,
                    start,
                    40,
                    &format!("demo-flow-ahead-{index}"),
                )
                .await?;
            if confirmed {
                self.scheduling
                    .confirm_appointment(scheduling::ConfirmAppointmentRequest {
                        appointment_id: appointment.appointment_id,
                    })
                    .await
                    .context("failed to confirm a demo visit")?;
            }
        }

        // Listing writes what is due now: the reminders and the late patients' call tasks.
        let messages = self
            .scheduling
            .list_outbox_messages(scheduling::ListOutboxMessagesRequest {
                page: Some(clinic_proto::common::v1::PageRequest {
                    page_size: 200,
                    page_token: String::new(),
                }),
                ..Default::default()
            })
            .await
            .context("failed to list the demo outbox")?
            .into_inner()
            .messages
            .len();
        let call_tasks = self
            .scheduling
            .list_call_tasks(scheduling::ListCallTasksRequest::default())
            .await
            .context("failed to list the demo call tasks")?
            .into_inner()
            .call_tasks
            .len();
        let offers = self
            .scheduling
            .list_waitlist_offers(scheduling::ListWaitlistOffersRequest {
                open_only: true,
                ..Default::default()
            })
            .await
            .context("failed to list the demo waitlist offers")?
            .into_inner()
            .waitlist_offers
            .len();
        Ok(FlowSummary {
            waitlist: 3,
            offers,
            planned: plans.len(),
            messages,
            call_tasks,
        })
    }

    async fn book_flow(
        &mut self,
        patient_id: &str,
        provider_id: &str,
        start: DateTime<Utc>,
        minutes: i64,
        request_id: &str,
    ) -> anyhow::Result<scheduling::Appointment> {
        Ok(self
            .scheduling
            .create_appointment(scheduling::CreateAppointmentRequest {
                appointment: Some(scheduling::Appointment {
                    patient_id: patient_id.to_owned(),
                    provider_id: provider_id.to_owned(),
                    start_time: Some(timestamp_to_proto(start)),
                    end_time: Some(timestamp_to_proto(start + TimeDelta::minutes(minutes))),
                    price_code: "CONS-01".into(),
                    reason: "Revisión".into(),
                    ..Default::default()
                }),
                request_id: request_id.to_owned(),
            })
            .await
            .with_context(|| format!("failed to book the demo visit {request_id}"))?
            .into_inner())
    }

    /// `hour:minute` on `day` in the clinic's zone.
    fn local(&self, day: NaiveDate, hour: u32, minute: u32) -> anyhow::Result<DateTime<Utc>> {
        let time = NaiveTime::from_hms_opt(hour, minute, 0).context("a valid time")?;
        Ok(self
            .config
            .clinic
            .time_zone
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .context("the demo time does not exist in the clinic's zone")?
            .to_utc())
    }

    /// Whether `start` is on `day` within the demo providers' hours.
    fn within_hours(&self, start: DateTime<Utc>, day: NaiveDate) -> bool {
        let local = start
            .with_timezone(&self.config.clinic.time_zone)
            .naive_local();
        let opens = NaiveTime::from_hms_opt(DAY_STARTS as u32, 0, 0);
        let closes = NaiveTime::from_hms_opt(DAY_ENDS as u32 - 1, 0, 0);
        local.date() == day
            && opens.is_some_and(|t| local.time() >= t)
            && closes.is_some_and(|t| local.time() <= t)
    }
}
