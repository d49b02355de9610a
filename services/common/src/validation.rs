//! Field-level validation results. Conversions from a request to a domain command collect every
//! problem at once, so a client can highlight all the offending fields in one round trip.

use std::fmt;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path in the request, e.g. `patient.date_of_birth`.
    pub field: String,
    /// What is wrong, e.g. `must not be in the future`.
    pub description: String,
}

/// Every problem found in a request. Empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldViolations(Vec<FieldViolation>);

impl FieldViolations {
    pub fn new() -> Self {
        Self::default()
    }

    /// A single violation.
    pub fn single(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut violations = Self::new();
        violations.add(field, description);
        violations
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Keeps the value of a successful parse, or records why `field` failed and returns `None`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Records a violation of `field` unless `ok` holds.
    pub fn require(&mut self, ok: bool, field: &str, description: &str) {
        if !ok {
            self.add(field, description);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldViolation> {
        self.0.iter()
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldViolations> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldViolations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, violation) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", violation.field, violation.description)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldViolations {}

/// Trims `text` and checks it has between 1 and `max` characters.
pub fn required_text(text: &str, max: usize) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("is required".into());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(trimmed.to_owned())
}

/// Like [`required_text`], but empty is allowed and becomes `None`.
pub fn optional_text(text: &str, max: usize) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        required_text(text, max).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_collect_every_failed_field() {
        let mut violations = FieldViolations::new();
        let name = violations.check("patient.given_name", required_text("  ", 10));
        let family = violations.check("patient.family_name", required_text(" Ruiz ", 10));
        assert_eq!(name, None);
        assert_eq!(family.as_deref(), Some("Ruiz"));
        violations.require(false, "patient.phone", "is required");
        assert_eq!(
            violations.to_string(),
            "patient.given_name: is required; patient.phone: is required"
        );
        assert!(violations.into_result().is_err());
    }

    #[test]
    fn text_length_counts_characters_not_bytes() {
        assert!(required_text("张伟", 2).is_ok());
        assert!(required_text("Анастасия", 8).is_err());
        assert_eq!(optional_text("", 5), Ok(None));
    }
}
