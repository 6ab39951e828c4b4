//! Input validation shared by the write services: each failure names the offending field.

use crate::{Error, Result};

/// A required text, trimmed, between 1 and `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::bad_input(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(Error::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Error::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// An optional text: empty means none.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// Top-level domain reserved as never resolvable (RFC 2606); the gateway's own erasure
/// tombstones live there, so no input may claim an address under it.
const RESERVED_TLD: &str = ".invalid";

/// A plausible, deliverable-looking e-mail address, lower-cased.
pub fn email(field: &str, value: &str) -> Result<String> {
    let value = text(field, value, 254)?.to_lowercase();
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.ends_with(RESERVED_TLD)
            && !value.chars().any(char::is_whitespace)
            && value.matches('@').count() == 1
    });
    if valid {
        Ok(value)
    } else {
        Err(Error::bad_input(field, "is not a valid e-mail address"))
    }
}

/// An integer within an inclusive range.
pub fn within(field: &str, value: i32, min: i32, max: i32) -> Result<i32> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(Error::bad_input(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

/// The calendar years every date and instant input must fall in. The scalars accept
/// anything chrono can represent (±262,000 years), where a week or a month more overflows;
/// bounding inputs here keeps every later step of calendar arithmetic in range.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A day within [`YEARS`].
pub fn date(field: &str, value: chrono::NaiveDate) -> Result<chrono::NaiveDate> {
    use chrono::Datelike;
    if YEARS.contains(&value.year()) {
        Ok(value)
    } else {
        Err(Error::bad_input(
            field,
            "must be a date in the years 1 to 9999",
        ))
    }
}

/// An instant within [`YEARS`] (UTC).
pub fn instant(
    field: &str,
    value: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>> {
    date(field, value.date_naive()).map(|_| value)
}

/// A money amount in currency units, as cents.
pub fn money(field: &str, value: f64) -> Result<i64> {
    if !value.is_finite() || !(0.0..=1e12).contains(&value) {
        return Err(Error::bad_input(field, "must be a non-negative amount"));
    }
    Ok((value * 100.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_normalised() {
        assert_eq!(
            email("email", " Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "erased-7@erased.invalid",
            "x@Example.INVALID",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(text("s", "  hi ", 5).unwrap(), "hi");
        assert!(text("s", "   ", 5).is_err());
        assert!(text("s", "toolong", 5).is_err());
        assert!(text("s", "a\u{0}b", 5).is_err());
        assert_eq!(optional_text("s", Some(" "), 5).unwrap(), None);
    }
}
