//! Triage: who receives a patient who has arrived. The front desk is the clinic's dispatcher: a
//! first visit goes to a consultant (who assesses and explains treatment before anyone drills),
//! a return visit to the assistant of the provider the patient is booked with (who prepares the
//! chair and the chart). Clinics that work differently send everyone to the provider.

use chrono::TimeDelta;
use clinic_common::ids::{PatientId, ProviderId, RequestId, request_fingerprint};

use super::{AppointmentTypeId, Initials, Provider};

/// Who receives a first visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstVisitRoute {
    /// The least busy consultant on duty; the provider when none is.
    Consultant,
    /// The provider the patient is booked with (or asked for).
    Provider,
}

/// Who receives a return visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnVisitRoute {
    /// The provider's assistant; the provider when they have none.
    Assistant,
    /// The provider themself.
    Provider,
}

/// How a clinic routes arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriagePolicy {
    pub first_visit: FirstVisitRoute,
    pub return_visit: ReturnVisitRoute,
}

impl Default for TriagePolicy {
    fn default() -> Self {
        TriagePolicy {
            first_visit: FirstVisitRoute::Consultant,
            return_visit: ReturnVisitRoute::Assistant,
        }
    }
}

/// A consultant who could take a first visit now, and how many patients already wait for them
/// (waiting or called).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsultantLoad {
    pub provider_id: ProviderId,
    pub waiting: u32,
}

impl TriagePolicy {
    /// Who receives a patient: `provider` is the one they are booked with (for a walk-in, the
    /// one asked for or who saw them last), `consultants` those on duty now. `None` when nobody
    /// fits (a walk-in's first visit with no consultant on duty and no provider named).
    pub fn route(
        &self,
        first_visit: bool,
        provider: Option<&Provider>,
        consultants: &[ConsultantLoad],
    ) -> Option<ProviderId> {
        if first_visit && self.first_visit == FirstVisitRoute::Consultant {
            // The least busy; among equals, the same one every time (by id).
            let least_busy = consultants
                .iter()
                .min_by_key(|consultant| (consultant.waiting, consultant.provider_id));
            if let Some(consultant) = least_busy {
                return Some(consultant.provider_id);
            }
        }
        let provider = provider?;
        if !first_visit
            && self.return_visit == ReturnVisitRoute::Assistant
            && let Some(assistant) = provider.assistant
        {
            return Some(assistant);
        }
        Some(provider.provider_id)
    }
}

/// The decision triage took for one arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routing {
    pub routed_to: ProviderId,
    pub first_visit: bool,
}

/// A walk-in as the desk registers it, before triage.
#[derive(Debug, Clone)]
pub struct WalkInRequest {
    pub patient_id: PatientId,
    /// The provider the patient asks for, if any.
    pub provider_id: Option<ProviderId>,
    /// The kind of visit, for its expected length.
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub request_id: RequestId,
}

impl WalkInRequest {
    /// A digest of the request, to recognise a retry.
    pub fn fingerprint(&self) -> String {
        request_fingerprint(&[
            &self.patient_id.to_string(),
            &self
                .provider_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            &self
                .appointment_type_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        ])
    }
}

/// A walk-in ready to join the queue.
#[derive(Debug, Clone)]
pub struct WalkIn {
    pub patient_id: PatientId,
    pub initials: Initials,
    /// The provider the walk-in is for: asked for, seen last, or (first visits) the one routed to.
    pub provider_id: ProviderId,
    pub routing: Routing,
    pub expected_length: TimeDelta,
    pub request_id: RequestId,
    pub fingerprint: String,
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{DisplayName, ProviderKind};

    fn provider(assistant: Option<ProviderId>) -> Provider {
        Provider {
            provider_id: ProviderId::new(),
            display_name: DisplayName::parse("Dra. Ana Ruiz").expect("valid"),
            kind: ProviderKind::Dentist,
            assistant,
            created_at: Utc::now(),
        }
    }

    fn consultant(waiting: u32) -> ConsultantLoad {
        ConsultantLoad {
            provider_id: ProviderId::new(),
            waiting,
        }
    }

    #[test]
    fn a_first_visit_goes_to_the_least_busy_consultant() {
        let busy = consultant(2);
        let free = consultant(0);
        let ana = provider(None);

        let routed = TriagePolicy::default().route(true, Some(&ana), &[busy, free]);

        assert_eq!(routed, Some(free.provider_id));
    }

    #[test]
    fn a_first_visit_goes_to_the_provider_when_no_consultant_is_on_duty() {
        let ana = provider(None);

        assert_eq!(
            TriagePolicy::default().route(true, Some(&ana), &[]),
            Some(ana.provider_id)
        );
        assert_eq!(TriagePolicy::default().route(true, None, &[]), None);
    }

    #[test]
    fn a_return_visit_goes_to_the_providers_assistant_or_the_provider() {
        let assistant = ProviderId::new();
        let with_assistant = provider(Some(assistant));
        let alone = provider(None);
        let policy = TriagePolicy::default();

        assert_eq!(
            policy.route(false, Some(&with_assistant), &[consultant(0)]),
            Some(assistant)
        );
        assert_eq!(
            policy.route(false, Some(&alone), &[consultant(0)]),
            Some(alone.provider_id)
        );
    }

    #[test]
    fn a_clinic_can_send_everyone_to_the_provider() {
        let policy = TriagePolicy {
            first_visit: FirstVisitRoute::Provider,
            return_visit: ReturnVisitRoute::Provider,
        };
        let ana = provider(Some(ProviderId::new()));

        assert_eq!(
            policy.route(true, Some(&ana), &[consultant(0)]),
            Some(ana.provider_id)
        );
        assert_eq!(
            policy.route(false, Some(&ana), &[consultant(0)]),
            Some(ana.provider_id)
        );
    }
}
