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
use clinic_common::ids::AppointmentId;
use clinic_common::names;

use super::{Appointment, AppointmentStatus, ConfirmationCode, IdentityEvidence};

/// A name as typed at the kiosk, folded for comparison (see [`names::fold`]).
#[derive(Clone, PartialEq, Eq)]
pub struct NameKey(String);

impl NameKey {
    /// 1 to 100 characters, with at least one letter.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = clinic_common::validation::required_text(text, 100)?;
        let folded = names::fold(&text);
        if !folded.chars().any(char::is_alphabetic) {
            return Err("must contain a letter".into());
        }
        Ok(NameKey(folded))
    }

    /// Whether this is `name` as registered, or, for a name in Chinese characters, its pinyin.
    fn matches(&self, name: &str) -> bool {
        self.0 == names::fold(name) || names::spelled_in_pinyin(&self.0, name)
    }
}

impl fmt::Debug for NameKey {
    // Personal data: never in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameKey(..)")
    }
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

/// What a kiosk's miss was aimed at: one confirmation code, one appointment, or one patient's
/// name. Kept as a digest, so that the misses table holds no personal data, only something to
/// count a patient's misses by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LookupTarget(String);

impl LookupTarget {
    fn of(kind: &str, key: &str) -> LookupTarget {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{kind}\u{1f}{key}").as_bytes());
        LookupTarget(
            digest[..16]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The target as stored.
    pub fn from_stored(text: String) -> LookupTarget {
        LookupTarget(text)
    }

    /// What a lookup is for: its code, or the name it gives (as folded for matching).
    pub fn of_lookup(lookup: &KioskLookup) -> LookupTarget {
        match lookup {
            KioskLookup::ByCode { code, .. } => LookupTarget::of("code", code.as_str()),
            KioskLookup::ByName {
                family_name,
                given_name,
                ..
            } => LookupTarget::of("name", &format!("{}\u{1f}{}", family_name.0, given_name.0)),
        }
    }

    /// What a check-in is for: its code, or the appointment it names.
    pub fn of_check_in(target: &CheckInTarget) -> LookupTarget {
        match target {
            CheckInTarget::Code(code) => LookupTarget::of("code", code.as_str()),
            CheckInTarget::Id(appointment_id) => {
                LookupTarget::of("appointment", &appointment_id.to_string())
            }
        }
    }
}

/// A recent miss at a kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskMiss {
    /// The kiosk's token subject, e.g. `kiosk:lobby-1`.
    pub kiosk: String,
    pub target: LookupTarget,
    pub at: DateTime<Utc>,
}

/// What a lock holds back: every lookup at one kiosk, or one patient's (one target's) lookups
/// at any kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockScope {
    Kiosk,
    Patient(LookupTarget),
}

/// Lookups refused for a while after too many misses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskLock {
    /// The kiosk whose misses made the lock.
    pub kiosk: String,
    pub scope: LockScope,
    /// When enough misses have left the window for lookups to be allowed again.
    pub until: DateTime<Utc>,
}

/// How many misses a kiosk may make, and how many may be made at one patient (one code, one
/// name) from any kiosk, within `window`. The first limit stops a kiosk from being used to try
/// code after code; the second stops anyone from guessing at one patient's birth date or phone,
/// without locking out every other patient in the lobby.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KioskGuard {
    pub max_misses: u32,
    pub max_misses_per_patient: u32,
    pub window: TimeDelta,
}

impl KioskGuard {
    /// Misses recorded after this instant count at `now`.
    pub fn counted_since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// The lock, if any, that refuses a lookup at `kiosk` for `target` at `now`, given the
    /// misses of the window (older ones are ignored). A kiosk's own lock comes first.
    pub fn lock_for(
        &self,
        misses: &[KioskMiss],
        (kiosk, target): (&str, &LookupTarget),
        now: DateTime<Utc>,
    ) -> Option<KioskLock> {
        let since = self.counted_since(now);
        let recent = misses.iter().filter(|miss| miss.at > since);
        let at_kiosk: Vec<DateTime<Utc>> = recent
            .clone()
            .filter(|miss| miss.kiosk == kiosk)
            .map(|miss| miss.at)
            .collect();
        if let Some(until) = self.locked_until(at_kiosk, self.max_misses) {
            return Some(KioskLock {
                kiosk: kiosk.to_owned(),
                scope: LockScope::Kiosk,
                until,
            });
        }
        let at_target: Vec<&KioskMiss> = recent.filter(|miss| miss.target == *target).collect();
        let until = self.locked_until(
            at_target.iter().map(|miss| miss.at).collect(),
            self.max_misses_per_patient,
        )?;
        Some(KioskLock {
            kiosk: at_target
                .iter()
                .max_by_key(|miss| miss.at)
                .map_or_else(|| kiosk.to_owned(), |miss| miss.kiosk.clone()),
            scope: LockScope::Patient(target.clone()),
            until,
        })
    }

    /// Every lock in force at `now`, for reception: kiosks first, then patients, each by when
    /// it lifts.
    pub fn locks(&self, misses: &[KioskMiss], now: DateTime<Utc>) -> Vec<KioskLock> {
        let since = self.counted_since(now);
        let recent: Vec<&KioskMiss> = misses.iter().filter(|miss| miss.at > since).collect();
        let mut kiosks: Vec<&str> = recent.iter().map(|miss| miss.kiosk.as_str()).collect();
        kiosks.sort_unstable();
        kiosks.dedup();
        let mut targets: Vec<&LookupTarget> = recent.iter().map(|miss| &miss.target).collect();
        targets.sort_unstable_by_key(|target| target.as_str());
        targets.dedup();
        let mut locks = Vec::new();
        for kiosk in kiosks {
            let times = recent
                .iter()
                .filter(|miss| miss.kiosk == kiosk)
                .map(|miss| miss.at)
                .collect();
            if let Some(until) = self.locked_until(times, self.max_misses) {
                locks.push(KioskLock {
                    kiosk: kiosk.to_owned(),
                    scope: LockScope::Kiosk,
                    until,
                });
            }
        }
        for target in targets {
            let at_target: Vec<&&KioskMiss> = recent
                .iter()
                .filter(|miss| miss.target == *target)
                .collect();
            let times = at_target.iter().map(|miss| miss.at).collect();
            if let Some(until) = self.locked_until(times, self.max_misses_per_patient) {
                let last = at_target.iter().max_by_key(|miss| miss.at);
                locks.push(KioskLock {
                    kiosk: last.map(|miss| miss.kiosk.clone()).unwrap_or_default(),
                    scope: LockScope::Patient(target.clone()),
                    until,
                });
            }
        }
        locks.sort_by_key(|lock| (matches!(lock.scope, LockScope::Patient(_)), lock.until));
        locks
    }

    /// With `times` of recent misses and a limit of `max`, when lookups are allowed again (once
    /// fewer than `max` misses are left in the window), or `None` when they are allowed now.
    fn locked_until(&self, mut times: Vec<DateTime<Utc>>, max: u32) -> Option<DateTime<Utc>> {
        let max = usize::try_from(max.max(1)).unwrap_or(usize::MAX);
        if times.len() < max {
            return None;
        }
        times.sort_unstable();
        // Allowed again once all but max - 1 have left the window.
        Some(times[times.len() - max] + self.window)
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
        assert!(
            by_name("O'Brien", "Sean", born(), "5678").matches(&PatientFacts {
                given_name: "Seán".into(),
                family_name: "OBrien".into(),
                ..maria()
            })
        );
    }

    #[test]
    fn a_name_in_chinese_characters_matches_as_written_or_in_pinyin() {
        let wang = PatientFacts {
            given_name: "静".into(),
            family_name: "王".into(),
            ..maria()
        };
        assert!(by_name("王", "静", born(), "5678").matches(&wang));
        assert!(by_name("Wang", "Jing", born(), "5678").matches(&wang));
        assert!(by_name("WANG", "jing", born(), "5678").matches(&wang));
        // The pinyin must be the name's, in its place, with the rest of the evidence.
        assert!(!by_name("Jing", "Wang", born(), "5678").matches(&wang));
        assert!(!by_name("Wang", "Jin", born(), "5678").matches(&wang));
        assert!(!by_name("Wang", "Jing", born(), "1234").matches(&wang));
        let ouyang = PatientFacts {
            given_name: "娜娜".into(),
            family_name: "欧阳".into(),
            ..maria()
        };
        assert!(by_name("Ou Yang", "Na Na", born(), "5678").matches(&ouyang));
        assert!(by_name("ouyang", "nana", born(), "5678").matches(&ouyang));
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

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("valid")
    }

    fn miss(kiosk: &str, target: &LookupTarget, when: &str) -> KioskMiss {
        KioskMiss {
            kiosk: kiosk.into(),
            target: target.clone(),
            at: at(when),
        }
    }

    fn guard() -> KioskGuard {
        KioskGuard {
            max_misses: 4,
            max_misses_per_patient: 2,
            window: TimeDelta::minutes(15),
        }
    }

    #[test]
    fn a_kiosk_may_miss_up_to_its_limit_within_the_window_then_waits_for_misses_to_leave_it() {
        let targets: Vec<LookupTarget> = ["A", "B", "C", "D"]
            .iter()
            .map(|code| LookupTarget::of("code", code))
            .collect();
        let misses: Vec<KioskMiss> = targets
            .iter()
            .zip(["14:45", "14:50", "14:52", "14:55"])
            .map(|(target, time)| miss("kiosk:1", target, &format!("2026-11-22T{time}:00Z")))
            .collect();
        let new = LookupTarget::of("code", "E");
        let lock = guard()
            .lock_for(&misses[1..], ("kiosk:1", &new), at("2026-11-22T15:00:00Z"))
            .map(|lock| lock.scope);
        assert_eq!(lock, None, "three misses in the window");
        let lock = guard()
            .lock_for(&misses, ("kiosk:1", &new), at("2026-11-22T14:56:00Z"))
            .expect("four misses");
        assert_eq!(lock.scope, LockScope::Kiosk);
        // Allowed again when the oldest of the four leaves the window.
        assert_eq!(lock.until, at("2026-11-22T15:00:00Z"));
        assert!(
            guard()
                .lock_for(&misses, ("kiosk:2", &new), at("2026-11-22T14:56:00Z"))
                .is_none(),
            "another kiosk is not held back"
        );
    }

    #[test]
    fn misses_at_one_patient_lock_that_patient_at_every_kiosk_and_no_one_else() {
        let maria = LookupTarget::of("code", "K7MP2X");
        let juan = LookupTarget::of("code", "Q2W3E4");
        let misses = [
            miss("kiosk:1", &maria, "2026-11-22T14:50:00Z"),
            miss("kiosk:2", &maria, "2026-11-22T14:58:00Z"),
        ];
        let now = at("2026-11-22T15:00:00Z");
        let lock = guard()
            .lock_for(&misses, ("kiosk:3", &maria), now)
            .expect("two misses at María");
        assert_eq!(lock.scope, LockScope::Patient(maria.clone()));
        assert_eq!(lock.kiosk, "kiosk:2", "the kiosk of the latest miss");
        assert_eq!(lock.until, at("2026-11-22T15:05:00Z"));
        assert!(guard().lock_for(&misses, ("kiosk:1", &juan), now).is_none());
        assert_eq!(guard().locks(&misses, now), vec![lock]);
    }

    #[test]
    fn targets_are_digests_that_tell_codes_names_and_appointments_apart() {
        let code = LookupTarget::of("code", "K7MP2X");
        assert_eq!(code.as_str().len(), 32);
        assert!(!code.as_str().contains("K7MP2X"));
        assert_ne!(code, LookupTarget::of("name", "K7MP2X"));
        let by_name = |family: &str, given: &str| {
            LookupTarget::of_lookup(&by_name(family, given, born(), "5678"))
        };
        assert_eq!(by_name("García", "María"), by_name("garcia", "MARIA"));
        assert_ne!(by_name("García", "María"), by_name("García", "Marta"));
    }

    #[test]
    fn facts_and_keys_keep_personal_data_out_of_logs() {
        assert_eq!(format!("{:?}", maria()), "PatientFacts(..)");
        let lookup = by_name("García", "María", born(), "5678");
        let shown = format!("{lookup:?}");
        assert_eq!(shown, "KioskLookup::ByName(..)");
    }
}
