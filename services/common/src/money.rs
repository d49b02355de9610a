//! Money: an amount in one currency, exact, never a float.
//!
//! On the wire and on disk money is an integer count of the currency's minor units (centavos for
//! MXN). In code it is a [`Money`]: a `rust_decimal::Decimal` held at the currency's minor-unit
//! scale, so rate arithmetic (tax, discounts, interest) can use decimals and come back to minor
//! units through one rounding rule, [`Money::round_from`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

/// An ISO 4217 currency the clinic can bill in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    minor_unit_digits: u32,
}

/// Currencies with their number of minor-unit digits (ISO 4217). Clinics bill in one currency;
/// this list is the set a deployment may be configured with.
const CURRENCIES: &[(&str, u32)] = &[
    ("MXN", 2),
    ("USD", 2),
    ("EUR", 2),
    ("CAD", 2),
    ("GBP", 2),
    ("COP", 2),
    ("PEN", 2),
    ("ARS", 2),
    ("CNY", 2),
    ("RUB", 2),
    ("CLP", 0),
    ("JPY", 0),
];

impl Currency {
    /// Mexican peso, the default.
    pub const MXN: Currency = Currency {
        code: *b"MXN",
        minor_unit_digits: 2,
    };

    /// The three-letter code, e.g. `"MXN"`.
    pub fn code(&self) -> &str {
        // The bytes always come from `CURRENCIES`, which is ASCII.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// How many digits the minor unit has (2 for MXN, 0 for JPY).
    pub fn minor_unit_digits(&self) -> u32 {
        self.minor_unit_digits
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(known, digits)| {
                let bytes = known.as_bytes();
                Currency {
                    code: [bytes[0], bytes[1], bytes[2]],
                    minor_unit_digits: *digits,
                }
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a money value or operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {}", crate::validation::echo(.0))]
    UnknownCurrency(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

/// An exact amount of money in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// Always at `currency.minor_unit_digits()` scale.
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Money::from_minor(0, currency)
    }

    /// `minor_units` of `currency`: `Money::from_minor(12_550, MXN)` is $125.50.
    pub fn from_minor(minor_units: i64, currency: Currency) -> Self {
        Money {
            amount: Decimal::new(minor_units, currency.minor_unit_digits),
            currency,
        }
    }

    /// Rounds a decimal amount (the result of rate arithmetic) to the currency's minor unit.
    ///
    /// This is the one place money is rounded. Half a minor unit rounds away from zero
    /// (`0.005` → `0.01`, `-0.005` → `-0.01`), the rule SAT applies to CFDI amounts and the one
    /// patients expect on a receipt. Amounts beyond ±i64 minor units are refused.
    pub fn round_from(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let mut rounded = amount.round_dp_with_strategy(
            currency.minor_unit_digits,
            RoundingStrategy::MidpointAwayFromZero,
        );
        // `round_dp` never raises the scale; a whole amount like `5` must become `5.00`.
        rounded.rescale(currency.minor_unit_digits);
        i64::try_from(rounded.mantissa()).map_err(|_| MoneyError::Overflow)?;
        Ok(Money {
            amount: rounded,
            currency,
        })
    }

    /// The amount in minor units, for the wire and the database.
    pub fn minor_units(&self) -> i64 {
        // The scale is the currency's by construction, so the mantissa is the minor-unit count,
        // and every constructor checks that it fits an i64.
        self.amount.mantissa() as i64
    }

    /// The decimal amount, e.g. `125.50`.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.amount.is_sign_positive() && !self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// `self + other`, refusing mixed currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(Money::from_minor(
            self.minor_units()
                .checked_add(other.minor_units())
                .ok_or(MoneyError::Overflow)?,
            self.currency,
        ))
    }

    /// `self - other`, refusing mixed currencies and overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(Money::from_minor(
            self.minor_units()
                .checked_sub(other.minor_units())
                .ok_or(MoneyError::Overflow)?,
            self.currency,
        ))
    }

    /// `self × quantity`, refusing overflow.
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        Ok(Money::from_minor(
            self.minor_units()
                .checked_mul(quantity)
                .ok_or(MoneyError::Overflow)?,
            self.currency,
        ))
    }

    /// The same amount with the opposite sign.
    pub fn negated(self) -> Money {
        Money::from_minor(-self.minor_units(), self.currency)
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

impl fmt::Display for Money {
    /// `125.50 MXN`: unambiguous for logs and error messages. Localised display (`$125.50`) is
    /// the client's job.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mxn(minor: i64) -> Money {
        Money::from_minor(minor, Currency::MXN)
    }

    #[test]
    fn minor_units_round_trip_through_decimal() {
        let money = mxn(12_550);
        assert_eq!(money.amount(), Decimal::new(12_550, 2));
        assert_eq!(money.minor_units(), 12_550);
        assert_eq!(money.to_string(), "125.50 MXN");
    }

    #[test]
    fn rounding_takes_half_a_centavo_away_from_zero() {
        let round = |amount| Money::round_from(amount, Currency::MXN);
        assert_eq!(round(Decimal::new(1_005, 3)), Ok(mxn(101)));
        assert_eq!(round(Decimal::new(-1_005, 3)), Ok(mxn(-101)));
        assert_eq!(round(Decimal::new(1_004, 3)), Ok(mxn(100)));
        // 16 % VAT on $99.99 is $15.9984, which rounds to $16.00.
        assert_eq!(
            round(Decimal::new(9_999, 2) * Decimal::new(16, 2)),
            Ok(mxn(1_600))
        );
        // A whole amount gains its centavos, so it equals the same amount built from minor units.
        assert_eq!(
            round(Decimal::new(5, 0)).map(|money| money.minor_units()),
            Ok(500)
        );
    }

    #[test]
    fn rounding_refuses_amounts_beyond_the_minor_unit_range() {
        assert_eq!(
            Money::round_from(Decimal::MAX, Currency::MXN),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn zero_digit_currencies_have_no_minor_unit() {
        let yen: Currency = "JPY".parse().expect("JPY is known");
        let money = Money::round_from(Decimal::new(1_505, 1), yen).expect("in range");
        assert_eq!(money.minor_units(), 151);
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let usd: Currency = "USD".parse().expect("USD is known");
        assert_eq!(
            mxn(100).checked_add(Money::from_minor(100, usd)),
            Err(MoneyError::CurrencyMismatch(Currency::MXN, usd))
        );
        assert_eq!(mxn(i64::MAX).checked_add(mxn(1)), Err(MoneyError::Overflow));
        assert_eq!(mxn(250).checked_sub(mxn(300)), Ok(mxn(-50)));
        assert_eq!(mxn(250).checked_mul(3), Ok(mxn(750)));
    }

    #[test]
    fn unknown_currency_codes_are_refused() {
        assert_eq!(
            "XYZ".parse::<Currency>(),
            Err(MoneyError::UnknownCurrency("XYZ".into()))
        );
    }
}
