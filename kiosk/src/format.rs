//! Formatting and parsing for the screens, as plain functions: money in the clinic's currency,
//! clinic-local times, dates typed on a keypad. Unit-tested here rather than through the UI.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use clinic_common::money::{Currency, Money};

/// The day of the week of `day`, in `lang`.
pub fn weekday(day: NaiveDate, lang: crate::i18n::Lang) -> &'static str {
    use crate::i18n::T;
    let text = match day.weekday() {
        Weekday::Mon => T::Monday,
        Weekday::Tue => T::Tuesday,
        Weekday::Wed => T::Wednesday,
        Weekday::Thu => T::Thursday,
        Weekday::Fri => T::Friday,
        Weekday::Sat => T::Saturday,
        Weekday::Sun => T::Sunday,
    };
    text.get(lang)
}

/// `$1,250.50` for a currency with a dollar-like sign (MXN, USD), `1,250.50 EUR` otherwise;
/// negative amounts as `-$80.00`.
pub fn money(amount: Money) -> String {
    let minor = amount.minor_units();
    let digits = amount.currency().minor_unit_digits();
    let scale = 10_i64.pow(digits);
    let whole = (minor / scale).unsigned_abs();
    let fraction = (minor % scale).unsigned_abs();
    let mut grouped = String::new();
    let whole_text = whole.to_string();
    for (index, digit) in whole_text.chars().enumerate() {
        if index > 0 && (whole_text.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let number = if digits == 0 {
        grouped
    } else {
        format!("{grouped}.{fraction:0width$}", width = digits as usize)
    };
    let sign = if minor < 0 { "-" } else { "" };
    match amount.currency().code() {
        "MXN" | "USD" => format!("{sign}${number}"),
        code => format!("{sign}{number} {code}"),
    }
}

/// An amount typed at the counter ("1250", "1,250.5", "$80.00") in minor units of `currency`;
/// `None` unless it is a plain non-negative number with no more decimals than the currency has.
pub fn parse_money(text: &str, currency: Currency) -> Option<Money> {
    let cleaned: String = text
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if cleaned.is_empty() {
        return None;
    }
    let digits = currency.minor_unit_digits() as usize;
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > digits
        || whole.len() > 12
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<digits$}").parse().ok()?
    };
    let minor = whole
        .checked_mul(10_i64.pow(digits as u32))?
        .checked_add(fraction)?;
    Some(Money::from_minor(minor, currency))
}

/// The amount as typed back into a field: `1250.50`, no sign or grouping.
pub fn money_input(amount: Money) -> String {
    let digits = amount.currency().minor_unit_digits();
    let scale = 10_i64.pow(digits);
    let minor = amount.minor_units();
    if digits == 0 {
        return minor.to_string();
    }
    format!(
        "{}.{:0width$}",
        minor / scale,
        (minor % scale).abs(),
        width = digits as usize
    )
}

/// `10:30`, in the clinic's time zone.
pub fn local_time(instant: DateTime<Utc>, time_zone: Tz) -> String {
    instant
        .with_timezone(&time_zone)
        .format("%H:%M")
        .to_string()
}

/// A date of birth from the three keypad fields (day, month, four-digit year).
pub fn date_of_birth(day: &str, month: &str, year: &str) -> Option<NaiveDate> {
    if year.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// Whether `text` is exactly four digits (the phone's or the card's last four).
pub fn is_last_four(text: &str) -> bool {
    text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` is a phone number in international form as the registry takes it: + and 8 to
/// 15 digits, spaces allowed between them.
pub fn is_international_phone(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    compact.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// A patient's full name as staff read it: "María García López"; Chinese, Japanese and Korean
/// names family name first with no space ("张伟").
pub fn full_name(given: &str, family: &str) -> String {
    let east_asian = |text: &str| {
        text.chars().any(|c| {
            matches!(c as u32, 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af)
        })
    };
    if east_asian(given) || east_asian(family) {
        format!("{family}{given}")
    } else {
        format!("{given} {family}")
    }
}

/// "María G." from a given and family name: what a screen others can see may show.
pub fn short_name(given: &str, family: &str) -> String {
    match family.chars().next() {
        Some(initial) => format!("{given} {initial}."),
        None => given.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    #[test]
    fn money_is_grouped_with_a_sign_and_two_decimals() {
        assert_eq!(money(mxn(125_050)), "$1,250.50");
        assert_eq!(money(mxn(5)), "$0.05");
        assert_eq!(money(mxn(-8_000)), "-$80.00");
        assert_eq!(money(mxn(12_345_678_900)), "$123,456,789.00");
    }

    #[test]
    fn typed_amounts_parse_exactly_or_not_at_all() {
        assert_eq!(parse_money("1250", Currency::MXN), Some(mxn(125_000)));
        assert_eq!(parse_money("$1,250.5", Currency::MXN), Some(mxn(125_050)));
        assert_eq!(parse_money(".75", Currency::MXN), Some(mxn(75)));
        for bad in ["", "abc", "1.234", "-5", "1.2.3", "."] {
            assert_eq!(parse_money(bad, Currency::MXN), None, "{bad:?}");
        }
        assert_eq!(money_input(mxn(125_050)), "1250.50");
    }

    #[test]
    fn times_are_shown_in_the_clinic_zone() {
        let instant: DateTime<Utc> = "2026-11-22T16:30:00Z".parse().expect("valid");
        assert_eq!(
            local_time(instant, chrono_tz::America::Mexico_City),
            "10:30"
        );
    }

    #[test]
    fn dates_of_birth_need_a_real_date_and_a_full_year() {
        assert_eq!(
            date_of_birth("14", "3", "1985"),
            NaiveDate::from_ymd_opt(1985, 3, 14)
        );
        assert_eq!(date_of_birth("30", "2", "1985"), None);
        assert_eq!(date_of_birth("14", "3", "85"), None);
        assert!(is_last_four("0042"));
        assert!(!is_last_four("042"));
        assert!(is_international_phone("+52 55 1234 5678"));
        assert!(!is_international_phone("55 1234 5678"));
        assert!(!is_international_phone("+52 55"));
        assert_eq!(short_name("María", "García López"), "María G.");
        assert_eq!(full_name("伟", "张"), "张伟");
        assert_eq!(full_name("Анна", "Смирнова"), "Анна Смирнова");
    }
}
