//! Providers: the dentists, hygienists, assistants and consultants appointments are booked with.

use chrono::{DateTime, Utc};
use clinic_common::ids::{ProviderId, RequestId, request_fingerprint};

/// What a provider does, which decides what they can be booked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Dentist,
    Hygienist,
    Assistant,
    Consultant,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Dentist,
        ProviderKind::Hygienist,
        ProviderKind::Assistant,
        ProviderKind::Consultant,
    ];

    /// The stored form.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderKind::Dentist => "dentist",
            ProviderKind::Hygienist => "hygienist",
            ProviderKind::Assistant => "assistant",
            ProviderKind::Consultant => "consultant",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A provider's name as the schedule shows it ("Dra. Ana Ruiz"): 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(text: &str) -> Result<Self, String> {
        clinic_common::validation::single_line_text(text, 100).map(DisplayName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request to add a provider.
#[derive(Debug, Clone)]
pub struct NewProvider {
    pub display_name: DisplayName,
    pub kind: ProviderKind,
    /// The assistant who receives the provider's return patients (triage).
    pub assistant: Option<ProviderId>,
    pub request_id: RequestId,
}

impl NewProvider {
    /// A digest of the request, to recognise a retry. Requests without an assistant digest
    /// exactly as they did before assistants existed.
    pub fn fingerprint(&self) -> String {
        let assistant = self.assistant.map(|id| id.to_string());
        let mut parts = vec![self.display_name.as_str(), self.kind.as_str()];
        if let Some(assistant) = &assistant {
            parts.push(assistant);
        }
        request_fingerprint(&parts)
    }
}

/// What a manager sets on an existing provider: everything settable, replaced at once.
#[derive(Debug, Clone)]
pub struct ProviderUpdate {
    pub provider_id: ProviderId,
    pub display_name: DisplayName,
    pub kind: ProviderKind,
    pub assistant: Option<ProviderId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub provider_id: ProviderId,
    pub display_name: DisplayName,
    pub kind: ProviderKind,
    /// The assistant who receives the provider's return patients when they check in.
    pub assistant: Option<ProviderId>,
    pub created_at: DateTime<Utc>,
}

impl Provider {
    /// Whether `candidate` may be this provider's assistant: another provider, and an assistant.
    pub fn accepts_assistant(&self, candidate: &Provider) -> Result<(), &'static str> {
        if candidate.provider_id == self.provider_id {
            return Err("must be another provider");
        }
        if candidate.kind != ProviderKind::Assistant {
            return Err("must be a provider of kind assistant");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_kinds_round_trip_through_their_stored_form() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ProviderKind::parse("surgeon"), None);
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Dra. Ana Ruiz ")
                .expect("valid")
                .as_str(),
            "Dra. Ana Ruiz"
        );
        assert!(DisplayName::parse(" ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("Ana\u{7}").is_err());
    }

    #[test]
    fn a_retried_request_has_the_same_fingerprint() {
        let request = |name: &str| NewProvider {
            display_name: DisplayName::parse(name).expect("valid"),
            kind: ProviderKind::Dentist,
            assistant: None,
            request_id: RequestId::parse("p-1").expect("valid"),
        };
        assert_eq!(request("Ana").fingerprint(), request("Ana").fingerprint());
        assert_ne!(request("Ana").fingerprint(), request("Eva").fingerprint());
    }
}
