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

    /// Records a problem. A description longer than [`DESCRIPTION_MAX_CHARS`] is cut, so that
    /// however a description quotes a bad value (better through [`echo`]), the error stays small:
    /// a value of 300 KB repeated in full would make an error that clients refuse to read.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: shortened(field.into(), FIELD_MAX_CHARS),
            description: shortened(description.into(), DESCRIPTION_MAX_CHARS),
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

/// The most characters of a bad value an error repeats: enough to recognise it.
pub const ECHO_MAX_CHARS: usize = 32;

/// The longest description a [`FieldViolation`] carries.
pub const DESCRIPTION_MAX_CHARS: usize = 200;

/// The longest field path a [`FieldViolation`] carries (paths can come from the request, as an
/// update mask's do).
const FIELD_MAX_CHARS: usize = 100;

/// `value` as an error quotes it: in quotes and escaped, at most [`ECHO_MAX_CHARS`] characters of
/// it, followed by "…" when it was longer.
pub fn echo(value: &str) -> String {
    match value.char_indices().nth(ECHO_MAX_CHARS) {
        Some((end, _)) => format!("{:?}…", &value[..end]),
        None => format!("{value:?}"),
    }
}

/// `text` cut to `max` characters, with "…" when it was longer.
fn shortened(mut text: String, max: usize) -> String {
    if let Some((end, _)) = text.char_indices().nth(max) {
        text.truncate(end);
        text.push('…');
    }
    text
}

/// The one check every free-text field of a request goes through, directly or through
/// [`required_text`], [`optional_text`] or [`single_line_text`]: trims `text` and refuses more than
/// `max` characters and control characters other than line breaks and tabs. A NUL in particular
/// must be refused here: PostgreSQL cannot store it in a text column, so it would otherwise
/// surface as an internal error.
pub fn free_text(text: &str, max: usize) -> Result<&str, String> {
    let trimmed = text.trim();
    if trimmed.chars().nth(max).is_some() {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters".into());
    }
    Ok(trimmed)
}

/// Like [`free_text`], but between 1 and `max` characters.
pub fn required_text(text: &str, max: usize) -> Result<String, String> {
    let trimmed = free_text(text, max)?;
    if trimmed.is_empty() {
        return Err("is required".into());
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

/// Like [`required_text`], for a name or a code that prints on one line: no line breaks or tabs
/// either.
pub fn single_line_text(text: &str, max: usize) -> Result<String, String> {
    let text = required_text(text, max)?;
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(text)
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

    #[test]
    fn errors_repeat_only_a_short_prefix_of_a_bad_value() {
        assert_eq!(echo("MXN"), "\"MXN\"");
        assert_eq!(echo(&"é".repeat(40)), format!("{:?}…", "é".repeat(32)));
        let mut violations = FieldViolations::new();
        violations.add("a".repeat(300), format!("has {}", "x".repeat(300_000)));
        let violation = violations.iter().next().expect("one");
        assert_eq!(violation.field.chars().count(), 101);
        assert_eq!(violation.description.chars().count(), 201);
    }

    #[test]
    fn free_text_refuses_control_characters_but_keeps_lines() {
        assert!(required_text("a\0b", 10).is_err());
        assert!(optional_text("a\u{1b}b", 10).is_err());
        assert_eq!(required_text(" a\nb ", 10).as_deref(), Ok("a\nb"));
        assert!(single_line_text("a\nb", 10).is_err());
        assert_eq!(free_text("  ", 0), Ok(""));
    }
}
