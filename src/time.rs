//! Simulation time: integer microseconds. Never an `f64` in a clock or a heap key.

/// A point in time or a span, in microseconds.
pub type Micros = u64;

pub const MILLISECOND: Micros = 1_000;
pub const SECOND: Micros = 1_000_000;
pub const MINUTE: Micros = 60 * SECOND;
pub const HOUR: Micros = 60 * MINUTE;
/// Hours in the billing month used everywhere in faasplan (730 h = 8,760 h / 12).
pub const MONTH_HOURS: u64 = 730;
/// The billing month, microseconds.
pub const MONTH: Micros = MONTH_HOURS * HOUR;

/// Converts milliseconds (possibly fractional) to microseconds, rounding to the nearest.
/// The caller has checked that `ms` is finite and non-negative.
pub fn ms_to_us(ms: f64) -> Micros {
    (ms * 1_000.0).round() as Micros
}

pub fn us_to_ms(us: Micros) -> f64 {
    us as f64 / 1_000.0
}

pub fn us_to_s(us: Micros) -> f64 {
    us as f64 / 1_000_000.0
}

/// Rounds `t` up to the next whole minute.
pub fn ceil_minute(t: Micros) -> Micros {
    t.div_ceil(MINUTE) * MINUTE
}

/// Parses a duration such as `90`, `90s`, `15m`, `2h`, `1d`, `250ms` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Option<Micros> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let v: f64 = num.trim().parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let scale = match unit.trim() {
        "us" => 1.0,
        "ms" => 1e3,
        "s" | "sec" => 1e6,
        "m" | "min" => 60e6,
        "h" => 3600e6,
        "d" => 86400e6,
        _ => return None,
    };
    let us = v * scale;
    if us > 1e18 {
        return None;
    }
    Some(us.round() as Micros)
}

/// Formats a span for people: `90 s`, `15 min`, `2 h`, `1.5 d`, `250 ms`.
pub fn format_duration(us: Micros) -> String {
    let trim = |x: f64| {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if us >= 86_400 * SECOND && us.is_multiple_of(3_600 * SECOND) {
        format!("{} d", trim(us as f64 / (86_400 * SECOND) as f64))
    } else if us >= HOUR && us.is_multiple_of(MINUTE) {
        format!("{} h", trim(us as f64 / HOUR as f64))
    } else if us >= MINUTE && us.is_multiple_of(SECOND) {
        format!("{} min", trim(us as f64 / MINUTE as f64))
    } else if us >= SECOND {
        format!("{} s", trim(us as f64 / SECOND as f64))
    } else {
        format!("{} ms", trim(us as f64 / MILLISECOND as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_format_for_people() {
        assert_eq!(format_duration(90 * SECOND), "1.5 min");
        assert_eq!(format_duration(15 * MINUTE), "15 min");
        assert_eq!(format_duration(2 * HOUR), "2 h");
        assert_eq!(format_duration(36 * HOUR), "1.5 d");
        assert_eq!(format_duration(250 * MILLISECOND), "250 ms");
        assert_eq!(format_duration(1_500 * MILLISECOND), "1.5 s");
    }
}
