//! The clinic's gRPC contracts, generated from `clinic/**/*.proto`, and the conversions between
//! their shared value types and `clinic-common`'s, so that no service handles a raw protobuf
//! `Money`, `Date` or `Timestamp`.
#![warn(missing_docs)]

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use clinic_common::money::{Currency, Money};

#[allow(missing_docs, clippy::all)]
pub mod common {
    //! `clinic.common.v1`
    pub mod v1 {
        tonic::include_proto!("clinic.common.v1");
    }
}

#[allow(missing_docs, clippy::all)]
pub mod patients {
    //! `clinic.patients.v1`
    pub mod v1 {
        tonic::include_proto!("clinic.patients.v1");
    }
}

#[allow(missing_docs, clippy::all)]
pub mod scheduling {
    //! `clinic.scheduling.v1`
    pub mod v1 {
        tonic::include_proto!("clinic.scheduling.v1");
    }
}

#[allow(missing_docs, clippy::all)]
pub mod billing {
    //! `clinic.billing.v1`
    pub mod v1 {
        tonic::include_proto!("clinic.billing.v1");
    }
}

#[allow(missing_docs, clippy::all)]
pub mod collections {
    //! `clinic.collections.v1`
    pub mod v1 {
        tonic::include_proto!("clinic.collections.v1");
    }
}

/// Every clinic contract as an encoded `FileDescriptorSet`, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("clinic_descriptor");

/// The money in `money` if it is in `expected` currency. Errors read as a field description
/// ("is required", "must be in MXN") for a `FieldViolations` entry.
pub fn money_from_proto(
    money: Option<&common::v1::Money>,
    expected: Currency,
) -> Result<Money, String> {
    let money = money.ok_or("is required")?;
    let currency: Currency = money.currency_code.parse().map_err(|_| {
        format!(
            "has unknown currency code {}",
            clinic_common::validation::echo(&money.currency_code)
        )
    })?;
    if currency != expected {
        return Err(format!("must be in {expected}"));
    }
    Ok(Money::from_minor(money.minor_units, currency))
}

/// The wire form of `money`.
pub fn money_to_proto(money: Money) -> common::v1::Money {
    common::v1::Money {
        minor_units: money.minor_units(),
        currency_code: money.currency().code().to_owned(),
    }
}

/// The calendar date in `date`, which must be present and real.
pub fn date_from_proto(date: Option<&common::v1::Date>) -> Result<NaiveDate, String> {
    let date = date.ok_or("is required")?;
    let (Ok(month), Ok(day)) = (u32::try_from(date.month), u32::try_from(date.day)) else {
        return Err("is not a valid calendar date".into());
    };
    NaiveDate::from_ymd_opt(date.year, month, day)
        .ok_or_else(|| "is not a valid calendar date".into())
}

/// The wire form of `date`.
pub fn date_to_proto(date: NaiveDate) -> common::v1::Date {
    common::v1::Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// The instant in `timestamp`, which must be present and in range.
pub fn timestamp_from_proto(
    timestamp: Option<&prost_types::Timestamp>,
) -> Result<DateTime<Utc>, String> {
    let timestamp = timestamp.ok_or("is required")?;
    let nanos = u32::try_from(timestamp.nanos).map_err(|_| "has negative nanos".to_owned())?;
    DateTime::from_timestamp(timestamp.seconds, nanos).ok_or_else(|| "is out of range".into())
}

/// The wire form of `instant`.
pub fn timestamp_to_proto(instant: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.timestamp(),
        nanos: instant.timestamp_subsec_nanos() as i32,
    }
}

/// Page size and offset from a `PageRequest`: `default` when unset, never more than `max`.
/// Page tokens are opaque to clients; here they carry the offset of the next page.
pub fn page_from_proto(
    page: Option<&common::v1::PageRequest>,
    default: u32,
    max: u32,
) -> Result<(u32, u64), String> {
    let Some(page) = page else {
        return Ok((default, 0));
    };
    let size = match u32::try_from(page.page_size) {
        Ok(0) => default,
        Ok(size) => size.min(max),
        Err(_) => return Err("page_size must not be negative".into()),
    };
    let offset = if page.page_token.is_empty() {
        0
    } else {
        page.page_token
            .strip_prefix("o")
            .and_then(|offset| offset.parse().ok())
            .ok_or("page_token is not one this service issued")?
    };
    Ok((size, offset))
}

/// The `next_page_token` after a page of `returned` items at `offset`: empty when the page was
/// not full, as there is nothing more.
pub fn next_page_token(offset: u64, size: u32, returned: usize) -> String {
    if returned < size as usize {
        String::new()
    } else {
        format!("o{}", offset + returned as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_another_currency_is_refused() {
        let usd = common::v1::Money {
            minor_units: 100,
            currency_code: "USD".into(),
        };
        assert_eq!(
            money_from_proto(Some(&usd), Currency::MXN),
            Err("must be in MXN".into())
        );
        assert_eq!(
            money_from_proto(None, Currency::MXN),
            Err("is required".into())
        );
        let mxn = common::v1::Money {
            minor_units: 12_550,
            currency_code: "MXN".into(),
        };
        assert_eq!(
            money_from_proto(Some(&mxn), Currency::MXN),
            Ok(Money::from_minor(12_550, Currency::MXN))
        );
    }

    #[test]
    fn impossible_dates_are_refused() {
        let february_30 = common::v1::Date {
            year: 2026,
            month: 2,
            day: 30,
        };
        assert!(date_from_proto(Some(&february_30)).is_err());
        let date = NaiveDate::from_ymd_opt(1990, 5, 17).expect("valid");
        assert_eq!(date_from_proto(Some(&date_to_proto(date))), Ok(date));
    }

    #[test]
    fn page_tokens_round_trip_and_sizes_are_capped() {
        let page = common::v1::PageRequest {
            page_size: 5000,
            page_token: next_page_token(0, 50, 50),
        };
        assert_eq!(page_from_proto(Some(&page), 50, 200), Ok((200, 50)));
        assert_eq!(next_page_token(50, 50, 10), "");
        let forged = common::v1::PageRequest {
            page_size: 10,
            page_token: "abc".into(),
        };
        assert!(page_from_proto(Some(&forged), 50, 200).is_err());
    }
}
