//! Finding a patient's appointment at the lobby kiosk, and keeping the kiosk from being used to
//! learn about other patients.
//!
//! A patient identifies themselves by the code on their reminder plus their date of birth, or by
//! name, date of birth and the last four digits of their phone. The registry holds those facts;
//! this module only decides whether what was typed matches them, exactly (names regardless of
//! accents, case and punctuation, since kiosk keyboards and patients differ). Every miss is the
//! same miss, and a kiosk that misses too often in a short time is made to wait.

use std::fmt;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use clinic_common::ids::AppointmentId;

use super::{Appointment, AppointmentStatus, ConfirmationCode, IdentityEvidence};

/// A name as typed at the kiosk, folded for comparison (see [`fold_name`]).
#[derive(Clone, PartialEq, Eq)]
pub struct NameKey(String);

impl NameKey {
    /// 1 to 100 characters, with at least one letter.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = clinic_common::validation::required_text(text, 100)?;
        let folded = fold_name(&text);
        if !folded.chars().any(char::is_alphabetic) {
            return Err("must contain a letter".into());
        }
        Ok(NameKey(folded))
    }

    fn matches(&self, name: &str) -> bool {
        self.0 == fold_name(name)
    }
}

impl fmt::Debug for NameKey {
    // Personal data: never in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameKey(..)")
    }
}

/// A name folded so that what a patient types matches what reception registered: lower case,
/// accents and other combining marks dropped (so "García" is "garcia" and "Ёлкин" is "елкин"),
/// apostrophes and dots dropped ("O'Brien" is "obrien"), hyphens read as spaces, and runs of
/// spaces as one. Letters of other scripts are kept as they are.
pub fn fold_name(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            '\'' | '\u{2019}' | '`' | '.' => {}
            '-' | '\u{2010}' | '\u{2011}' => folded.push(' '),
            c => folded.extend(c.to_lowercase()),
        }
    }
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The last four digits of a phone number, as typed: exactly four digits.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneLastFour(String);

impl PhoneLastFour {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(PhoneLastFour(text.to_owned()))
        } else {
            Err("must be exactly four digits")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `phone` (any punctuation) ends in these four digits.
    fn ends(&self, phone: &str) -> bool {
        let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
        digits.len() >= 4
            && digits[digits.len() - 4..]
                .iter()
                .copied()
                .eq(self.0.chars())
    }
}

impl fmt::Debug for PhoneLastFour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneLastFour(..)")
    }
}

/// Which appointment a check-in is for.
#[derive(Debug, Clone)]
pub enum CheckInTarget {
    Id(AppointmentId),
    Code(ConfirmationCode),
}

/// A check-in at the desk or the kiosk: the appointment, and at the kiosk the evidence that the
/// patient is who they say.
#[derive(Debug, Clone)]
pub struct CheckInCommand {
    pub target: CheckInTarget,
    pub identity: Option<IdentityEvidence>,
}

/// What the patient typed at the kiosk.
#[derive(Clone, PartialEq, Eq)]
pub enum KioskLookup {
    ByCode {
        code: ConfirmationCode,
        date_of_birth: NaiveDate,
    },
    ByName {
        family_name: NameKey,
        given_name: NameKey,
        date_of_birth: NaiveDate,
        phone_last_four: PhoneLastFour,
    },
}

impl fmt::Debug for KioskLookup {
    // Personal data (a date of birth, a name): never in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KioskLookup::ByCode { .. } => f.write_str("KioskLookup::ByCode(..)"),
            KioskLookup::ByName { .. } => f.write_str("KioskLookup::ByName(..)"),
        }
    }
}

/// What the patient registry knows about a patient, as far as the kiosk's checks need it.
#[derive(Clone)]
pub struct PatientFacts {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub phone: String,
}

impl fmt::Debug for PatientFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatientFacts(..)")
    }
}

impl KioskLookup {
    /// Whether the patient described by `facts` is the one who typed this. The code itself is
    /// matched by the store; here only the person.
    pub fn matches(&self, facts: &PatientFacts) -> bool {
        match self {
            KioskLookup::ByCode { date_of_birth, .. } => facts.date_of_birth == *date_of_birth,
            KioskLookup::ByName {
                family_name,
                given_name,
                date_of_birth,
                phone_last_four,
            } => {
                facts.date_of_birth == *date_of_birth
                    && phone_last_four.ends(&facts.phone)
                    && family_name.matches(&facts.family_name)
                    && given_name.matches(&facts.given_name)
            }
        }
    }
}

/// Whether an appointment is one a patient at the kiosk could be looking for today: still to
/// check in (scheduled, confirmed) or already checked in (arrived, seated: the kiosk shows them
/// their ticket again).
pub fn findable_at_kiosk(appointment: &Appointment) -> bool {
    matches!(
        appointment.status,
        AppointmentStatus::Scheduled
            | AppointmentStatus::Confirmed
            | AppointmentStatus::Arrived
            | AppointmentStatus::Seated
    )
}

/// How many misses a kiosk may make, and over how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KioskGuard {
    pub max_misses: u32,
    pub window: TimeDelta,
}

impl KioskGuard {
    /// Misses recorded after this instant count against a kiosk at `now`.
    pub fn counted_since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// Whether a kiosk with `misses` recent misses may look again.
    pub fn allows(&self, misses: u32) -> bool {
        misses < self.max_misses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn born() -> NaiveDate {
        NaiveDate::from_ymd_opt(1985, 3, 14).expect("valid")
    }

    fn maria() -> PatientFacts {
        PatientFacts {
            given_name: "María José".into(),
            family_name: "García-Núñez".into(),
            date_of_birth: born(),
            phone: "+52 55 1234 5678".into(),
        }
    }

    fn by_name(
        family: &str,
        given: &str,
        date_of_birth: NaiveDate,
        last_four: &str,
    ) -> KioskLookup {
        KioskLookup::ByName {
            family_name: NameKey::parse(family).expect("a name"),
            given_name: NameKey::parse(given).expect("a name"),
            date_of_birth,
            phone_last_four: PhoneLastFour::parse(last_four).expect("four digits"),
        }
    }

    #[test]
    fn names_match_regardless_of_accents_case_spacing_and_hyphens() {
        assert!(by_name("garcia nunez", "MARIA  JOSE", born(), "5678").matches(&maria()));
        assert!(by_name(" García-Núñez ", "María José", born(), "5678").matches(&maria()));
        assert_eq!(fold_name("O'Brien"), "obrien");
        assert_eq!(fold_name("Ёлкин"), fold_name("елкин"));
        assert_eq!(fold_name("张 伟"), "张 伟");
    }

    #[test]
    fn anything_else_must_match_exactly() {
        let other_day = NaiveDate::from_ymd_opt(1985, 3, 15).expect("valid");
        assert!(!by_name("García Núñez", "María", born(), "5678").matches(&maria()));
        assert!(!by_name("García", "María José", born(), "5678").matches(&maria()));
        assert!(!by_name("García Núñez", "María José", other_day, "5678").matches(&maria()));
        assert!(!by_name("García Núñez", "María José", born(), "5679").matches(&maria()));
    }

    #[test]
    fn a_code_lookup_checks_the_date_of_birth() {
        let lookup = |date_of_birth| KioskLookup::ByCode {
            code: ConfirmationCode::parse("K7MP2X").expect("valid"),
            date_of_birth,
        };
        assert!(lookup(born()).matches(&maria()));
        assert!(!lookup(NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid")).matches(&maria()));
    }

    #[test]
    fn the_last_four_are_four_digits() {
        assert!(PhoneLastFour::parse("5678").is_ok());
        assert!(PhoneLastFour::parse("567").is_err());
        assert!(PhoneLastFour::parse("56a8").is_err());
        assert!(!PhoneLastFour::parse("5678").expect("valid").ends("678"));
    }

    #[test]
    fn names_need_a_letter() {
        assert!(NameKey::parse("  ").is_err());
        assert!(NameKey::parse("--").is_err());
        assert!(NameKey::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn a_kiosk_may_miss_up_to_the_limit_within_the_window() {
        let guard = KioskGuard {
            max_misses: 5,
            window: TimeDelta::minutes(15),
        };
        let now: DateTime<Utc> = "2026-11-22T15:00:00Z".parse().expect("valid");
        assert!(guard.allows(4));
        assert!(!guard.allows(5));
        assert_eq!(
            guard.counted_since(now),
            "2026-11-22T14:45:00Z"
                .parse::<DateTime<Utc>>()
                .expect("valid")
        );
    }

    #[test]
    fn facts_and_keys_keep_personal_data_out_of_logs() {
        assert_eq!(format!("{:?}", maria()), "PatientFacts(..)");
        let lookup = by_name("García", "María", born(), "5678");
        let shown = format!("{lookup:?}");
        assert_eq!(shown, "KioskLookup::ByName(..)");
    }
}
