//! Patients arriving: the kiosk's lookup, check-in at the desk or the kiosk, walk-ins, and the
//! triage that decides who receives each of them (see `domain::triage`).

use chrono::TimeDelta;
use clinic_common::auth::{Caller, Role};
use clinic_common::ids::{PatientId, ProviderId};
use clinic_common::time::{day_span, local_date};
use clinic_common::validation::FieldViolations;

use super::Scheduling;
use crate::domain::{
    Appointment, AppointmentStatus, AppointmentTypeId, CheckInCommand, CheckInTarget,
    ConsultantLoad, FirstVisitRoute, KioskLookup, KioskMiss, LockScope, LookupTarget, PatientFacts,
    Provider, QueueEntry, Routing, SchedulingError, WalkIn, WalkInRequest, findable_at_kiosk,
};
use crate::spans::{record_appointment_id, record_queue_entry_id};
use crate::store::CheckedIn;

/// How many patients' records a name lookup asks the registry for at once.
const REGISTRY_LOOKUPS_AT_ONCE: usize = 8;

/// What the kiosk shows of the appointment a patient found.
pub struct KioskFound {
    pub appointment: Appointment,
    pub provider_display_name: String,
    pub given_name: String,
    pub first_visit: bool,
}

/// What a check-in that found nothing answers: a kiosk gets the lookup's one answer for every
/// miss; staff get the particular reason.
fn at_kiosk_a_miss(caller: &Caller, error: SchedulingError) -> SchedulingError {
    if caller.role == Role::Kiosk {
        SchedulingError::KioskNoMatch
    } else {
        error
    }
}

impl Scheduling {
    /// The appointment today a kiosk lookup describes, with what the kiosk greets the patient
    /// with. Every kind of miss is the same `KioskNoMatch`, and counts against the kiosk.
    pub async fn find_todays_appointment(
        &self,
        lookup: &KioskLookup,
        caller: &Caller,
    ) -> Result<KioskFound, SchedulingError> {
        let target = LookupTarget::of_lookup(lookup);
        let misses = self.guard_kiosk(caller, &target).await?;
        let Some((appointment, facts)) = self.find_todays(lookup).await? else {
            self.kiosk_missed(caller, &target, misses).await?;
            tracing::info!("kiosk lookup found nothing");
            return Err(SchedulingError::KioskNoMatch);
        };
        record_appointment_id(appointment.appointment_id);
        let provider = self
            .store
            .provider(appointment.provider_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("an appointment's provider is missing"))?;
        let first_visit = !self
            .store
            .seen_before(appointment.patient_id, appointment.slot.start())
            .await?;
        Ok(KioskFound {
            provider_display_name: provider.display_name.as_str().to_owned(),
            given_name: facts.given_name,
            appointment,
            first_visit,
        })
    }

    /// Checks a patient in for today's appointment and puts them in the queue, routed by
    /// triage. At a kiosk, identity evidence must match the registry first; until it does, the
    /// kiosk learns nothing about the appointment: an unknown code or id and evidence that does
    /// not match answer the same `KioskNoMatch` as a lookup's miss, so a kiosk cannot tell which
    /// codes exist, and each miss counts against it. Staff are told which it was.
    pub async fn check_in_appointment(
        &self,
        command: &CheckInCommand,
        caller: &Caller,
    ) -> Result<CheckedIn, SchedulingError> {
        let target = LookupTarget::of_check_in(&command.target);
        let misses = self.guard_kiosk(caller, &target).await?;
        let found = match &command.target {
            CheckInTarget::Id(appointment_id) => self
                .store
                .appointment(*appointment_id)
                .await?
                .ok_or(SchedulingError::AppointmentNotFound(*appointment_id)),
            CheckInTarget::Code(code) => self
                .store
                .appointment_by_code(code)
                .await?
                .ok_or(SchedulingError::ConfirmationCodeNotFound),
        };
        let appointment = match found {
            Ok(appointment) => appointment,
            Err(error) => {
                self.kiosk_missed(caller, &target, misses).await?;
                return Err(at_kiosk_a_miss(caller, error));
            }
        };
        record_appointment_id(appointment.appointment_id);
        // Identity first: until it is confirmed, a kiosk learns nothing about the appointment.
        if let Some(evidence) = &command.identity {
            let matches = self
                .registry
                .identity_matches(appointment.patient_id, evidence)
                .await?;
            if !matches {
                self.kiosk_missed(caller, &target, misses).await?;
                tracing::info!("identity evidence did not match");
                return Err(at_kiosk_a_miss(
                    caller,
                    SchedulingError::IdentityNotConfirmed,
                ));
            }
        }
        let now = self.now();
        let time_zone = self.time_zone();
        let routing = self.triage(&appointment).await?;
        let checked_in = self
            .store
            .check_in(
                appointment.appointment_id,
                routing,
                (local_date(now, time_zone), time_zone),
                caller,
                now,
            )
            .await?;
        if let Some(change) = checked_in.change {
            self.feed.publish(change).await;
            tracing::info!(ticket = %checked_in.entry.ticket, "patient checked in");
        }
        Ok(checked_in)
    }

    /// Puts a walk-in in today's queue, routed by triage: to the provider asked for, or (a
    /// returning patient) the one who saw them last, or (a first visit) the least busy
    /// consultant on duty. A retry is answered from what the first call stored, even with the
    /// registry down.
    pub async fn register_walk_in(
        &self,
        requested: &WalkInRequest,
        caller: &Caller,
    ) -> Result<QueueEntry, SchedulingError> {
        let fingerprint = requested.fingerprint();
        if let Some(earlier) = self
            .store
            .earlier_walk_in(&requested.request_id, &fingerprint)
            .await?
        {
            record_queue_entry_id(earlier.queue_entry_id);
            return Ok(earlier);
        }
        let expected_length = self.walk_in_length(requested.appointment_type_id).await?;
        let asked_for = self.asked_for(requested.provider_id).await?;
        let initials = self
            .registered_initials(requested.patient_id, "patient_id")
            .await?;
        let now = self.now();
        let time_zone = self.time_zone();
        let today = local_date(now, time_zone);
        let first_visit = !self.store.seen_before(requested.patient_id, now).await?;
        let provider = match asked_for {
            Some(provider) => Some(provider),
            None if !first_visit => self.last_seen_by(requested.patient_id).await?,
            None => None,
        };
        let routed_to = self
            .route(first_visit, provider.as_ref())
            .await?
            .ok_or(SchedulingError::NobodyToRoute)?;
        let walk_in = WalkIn {
            patient_id: requested.patient_id,
            initials,
            provider_id: provider.map_or(routed_to, |provider| provider.provider_id),
            routing: Routing {
                routed_to,
                first_visit,
            },
            expected_length,
            request_id: requested.request_id.clone(),
            fingerprint,
        };
        let (entry, change) = self
            .store
            .register_walk_in(&walk_in, (today, day_span(today, time_zone)), caller, now)
            .await?;
        record_queue_entry_id(entry.queue_entry_id);
        if let Some(change) = change {
            self.feed.publish(change).await;
            tracing::info!(ticket = %entry.ticket, "walk-in joined the queue");
        }
        Ok(entry)
    }

    /// How long a walk-in is expected to take: their kind of visit's length (a type that can
    /// still be booked), or the clinic's default.
    async fn walk_in_length(
        &self,
        appointment_type_id: Option<AppointmentTypeId>,
    ) -> Result<TimeDelta, SchedulingError> {
        let Some(appointment_type_id) = appointment_type_id else {
            return Ok(self.settings.triage.walk_in_length());
        };
        let usable = self
            .store
            .appointment_type(appointment_type_id)
            .await?
            .ok_or("is not a known appointment type")
            .and_then(|appointment_type| match appointment_type.deleted_at {
                Some(_) => Err("is deleted and can no longer be booked"),
                None => Ok(appointment_type.details.length.as_delta()),
            });
        usable.map_err(|problem| FieldViolations::single("appointment_type_id", problem).into())
    }

    /// The provider a walk-in asked for, who must exist.
    async fn asked_for(
        &self,
        provider_id: Option<ProviderId>,
    ) -> Result<Option<Provider>, SchedulingError> {
        let Some(provider_id) = provider_id else {
            return Ok(None);
        };
        let provider = self.store.provider(provider_id).await?.ok_or_else(|| {
            SchedulingError::from(FieldViolations::single(
                "provider_id",
                "is not a known provider",
            ))
        })?;
        Ok(Some(provider))
    }

    /// The provider who last saw a patient in the chair, if anyone did.
    async fn last_seen_by(
        &self,
        patient_id: PatientId,
    ) -> Result<Option<Provider>, SchedulingError> {
        match self.store.last_seen_by(patient_id).await? {
            Some(provider_id) => self.store.provider(provider_id).await,
            None => Ok(None),
        }
    }

    /// Triage for an appointment being checked in: whether it is the patient's first visit, and
    /// who receives them. An appointment already checked in keeps what it was given (the store
    /// ignores this then).
    async fn triage(&self, appointment: &Appointment) -> Result<Routing, SchedulingError> {
        let unrouted = Routing {
            routed_to: appointment.provider_id,
            first_visit: false,
        };
        if !matches!(
            appointment.status,
            AppointmentStatus::Scheduled | AppointmentStatus::Confirmed
        ) {
            return Ok(unrouted);
        }
        let first_visit = !self
            .store
            .seen_before(appointment.patient_id, appointment.slot.start())
            .await?;
        let provider = self.store.provider(appointment.provider_id).await?;
        let routed_to = self
            .route(first_visit, provider.as_ref())
            .await?
            .unwrap_or(appointment.provider_id);
        Ok(Routing {
            routed_to,
            first_visit,
        })
    }

    /// Who receives a patient who has arrived (see `domain::triage`). `provider` is the one they
    /// are booked with, or (walk-ins) asked for or seen by last.
    async fn route(
        &self,
        first_visit: bool,
        provider: Option<&Provider>,
    ) -> Result<Option<ProviderId>, SchedulingError> {
        let policy = self.settings.triage.policy();
        let now = self.now();
        let time_zone = self.time_zone();
        let mut consultants = Vec::new();
        if first_visit && policy.first_visit == FirstVisitRoute::Consultant {
            for (provider_id, waiting) in self
                .store
                .consultant_loads(local_date(now, time_zone))
                .await?
            {
                if self.store.on_duty(provider_id, now, time_zone).await? {
                    consultants.push(ConsultantLoad {
                        provider_id,
                        waiting,
                    });
                }
            }
        }
        Ok(policy.route(first_visit, provider, &consultants))
    }

    /// Refuses a lookup at a kiosk that has missed too often lately, or for a patient (a code,
    /// a name, an appointment) missed too often from any kiosk (see `FindTodaysAppointment`).
    /// Staff are not limited. Returns the recent misses it read, for [`Self::kiosk_missed`].
    async fn guard_kiosk(
        &self,
        caller: &Caller,
        target: &LookupTarget,
    ) -> Result<Vec<KioskMiss>, SchedulingError> {
        if caller.role != Role::Kiosk {
            return Ok(Vec::new());
        }
        let now = self.now();
        let guard = self.settings.kiosk.guard();
        let misses = self
            .store
            .kiosk_misses_since(guard.counted_since(now))
            .await?;
        match guard.lock_for(&misses, (&caller.subject, target), now) {
            None => Ok(misses),
            Some(lock) => {
                tracing::warn!(
                    kiosk = %caller.subject,
                    whole_kiosk = lock.scope == LockScope::Kiosk,
                    until = %lock.until,
                    "kiosk lookup refused for a while"
                );
                Err(SchedulingError::KioskTooManyMisses {
                    retry_after: lock.until - now,
                })
            }
        }
    }

    /// Counts a kiosk's failed lookup or check-in against it and against its target; when
    /// that makes a lock (judged from the misses `guard_kiosk` read, and this one), reception's
    /// queue watchers hear of it at once.
    async fn kiosk_missed(
        &self,
        caller: &Caller,
        target: &LookupTarget,
        mut misses: Vec<KioskMiss>,
    ) -> Result<(), SchedulingError> {
        if caller.role != Role::Kiosk {
            return Ok(());
        }
        let now = self.now();
        let guard = self.settings.kiosk.guard();
        self.store
            .record_kiosk_miss((&caller.subject, target), now, guard.counted_since(now))
            .await?;
        misses.push(KioskMiss {
            kiosk: caller.subject.clone(),
            target: target.clone(),
            at: now,
        });
        if guard
            .lock_for(&misses, (&caller.subject, target), now)
            .is_some()
        {
            self.feed.nudge();
        }
        Ok(())
    }

    /// The appointment today, with the patient's registry record, that a kiosk lookup
    /// describes; `None` for every kind of miss.
    async fn find_todays(
        &self,
        lookup: &KioskLookup,
    ) -> Result<Option<(Appointment, PatientFacts)>, SchedulingError> {
        let time_zone = self.time_zone();
        let today = local_date(self.now(), time_zone);
        match lookup {
            KioskLookup::ByCode { code, .. } => {
                let Some(appointment) = self.store.appointment_by_code(code).await? else {
                    return Ok(None);
                };
                if !findable_at_kiosk(&appointment) || appointment.local_day(time_zone) != today {
                    return Ok(None);
                }
                let facts = self.registry.patient_facts(appointment.patient_id).await?;
                Ok(facts
                    .filter(|facts| lookup.matches(facts))
                    .map(|facts| (appointment, facts)))
            }
            KioskLookup::ByName { .. } => self.find_todays_by_name(lookup, today).await,
        }
    }

    /// [`Self::find_todays`] by name: the one patient among today's appointments whose
    /// registry record matches everything the kiosk was told.
    async fn find_todays_by_name(
        &self,
        lookup: &KioskLookup,
        today: chrono::NaiveDate,
    ) -> Result<Option<(Appointment, PatientFacts)>, SchedulingError> {
        let appointments = self
            .store
            .findable_between(day_span(today, self.time_zone()))
            .await?;
        let mut patients: Vec<PatientId> = Vec::new();
        for appointment in &appointments {
            if !patients.contains(&appointment.patient_id) {
                patients.push(appointment.patient_id);
            }
        }
        let mut matching = Vec::new();
        for batch in patients.chunks(REGISTRY_LOOKUPS_AT_ONCE) {
            let mut lookups = tokio::task::JoinSet::new();
            for patient_id in batch {
                let (registry, patient_id) = (self.registry.clone(), *patient_id);
                lookups
                    .spawn(async move { (patient_id, registry.patient_facts(patient_id).await) });
            }
            while let Some(done) = lookups.join_next().await {
                let (patient_id, facts) =
                    done.map_err(|error| anyhow::anyhow!("a registry lookup failed: {error}"))?;
                if let Some(facts) = facts?
                    && lookup.matches(&facts)
                {
                    matching.push((patient_id, facts));
                }
            }
        }
        // Two registered patients matching everything (twins sharing a phone) cannot be told
        // apart at the kiosk: reception sorts them out.
        if matching.len() != 1 {
            if matching.len() > 1 {
                tracing::warn!(matches = matching.len(), "kiosk lookup is ambiguous");
            }
            return Ok(None);
        }
        let (patient_id, facts) = matching.remove(0);
        Ok(appointments
            .into_iter()
            .find(|appointment| appointment.patient_id == patient_id)
            .map(|appointment| (appointment, facts)))
    }
}
