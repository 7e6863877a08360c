//! Durations given on the command line (`30s`, `1m30s`, Go's syntax), checked against the
//! range that makes sense for the option: a value out of range is an error that names the
//! range, never a panic or a busy loop (`0.1ns`) or an overflow (`99999999999999999999h`).

use std::time::Duration;

/// Parses `s` and checks `min <= value <= max`.
pub fn parse_within(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let seconds = crate::model::cadence::go_duration_seconds(s).map_err(|e| e.to_string())?;
    let out_of_range = || {
        format!(
            "{s:?} is out of range: give a duration from {} to {}",
            show(min),
            show(max)
        )
    };
    let value = Duration::try_from_secs_f64(seconds).map_err(|_| out_of_range())?;
    if value < min || value > max {
        return Err(out_of_range());
    }
    Ok(value)
}

/// `1s`, `24h`, `500ms`: a duration as a user types it.
pub fn show(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 {
        format!("{}ms", d.as_millis())
    } else if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn values_in_range_parse() {
        assert_eq!(parse_within("30s", MIN, MAX), Ok(Duration::from_secs(30)));
        assert_eq!(parse_within("1m30s", MIN, MAX), Ok(Duration::from_secs(90)));
        assert_eq!(parse_within("24h", MIN, MAX), Ok(MAX));
    }

    #[test]
    fn out_of_range_is_an_error_naming_the_range() {
        let range = "give a duration from 1s to 24h";
        for s in ["0.1ns", "999ms", "24h1s", "99999999999999999999h"] {
            let e = parse_within(s, MIN, MAX).expect_err(s);
            assert!(
                e.contains(range) || e.contains("not a duration"),
                "{s}: {e}"
            );
        }
        let e = parse_within("99999999999999999999h", MIN, MAX).unwrap_err();
        assert_eq!(
            e,
            "\"99999999999999999999h\" is out of range: give a duration from 1s to 24h"
        );
        assert!(
            parse_within("0s", MIN, MAX)
                .unwrap_err()
                .contains("not positive")
        );
        assert_eq!(
            parse_within("500ms", Duration::from_millis(100), MIN),
            Ok(Duration::from_millis(500))
        );
        assert!(
            parse_within("1ms", Duration::from_millis(100), MIN)
                .unwrap_err()
                .contains("from 100ms to 1s")
        );
    }
}
