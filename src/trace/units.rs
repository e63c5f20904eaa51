//! Time units and timestamp forms of the canonical CSV: plain decimals in seconds, milliseconds or
//! microseconds (the hot path), ISO-8601 / RFC 3339 date-times, the magnitude classes of Unix epoch
//! times, and the shape rules that catch a column read in the wrong unit.

use crate::time::{self, Micros};

/// The unit of a numeric time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    S,
    Ms,
    Us,
}

impl TimeUnit {
    /// The suffix in column names and the value of `--time-unit`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::S => "s",
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            TimeUnit::S => "seconds",
            TimeUnit::Ms => "milliseconds",
            TimeUnit::Us => "microseconds",
        }
    }

    /// Microseconds in one unit.
    pub fn micros(self) -> i64 {
        match self {
            TimeUnit::S => 1_000_000,
            TimeUnit::Ms => 1_000,
            TimeUnit::Us => 1,
        }
    }

    /// The next larger unit: what a value probably is when reading it in `self` makes it
    /// 1,000 times too small.
    pub(crate) fn larger(self) -> Option<TimeUnit> {
        match self {
            TimeUnit::S => None,
            TimeUnit::Ms => Some(TimeUnit::S),
            TimeUnit::Us => Some(TimeUnit::Ms),
        }
    }
}

/// A plain decimal (`[+-]digits[.digits]`, already trimmed) in `unit`, as the sign and the
/// magnitude in whole microseconds, rounded half away from zero like `f64::round`. `None` for
/// anything else (exponents, `inf`, errors, too many digits), which then takes the `f64` path.
/// This is the hot path: no UTF-8 check (it accepts ASCII only), exact, and faster than
/// `str::parse::<f64>`.
#[inline]
pub(crate) fn plain_to_us(b: &[u8], unit: TimeUnit) -> Option<(bool, i64)> {
    match unit {
        TimeUnit::Ms => plain::<3>(b),
        TimeUnit::S => plain::<6>(b),
        TimeUnit::Us => plain::<0>(b),
    }
}

/// [`plain_to_us`] for a unit of 10^`FRAC` microseconds.
#[inline(always)]
fn plain<const FRAC: usize>(mut b: &[u8]) -> Option<(bool, i64)> {
    // 10^18 < i64::MAX: at most 18 - FRAC integer digits cannot overflow; longer values are far
    // beyond the 2^53 µs range anyway, and the `f64` path says so.
    let max_int_digits = 18 - FRAC;
    let unit = 10i64.pow(FRAC as u32);
    let negative = match b.first()? {
        b'-' => true,
        b'+' => false,
        _ => false,
    };
    if matches!(b[0], b'-' | b'+') {
        b = &b[1..];
    }
    let mut i = 0;
    let mut whole: i64 = 0;
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i == max_int_digits {
            return None;
        }
        whole = whole * 10 + i64::from(d);
        i += 1;
    }
    let int_digits = i;
    let mut us = whole * unit;
    if let Some(&c) = b.get(i) {
        if c != b'.' {
            return None;
        }
        let frac = &b[i + 1..];
        if int_digits == 0 && frac.is_empty() {
            return None;
        }
        let mut scale = unit / 10;
        for (k, &c) in frac.iter().enumerate() {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            if k < FRAC {
                us += i64::from(d) * scale;
                scale /= 10;
            } else if k == FRAC {
                us += i64::from(d >= 5);
            }
        }
    } else if int_digits == 0 {
        return None;
    }
    Some((negative, us))
}

/// `v` units in microseconds, rounded; saturating, so huge values stay out of range.
pub(crate) fn float_to_us(v: f64, unit: TimeUnit) -> i64 {
    (v * unit.micros() as f64).round() as i64
}

/// Unix epoch times between these, microseconds (2001-09-09 to 2286-11-20): what a unit-less
/// numeric timestamp is read as when its magnitude says epoch seconds (1e9..1e10), milliseconds
/// (1e12..1e13) or microseconds (1e15..1e16; 2^53 µs, in 2255, is the clock's limit anyway).
pub(crate) const EPOCH_US: std::ops::Range<i64> = 1_000_000_000_000_000..10_000_000_000_000_000;

/// The unit that makes `v` a Unix epoch time in [`EPOCH_US`], if any.
pub(crate) fn epoch_unit(v: f64) -> Option<TimeUnit> {
    [TimeUnit::S, TimeUnit::Ms, TimeUnit::Us]
        .into_iter()
        .find(|&u| EPOCH_US.contains(&float_to_us(v, u)))
}

/// Whether a value looks like a date (`dddd-`), so that a unit-less timestamp column is read as
/// ISO-8601 rather than as numbers.
pub(crate) fn looks_like_date(b: &[u8]) -> bool {
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// Why a date-time was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateTimeError {
    Syntax,
    Date,
    Time,
    Offset,
}

impl DateTimeError {
    pub(crate) fn text(self) -> &'static str {
        match self {
            DateTimeError::Syntax => {
                "not an ISO-8601 date-time: expected YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm], \
                 e.g. 2024-05-01T12:00:00.123Z"
            }
            DateTimeError::Date => "not a calendar date (month 01-12, day within the month)",
            DateTimeError::Time => "not a time of day (hour 00-23, minute and second 00-59)",
            DateTimeError::Offset => "bad UTC offset: expected Z, +hh:mm or -hh:mm (at most 23:59)",
        }
    }
}

/// An ISO-8601 / RFC 3339 date-time as microseconds since the Unix epoch:
/// `YYYY-MM-DD`, then `T`, `t` or a space, `hh:mm:ss`, an optional fraction of a second (any number
/// of digits, rounded to the microsecond), and an optional offset `Z`, `z`, `+hh:mm`, `-hh:mm` or
/// `+hhmm`. No offset means UTC. Leap seconds (`:60`) are refused.
pub(crate) fn parse_datetime(s: &[u8]) -> Result<i64, DateTimeError> {
    use DateTimeError::*;
    let num = |r: std::ops::Range<usize>| -> Result<i64, DateTimeError> {
        let digits = s.get(r).ok_or(Syntax)?;
        digits.iter().try_fold(0i64, |acc, &c| {
            if c.is_ascii_digit() {
                Ok(acc * 10 + i64::from(c - b'0'))
            } else {
                Err(Syntax)
            }
        })
    };
    let at = |i: usize, want: &[u8]| s.get(i).is_some_and(|c| want.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return Err(Syntax);
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(Date);
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(Time);
    }
    let mut i = 19;
    let mut frac_us = 0;
    if at(i, b".,") {
        i += 1;
        let start = i;
        let mut scale = 100_000;
        while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            let d = i64::from(c - b'0');
            match i - start {
                0..=5 => {
                    frac_us += d * scale;
                    scale /= 10;
                }
                6 => frac_us += i64::from(d >= 5),
                _ => {}
            }
            i += 1;
        }
        if i == start {
            return Err(Syntax);
        }
    }
    let offset_s = match s.get(i..) {
        None | Some([]) | Some([b'Z' | b'z']) => 0,
        Some([sign @ (b'+' | b'-'), rest @ ..]) => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (
                    num_pair(*h1, *h2).ok_or(Offset)?,
                    num_pair(*m1, *m2).ok_or(Offset)?,
                ),
                _ => return Err(Offset),
            };
            if h > 23 || m > 59 {
                return Err(Offset);
            }
            let off = h * 3600 + m * 60;
            if *sign == b'-' { -off } else { off }
        }
        Some(_) => return Err(Syntax),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Ok(secs * 1_000_000 + frac_us)
}

fn num_pair(a: u8, b: u8) -> Option<i64> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-of-400-years arithmetic).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Microseconds since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC` (for messages).
pub(crate) fn format_epoch_us(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// More rows than this within [`COMPRESSED_SPAN_US`] of trace time means the timestamps were
/// probably read in a unit 1,000 times too small (seconds read as milliseconds).
pub const COMPRESSED_ROWS: u64 = 1_000;
/// See [`COMPRESSED_ROWS`], microseconds.
pub const COMPRESSED_SPAN_US: i64 = 2 * time::SECOND as i64;
/// With at least this many rows, every duration under [`SHORT_DURATION_US`] (and one above zero)
/// means the durations were probably read in a unit 1,000 times too small.
pub const SHORT_DURATION_ROWS: u64 = 100;
/// See [`SHORT_DURATION_ROWS`], microseconds (1 ms).
pub const SHORT_DURATION_US: Micros = 1_000;
/// Timestamps spanning this long (10 years), microseconds, mix units (epoch seconds and epoch
/// milliseconds, or relative and epoch times).
pub const DECADES_SPAN_US: i64 = 3_652 * 86_400 * 1_000_000;

/// What the reader saw of the accepted rows, for the unit-mistake rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub rows: u64,
    pub min_arrival: i64,
    pub max_arrival: i64,
    pub max_duration: Micros,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            rows: 0,
            min_arrival: i64::MAX,
            max_arrival: i64::MIN,
            max_duration: 0,
        }
    }
}

impl Shape {
    #[inline]
    pub(crate) fn add(&mut self, arrival_us: i64, duration: Micros) {
        self.rows += 1;
        self.min_arrival = self.min_arrival.min(arrival_us);
        self.max_arrival = self.max_arrival.max(arrival_us);
        self.max_duration = self.max_duration.max(duration);
    }

    /// max - min arrival, microseconds (0 with no rows).
    pub(crate) fn span(&self) -> i64 {
        if self.rows == 0 {
            0
        } else {
            self.max_arrival.saturating_sub(self.min_arrival)
        }
    }

    /// The rows all arrive within [`COMPRESSED_SPAN_US`] and there are more than
    /// [`COMPRESSED_ROWS`].
    pub(crate) fn compressed(&self) -> bool {
        self.rows > COMPRESSED_ROWS && self.span() < COMPRESSED_SPAN_US
    }

    /// Every duration is under [`SHORT_DURATION_US`], not all are zero, and there are at least
    /// [`SHORT_DURATION_ROWS`] rows.
    pub(crate) fn short_durations(&self) -> bool {
        self.rows >= SHORT_DURATION_ROWS
            && self.max_duration > 0
            && self.max_duration < SHORT_DURATION_US
    }

    pub(crate) fn decades(&self) -> bool {
        self.span() >= DECADES_SPAN_US
    }
}

/// Microseconds as seconds with three decimals, for messages.
pub(crate) fn secs(us: i64) -> String {
    format!("{:.3} s", us as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_in_each_unit() {
        type Case = (&'static str, TimeUnit, Option<(bool, i64)>);
        let cases: [Case; 12] = [
            ("1.5", TimeUnit::S, Some((false, 1_500_000))),
            ("0.0000005", TimeUnit::S, Some((false, 1))),
            ("0.0000004", TimeUnit::S, Some((false, 0))),
            (
                "1714560000.123456",
                TimeUnit::S,
                Some((false, 1_714_560_000_123_456)),
            ),
            ("-2", TimeUnit::S, Some((true, 2_000_000))),
            ("97.1", TimeUnit::Ms, Some((false, 97_100))),
            ("0.0005", TimeUnit::Ms, Some((false, 1))),
            ("12", TimeUnit::Us, Some((false, 12))),
            ("12.5", TimeUnit::Us, Some((false, 13))),
            (".5", TimeUnit::Us, Some((false, 1))),
            ("1e3", TimeUnit::S, None),
            ("1234567890123", TimeUnit::S, None), // 13 integer digits: the f64 path
        ];
        for (s, unit, want) in cases {
            assert_eq!(plain_to_us(s.as_bytes(), unit), want, "{s} {unit:?}");
        }
        // Agrees with the f64 path on ordinary values.
        for s in ["0.093761", "1799.899372", "3.25", "0.0015"] {
            let v: f64 = s.parse().unwrap_or(f64::NAN);
            let want = float_to_us(v, TimeUnit::S);
            assert_eq!(
                plain_to_us(s.as_bytes(), TimeUnit::S),
                Some((false, want)),
                "{s}"
            );
        }
    }

    #[test]
    fn epoch_magnitudes() {
        assert_eq!(epoch_unit(1_714_560_000.0), Some(TimeUnit::S));
        assert_eq!(epoch_unit(1_714_560_000_123.0), Some(TimeUnit::Ms));
        assert_eq!(epoch_unit(1_714_560_000_123_456.0), Some(TimeUnit::Us));
        for v in [0.0, 93.761, 3_600_000.0, 5e10, 5e13, 2e16, -1.7e9] {
            assert_eq!(epoch_unit(v), None, "{v}");
        }
    }

    #[test]
    fn datetimes() {
        let ok = |s: &str| parse_datetime(s.as_bytes());
        let base = 1_714_564_800_000_000; // 2024-05-01T12:00:00Z
        assert_eq!(ok("2024-05-01T12:00:00Z"), Ok(base));
        assert_eq!(ok("2024-05-01T12:00:00.123Z"), Ok(base + 123_000));
        assert_eq!(ok("2024-05-01t12:00:00.1234565z"), Ok(base + 123_457));
        assert_eq!(ok("2024-05-01 12:00:00"), Ok(base));
        assert_eq!(ok("2024-05-01T12:00:00+02:00"), Ok(base - 7_200_000_000));
        assert_eq!(ok("2024-05-01T12:00:00-0130"), Ok(base + 5_400_000_000));
        assert_eq!(ok("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(ok("1969-12-31T23:59:59.5Z"), Ok(-500_000));
        assert_eq!(ok("2000-02-29T00:00:00Z"), Ok(951_782_400_000_000));
        use DateTimeError::*;
        for (s, e) in [
            ("2024-05-01", Syntax),
            ("2024-05-01T12:00", Syntax),
            ("2024-05-01T12:00:00.", Syntax),
            ("2024-05-01T12:00:00 UTC", Syntax),
            ("2024/05/01 12:00:00", Syntax),
            ("2024-13-01T00:00:00Z", Date),
            ("2023-02-29T00:00:00Z", Date),
            ("1900-02-29T00:00:00Z", Date),
            ("2024-04-31T00:00:00Z", Date),
            ("2024-05-01T24:00:00Z", Time),
            ("2024-05-01T23:59:60Z", Time),
            ("2024-05-01T12:00:00+24:00", Offset),
            ("2024-05-01T12:00:00+2", Offset),
        ] {
            assert_eq!(ok(s), Err(e), "{s}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 10_957, 19_844, 60_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            format_epoch_us(1_714_564_800_000_000),
            "2024-05-01 12:00:00 UTC"
        );
        assert_eq!(format_epoch_us(-1), "1969-12-31 23:59:59 UTC");
    }
}
