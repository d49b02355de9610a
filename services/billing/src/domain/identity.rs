//! Identity evidence a patient gives at the lobby kiosk before it shows their balance or takes
//! their card. Billing never stores or logs it: the patient registry holds the facts and answers
//! only whether they match.

use std::fmt;

use chrono::NaiveDate;

#[derive(Clone, PartialEq, Eq)]
pub struct IdentityEvidence {
    pub date_of_birth: NaiveDate,
    pub phone_last_four: PhoneLastFour,
}

impl fmt::Debug for IdentityEvidence {
    // Personal data: never in a log line, even by accident.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityEvidence(..)")
    }
}

/// The last four digits of the patient's phone number: exactly four ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneLastFour(String);

impl PhoneLastFour {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.len() == 4 && text.bytes().all(|byte| byte.is_ascii_digit()) {
            Ok(PhoneLastFour(text.to_owned()))
        } else {
            Err("must be exactly four digits")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_four_are_exactly_four_digits() {
        assert!(PhoneLastFour::parse("0042").is_ok());
        for bad in ["", "123", "12345", "12a4", " 123"] {
            assert!(
                PhoneLastFour::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn evidence_never_shows_in_debug_output() {
        let evidence = IdentityEvidence {
            date_of_birth: NaiveDate::from_ymd_opt(1990, 7, 2).expect("a date"),
            phone_last_four: PhoneLastFour::parse("2222").expect("valid"),
        };
        assert_eq!(format!("{evidence:?}"), "IdentityEvidence(..)");
    }
}
