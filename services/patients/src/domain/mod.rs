//! The patient registry's model and rules, free of storage and transport.

mod error;
mod fiscal;
mod intake;
mod search;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_common::ids::{PatientId, RequestId, request_fingerprint};
use clinic_common::validation::FieldViolations;

pub use error::PatientsError;
pub use fiscal::FiscalData;
pub use intake::{
    EmergencyContact, Guardian, GuardianRelationship, IntakeAnswers, IntakeForm, LastDentalVisit,
    MedicalCondition, NewIntakeForm, RawGuardian, RawIntake,
};
pub use search::{SEARCH_TEXT_VERSION, SearchTerms, search_text};

/// The languages messages and documents are available in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Spanish,
    English,
    Chinese,
    Russian,
}

impl Language {
    pub fn parse(tag: &str) -> Result<Self, &'static str> {
        match tag.trim().to_ascii_lowercase().as_str() {
            "" | "es" => Ok(Language::Spanish),
            "en" => Ok(Language::English),
            "zh" => Ok(Language::Chinese),
            "ru" => Ok(Language::Russian),
            _ => Err("must be one of es, en, zh, ru"),
        }
    }

    pub fn tag(&self) -> &'static str {
        match self {
            Language::Spanish => "es",
            Language::English => "en",
            Language::Chinese => "zh",
            Language::Russian => "ru",
        }
    }
}

/// A given or family name: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(text: &str) -> Result<Self, String> {
        clinic_common::validation::single_line_text(text, 100).map(PersonName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+` then 8 to 15 digits). Spaces, dashes, dots and brackets
/// typed at the desk are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        if compact.is_empty() {
            return Err("is required");
        }
        let Some(digits) = compact.strip_prefix('+') else {
            return Err("must be in international form, e.g. +525512345678");
        };
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be + followed by 8 to 15 digits");
        }
        Ok(Phone(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, which a patient confirms at the kiosk.
    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

/// An email address: one `@`, something before it, a dotted domain after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let email = text.trim();
        if email.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if valid {
            Ok(Email(email.to_owned()))
        } else {
            Err("is not a valid email address")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A date of birth: a real date, not in the future, not before 1900.
pub fn parse_date_of_birth(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    if date > today {
        return Err("must not be in the future");
    }
    if date.year() < 1900 {
        return Err("must not be before 1900");
    }
    Ok(date)
}

/// The age from which a patient answers for themselves.
pub const AGE_OF_MAJORITY: u32 = 18;

/// Whether a patient is of age: a parent or guardian answers for a minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    Minor,
    Adult,
}

impl Age {
    /// A patient born on `date_of_birth`, on `today` (the clinic's date): a minor until their
    /// 18th birthday (one born on 29 February comes of age on 1 March in a common year).
    pub fn on(date_of_birth: NaiveDate, today: NaiveDate) -> Age {
        match today.years_since(date_of_birth) {
            Some(years) if years >= AGE_OF_MAJORITY => Age::Adult,
            _ => Age::Minor,
        }
    }
}

/// The channels a patient agreed to be contacted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactConsent {
    pub sms: bool,
    pub whatsapp: bool,
    pub email: bool,
    pub phone_call: bool,
}

/// Everything about a patient that staff enter.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientDetails {
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub date_of_birth: NaiveDate,
    pub phone: Phone,
    pub email: Option<Email>,
    pub language: Language,
    pub time_zone: Tz,
    pub consent: ContactConsent,
}

impl PatientDetails {
    /// Checks rules that span fields: email consent needs an email address.
    pub fn validate(&self, violations: &mut FieldViolations, prefix: &str) {
        if self.consent.email && self.email.is_none() {
            violations.add(
                format!("{prefix}consent.email"),
                "needs an email address to consent to",
            );
        }
    }

    /// The text that search matches against.
    pub fn search_text(&self) -> String {
        search_text(
            self.given_name.as_str(),
            self.family_name.as_str(),
            &[
                self.phone.as_str(),
                self.email.as_ref().map_or("", Email::as_str),
            ],
        )
    }

    /// A digest of the details, to recognise a retried registration.
    pub fn fingerprint(&self) -> String {
        let consent = format!(
            "{}{}{}{}",
            u8::from(self.consent.sms),
            u8::from(self.consent.whatsapp),
            u8::from(self.consent.email),
            u8::from(self.consent.phone_call)
        );
        request_fingerprint(&[
            self.given_name.as_str(),
            self.family_name.as_str(),
            &self.date_of_birth.to_string(),
            self.phone.as_str(),
            self.email.as_ref().map_or("", Email::as_str),
            self.language.tag(),
            self.time_zone.name(),
            &consent,
        ])
    }
}

/// A request to register a patient.
#[derive(Debug, Clone)]
pub struct NewPatient {
    pub details: PatientDetails,
    pub request_id: RequestId,
}

/// A registered patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub patient_id: PatientId,
    pub details: PatientDetails,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Patient {
    /// Whether evidence given at a kiosk matches this patient. Both parts must match; the caller
    /// learns nothing else either way.
    pub fn matches_identity(&self, date_of_birth: NaiveDate, phone_last_four: &str) -> bool {
        self.details.date_of_birth == date_of_birth
            && self.details.phone.last_four() == phone_last_four
    }
}

/// Which fields an update changes, with their new values.
#[derive(Debug, Clone, Default)]
pub struct PatientChanges {
    pub given_name: Option<PersonName>,
    pub family_name: Option<PersonName>,
    pub date_of_birth: Option<NaiveDate>,
    pub phone: Option<Phone>,
    /// `Some(None)` clears the email address.
    pub email: Option<Option<Email>>,
    pub language: Option<Language>,
    pub time_zone: Option<Tz>,
    pub consent: Option<ContactConsent>,
}

impl PatientChanges {
    /// `details` with these changes applied.
    pub fn apply_to(&self, details: &PatientDetails) -> PatientDetails {
        PatientDetails {
            given_name: self
                .given_name
                .clone()
                .unwrap_or_else(|| details.given_name.clone()),
            family_name: self
                .family_name
                .clone()
                .unwrap_or_else(|| details.family_name.clone()),
            date_of_birth: self.date_of_birth.unwrap_or(details.date_of_birth),
            phone: self.phone.clone().unwrap_or_else(|| details.phone.clone()),
            email: self.email.clone().unwrap_or_else(|| details.email.clone()),
            language: self.language.unwrap_or(details.language),
            time_zone: self.time_zone.unwrap_or(details.time_zone),
            consent: self.consent.unwrap_or(details.consent),
        }
    }
}

/// What a person did with a patient's record, for the access audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    Create,
    Read,
    Search,
    Update,
}

impl AccessKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccessKind::Create => "create",
            AccessKind::Read => "read",
            AccessKind::Search => "search",
            AccessKind::Update => "update",
        }
    }
}

/// One entry of a patient's access audit.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientAccess {
    pub subject: String,
    pub role: String,
    pub action: String,
    pub accessed_at: DateTime<Utc>,
    /// The service the person read through; empty for their own call.
    pub via: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_typed_with_punctuation_become_e164() {
        let phone = Phone::parse("+52 (55) 1234-5678").expect("valid phone");
        assert_eq!(phone.as_str(), "+525512345678");
        assert_eq!(phone.last_four(), "5678");
        assert!(Phone::parse("5512345678").is_err());
        assert!(Phone::parse("+52 55 12ab").is_err());
        assert_eq!(Phone::parse(" "), Err("is required"));
    }

    #[test]
    fn email_addresses_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("ana.ruiz@example.mx").is_ok());
        for bad in [
            "ana",
            "@example.mx",
            "ana@example",
            "ana@@example.mx",
            "a na@example.mx",
            "ana@.mx",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn dates_of_birth_are_in_the_past_and_after_1900() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid");
        assert!(parse_date_of_birth(today, today).is_ok());
        assert!(parse_date_of_birth(today.succ_opt().expect("valid"), today).is_err());
        assert!(
            parse_date_of_birth(NaiveDate::from_ymd_opt(1899, 12, 31).expect("valid"), today)
                .is_err()
        );
    }

    #[test]
    fn a_patient_comes_of_age_on_their_18th_birthday() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid");
        let born = date(2008, 12, 8);
        assert_eq!(Age::on(born, date(2026, 12, 7)), Age::Minor);
        assert_eq!(Age::on(born, date(2026, 12, 8)), Age::Adult);
        let leap = date(2008, 2, 29);
        assert_eq!(Age::on(leap, date(2026, 2, 28)), Age::Minor);
        assert_eq!(Age::on(leap, date(2026, 3, 1)), Age::Adult);
        // A date of birth after today (a typing slip) is no adult.
        assert_eq!(Age::on(date(2027, 1, 1), date(2026, 12, 7)), Age::Minor);
    }

    #[test]
    fn languages_default_to_spanish() {
        assert_eq!(Language::parse(""), Ok(Language::Spanish));
        assert_eq!(Language::parse("RU"), Ok(Language::Russian));
        assert!(Language::parse("fr").is_err());
    }

    fn details() -> PatientDetails {
        PatientDetails {
            given_name: PersonName::parse("María").expect("valid"),
            family_name: PersonName::parse("García").expect("valid"),
            date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).expect("valid"),
            phone: Phone::parse("+525512345678").expect("valid"),
            email: None,
            language: Language::Spanish,
            time_zone: chrono_tz::America::Mexico_City,
            consent: ContactConsent::default(),
        }
    }

    #[test]
    fn identity_matches_only_on_both_date_of_birth_and_phone() {
        let patient = Patient {
            patient_id: PatientId::new(),
            details: details(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        let born = NaiveDate::from_ymd_opt(1985, 3, 14).expect("valid");
        assert!(patient.matches_identity(born, "5678"));
        assert!(!patient.matches_identity(born, "5679"));
        assert!(!patient.matches_identity(born.succ_opt().expect("valid"), "5678"));
    }

    #[test]
    fn consenting_to_email_needs_an_address() {
        let mut with_consent = details();
        with_consent.consent.email = true;
        let mut violations = FieldViolations::new();
        with_consent.validate(&mut violations, "patient.");
        assert_eq!(
            violations.to_string(),
            "patient.consent.email: needs an email address to consent to"
        );
    }

    #[test]
    fn changes_touch_only_the_named_fields() {
        let changes = PatientChanges {
            phone: Some(Phone::parse("+525500001111").expect("valid")),
            email: Some(None),
            ..PatientChanges::default()
        };
        let changed = changes.apply_to(&details());
        assert_eq!(changed.phone.last_four(), "1111");
        assert_eq!(changed.given_name.as_str(), "María");
    }

    #[test]
    fn a_retried_registration_has_the_same_fingerprint() {
        assert_eq!(details().fingerprint(), details().fingerprint());
        let mut other = details();
        other.consent.sms = true;
        assert_ne!(details().fingerprint(), other.fingerprint());
    }
}
