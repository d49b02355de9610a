//! Typed identifiers. On the wire and on disk they are UUID strings; in code each kind of record
//! has its own type, so a `PatientId` can never be passed where an `AppointmentId` is expected.

use std::fmt;

use uuid::Uuid;

/// Why a string is not an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new identifier. Version 7 UUIDs sort by creation time, which keeps index
            /// inserts local.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the canonical hyphenated form.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                Uuid::try_parse(text).map(Self).map_err(|_| InvalidId)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }
    };
}

define_id!(
    /// A registered patient.
    PatientId
);
impl PatientId {
    /// The short form printed where a name must not appear (a receipt left on the counter):
    /// the last eight hex digits, in capitals. A version 7 UUID begins with its creation time, so
    /// patients registered within the same minute share their first block; its last 62 bits are
    /// random, so these eight digits tell them apart.
    pub fn short(&self) -> String {
        let simple = self.0.simple().to_string();
        simple[simple.len() - 8..].to_ascii_uppercase()
    }
}

define_id!(
    /// A dentist, hygienist, assistant or consultant.
    ProviderId
);
define_id!(
    /// A booked visit.
    AppointmentId
);
define_id!(
    /// A patient's place in a day's waiting-room queue.
    QueueEntryId
);
define_id!(
    /// A charge posted to a patient's account.
    ChargeId
);
define_id!(
    /// A payment received from a patient.
    PaymentId
);

/// A client-chosen idempotency key: a retry with the same key returns the first result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// Longest key accepted; a UUID (36) or a terminal's transaction id fits with room to spare.
    pub const MAX_LEN: usize = 128;

    /// 1 to 128 printable ASCII characters.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("is required");
        }
        if text.len() > Self::MAX_LEN {
            return Err("must be at most 128 characters");
        }
        if !text.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err("must be printable ASCII without spaces");
        }
        Ok(RequestId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A digest of a request's content. It is stored beside the request's idempotency key, so that a
/// retry (same key, same content) can be told apart from a key reused for something else.
pub fn request_fingerprint(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in text fields keeps ["ab", "c"] apart from ["a", "bc"].
        hasher.update([0x1f]);
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = PatientId::new();
        assert_eq!(PatientId::parse(&id.to_string()), Ok(id));
        assert_eq!(PatientId::parse("not-a-uuid"), Err(InvalidId));
    }

    #[test]
    fn request_ids_are_short_printable_ascii() {
        assert!(RequestId::parse("pay-2026-11-22-0001").is_ok());
        assert_eq!(RequestId::parse(""), Err("is required"));
        assert!(RequestId::parse("with space").is_err());
        assert!(RequestId::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn fingerprints_tell_field_boundaries_apart() {
        assert_eq!(
            request_fingerprint(&["a", "b"]),
            request_fingerprint(&["a", "b"])
        );
        assert_ne!(
            request_fingerprint(&["ab", "c"]),
            request_fingerprint(&["a", "bc"])
        );
    }
}
