//! How often a schedule is meant to produce a backup, from its own definition: the 5-field cron
//! (with the descriptors and `CRON_TZ=` prefix robfig/cron accepts, as Velero does) or ACK's
//! interval form (`6h30m`, also `@every 6h`).
//!
//! The expected interval is the LONGEST gap between two consecutive firings, so an RPO alert
//! sized from it never fires on a schedule that is merely between two runs (a weekday-only cron
//! has a 3-day gap over the weekend; `0 0 31 * *` skips short months).

use std::fmt;

/// Why a schedule string could not be understood; shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadenceError(String);

impl fmt::Display for CadenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CadenceError {}

fn err(msg: impl Into<String>) -> CadenceError {
    CadenceError(msg.into())
}

/// Which schedule syntax the engine's controller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Velero's `cron.ParseStandard` (robfig/cron v3): exactly 5 fields, a descriptor
    /// (`@daily`, `@every 6h`), optionally behind `CRON_TZ=`/`TZ=`.
    Standard,
    /// ACK's BackupSchedule: the standard forms, or a bare interval such as `6h30m`.
    StandardOrInterval,
}

/// The expected seconds between two runs of a schedule; an error says why the engine would
/// reject it (such a schedule never runs).
pub fn expected_interval_seconds(schedule: &str, syntax: Syntax) -> Result<f64, CadenceError> {
    let s = schedule.trim();
    if s.len() > 256 {
        return Err(err("schedule is longer than 256 characters"));
    }
    // A time zone moves every firing by the same offset; gaps stay the same.
    let s = match s.strip_prefix("CRON_TZ=").or_else(|| s.strip_prefix("TZ=")) {
        Some(rest) => rest.split_once(' ').map(|(_, c)| c.trim()).unwrap_or(""),
        None => s,
    };
    if let Some(every) = s.strip_prefix("@every") {
        return go_duration_seconds(every.trim());
    }
    let expr = match s {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    };
    if expr.split_whitespace().count() == 1 && syntax == Syntax::StandardOrInterval {
        return go_duration_seconds(expr);
    }
    Cron::parse(expr)?.longest_gap_seconds()
}

/// Go's `time.ParseDuration` subset that schedules use: `6h30m`, `90m`, `1.5h`, `45s`.
pub fn go_duration_seconds(s: &str) -> Result<f64, CadenceError> {
    if s.is_empty() {
        return Err(err("empty interval"));
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| err(format!("interval {s:?} has a number without a unit")))?;
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| err(format!("interval {s:?} is not a duration like 6h30m")))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            unit => return Err(err(format!("interval {s:?} has an unknown unit {unit:?}"))),
        };
        total += number * factor;
        rest = &rest[unit_len..];
    }
    if total > 0.0 {
        Ok(total)
    } else {
        Err(err(format!("interval {s:?} is not positive")))
    }
}

struct Cron {
    minutes: Vec<u32>, // sorted minute-of-day values the expression fires at
    dom: u64,          // bit per day of month 1..=31
    month: u64,        // bit per month 1..=12
    dow: u64,          // bit per weekday 0..=6, Sunday = 0
    dom_star: bool,
    dow_star: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    fn parse(expr: &str) -> Result<Self, CadenceError> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        // Velero parses with ParseStandard, which has no seconds field: a 6-field cron fails
        // validation there with this very wording.
        if fields.len() != 5 {
            return Err(err(format!(
                "Expected exactly 5 fields, found {}: {expr}",
                fields.len()
            )));
        }
        let minute = field(fields[0], 0, 59, &[])?;
        let hour = field(fields[1], 0, 23, &[])?;
        let dom = field(fields[2], 1, 31, &[])?;
        let month = field(fields[3], 1, 12, &MONTHS)?;
        let mut dow = field(fields[4], 0, 7, &DAYS)?;
        if dow & (1 << 7) != 0 {
            dow = (dow | 1) & !(1 << 7);
        }
        let mut minutes = Vec::new();
        for h in 0..24 {
            for m in 0..60 {
                if hour & (1 << h) != 0 && minute & (1 << m) != 0 {
                    minutes.push(h * 60 + m);
                }
            }
        }
        Ok(Cron {
            minutes,
            dom,
            month,
            dow,
            dom_star: fields[2] == "*" || fields[2] == "?",
            dow_star: fields[4] == "*" || fields[4] == "?",
        })
    }

    fn fires_on(&self, date: jiff::civil::Date) -> bool {
        if self.month & (1 << date.month()) == 0 {
            return false;
        }
        let dom_ok = self.dom & (1 << date.day()) != 0;
        let dow_ok = self.dow & (1 << date.weekday().to_sunday_zero_offset()) != 0;
        // Vixie/robfig rule: when both day fields are restricted, either one may match.
        match (self.dom_star, self.dow_star) {
            (false, false) => dom_ok || dow_ok,
            _ => dom_ok && dow_ok,
        }
    }

    /// Walks four calendar years (leap year and every weekday/month alignment included).
    fn longest_gap_seconds(&self) -> Result<f64, CadenceError> {
        let (Some(first), Some(last)) = (self.minutes.first(), self.minutes.last()) else {
            return Err(err("cron never fires"));
        };
        let mut longest = self
            .minutes
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0) as i64;
        let start = jiff::civil::date(2024, 1, 1);
        let mut previous: Option<i64> = None;
        let mut firing_days = 0;
        for offset in 0..(4 * 366) {
            let Ok(day) = start.checked_add(jiff::Span::new().days(offset)) else {
                break;
            };
            if !self.fires_on(day) {
                continue;
            }
            firing_days += 1;
            if let Some(p) = previous {
                longest = longest.max((offset - p) * 1440 + *first as i64 - *last as i64);
            }
            previous = Some(offset);
        }
        match firing_days {
            0 => Err(err("cron never fires on a real date")),
            1 => Ok(4.0 * 365.25 * 86400.0),
            _ => {
                // Gap across the day boundary for schedules that fire every day.
                longest = longest.max(1440 + *first as i64 - *last as i64);
                Ok(longest as f64 * 60.0)
            }
        }
    }
}

/// One cron field as a bit set: `*`, `?`, `a`, `a-b`, `*/n`, `a-b/n`, `a/n`, lists, names.
fn field(spec: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, CadenceError> {
    let value = |s: &str| -> Result<u32, CadenceError> {
        let upper = s.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            // Month names count from 1 (JAN), day names from 0 (SUN).
            return Ok(i as u32 + u32::from(names.len() == MONTHS.len()));
        }
        s.parse::<u32>()
            .map_err(|_| err(format!("cron field {spec:?}: {s:?} is not a number")))
    };
    let mut bits = 0u64;
    for part in spec.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| err(format!("cron field {spec:?}: bad step {s:?}")))?;
                if step == 0 {
                    return Err(err(format!("cron field {spec:?}: step 0")));
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(err(format!(
                "cron field {spec:?}: {lo}-{hi} is outside {min}-{max}"
            )));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(s: &str) -> f64 {
        expected_interval_seconds(s, Syntax::StandardOrInterval).unwrap() / 3600.0
    }

    #[test]
    fn velero_takes_exactly_five_fields_and_no_bare_interval() {
        let six = expected_interval_seconds("0 0 2 * * *", Syntax::Standard).unwrap_err();
        assert_eq!(
            six.to_string(),
            "Expected exactly 5 fields, found 6: 0 0 2 * * *"
        );
        assert!(expected_interval_seconds("6h", Syntax::Standard).is_err());
        assert!(expected_interval_seconds("6h", Syntax::StandardOrInterval).is_ok());
        assert!(expected_interval_seconds("@every 6h", Syntax::Standard).is_ok());
        assert!(expected_interval_seconds("@daily", Syntax::Standard).is_ok());
    }

    #[test]
    fn daily_hourly_and_interval_forms() {
        assert_eq!(hours("1 4 * * *"), 24.0);
        assert_eq!(hours("@daily"), 24.0);
        assert_eq!(hours("0 */6 * * *"), 6.0);
        assert_eq!(hours("6h30m"), 6.5);
        assert_eq!(hours("@every 6h"), 6.0);
        assert_eq!(hours("@hourly"), 1.0);
        assert_eq!(hours("CRON_TZ=Asia/Shanghai 0 2 * * *"), 24.0);
    }

    #[test]
    fn longest_gap_not_the_next_one() {
        // Weekdays only: Friday 02:00 to Monday 02:00.
        assert_eq!(hours("0 2 * * 1-5"), 72.0);
        assert_eq!(hours("0 3 * * SUN"), 168.0);
        assert_eq!(hours("0 3 * * 7"), 168.0);
        // Twice a day, unevenly.
        assert_eq!(hours("0 1,5 * * *"), 20.0);
        // The 31st skips short months: 31 Mar -> 31 May is 61 days.
        assert_eq!(hours("0 0 31 * *"), 61.0 * 24.0);
        assert_eq!(hours("@monthly"), 31.0 * 24.0);
        assert_eq!(hours("0 0 1 JAN,JUL *"), 184.0 * 24.0);
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for bad in [
            "",
            "* * *",
            "61 * * * *",
            "0 0 30 2 *",
            "*/0 * * * *",
            "6x",
            "5 4 * * MOO",
            "0h",
            "1 2 3 4 5 6 7",
            "0 0 2 * * *",
        ] {
            assert!(
                expected_interval_seconds(bad, Syntax::StandardOrInterval).is_err(),
                "{bad:?}"
            );
        }
        assert!(expected_interval_seconds(&"1".repeat(10_000), Syntax::Standard).is_err());
    }
}
