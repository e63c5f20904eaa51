//! Number formatting shared by the tables and the chart axes: thousands separators, a fixed
//! number of significant digits, money and percentages.

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with `decimals` decimals and thousands separators: `12345.678` → `12,345.68`.
pub fn fixed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let int = int
        .parse::<u64>()
        .map(thousands)
        .unwrap_or_else(|_| int.to_string());
    let sign = if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    }
}

/// About three significant digits, no trailing zeros, thousands separators: `0.012345` →
/// `0.0123`, `1234.5` → `1,235`, `80` → `80`.
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (2 - mag).clamp(0, 9) as usize;
    let s = fixed(x, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A setting's value as typed: whole numbers without separators (`1024`), others with about
/// three significant digits.
pub fn plain(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        sig(x)
    }
}

/// Money: `$1,234.56`; under a dollar, `$0.0123` (three significant digits).
pub fn usd(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    if a > 0.0 && a < 1.0 {
        format!("{sign}${}", sig(a))
    } else {
        format!("{sign}${}", fixed(a, 2))
    }
}

/// A ratio (0..1) as a percentage with three decimals: `0.00056` → `0.056 %`.
pub fn percent(ratio: f64) -> String {
    format!("{} %", fixed(ratio * 100.0, 3))
}

/// Milliseconds with one decimal.
pub fn ms(x: f64) -> String {
    fixed(x, 1)
}

/// An axis tick: short, with `k`/`M` for large values (`1,500` → `1.5k`).
pub fn tick(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{}M", sig(x / 1e6))
    } else if a >= 1e3 {
        format!("{}k", sig(x / 1e3))
    } else {
        sig(x)
    }
}

/// A money axis tick: `$1.5k`, `$20`, `$0.5`.
pub fn usd_tick(x: f64) -> String {
    if x < 0.0 {
        format!("-${}", tick(-x))
    } else {
        format!("${}", tick(x))
    }
}

/// The tick labels of one linear axis (`values` evenly spaced) in the style of `label` (`tick`,
/// `usd_tick`), with enough decimals that neighbours differ: on a narrow range `tick` gives
/// 1,500, 1,502 and 1,504 the same "1.5k"; here they read "1.500k", "1.502k", "1.504k". The
/// precision comes from the step between ticks. Labels of another shape (units, percentages)
/// are returned as `label` gives them.
pub fn distinct_ticks(values: &[f64], label: &dyn Fn(f64) -> String) -> Vec<String> {
    let labels: Vec<String> = values.iter().map(|&v| label(v)).collect();
    let repeats = labels.windows(2).any(|w| w[0] == w[1]);
    if !repeats || values.len() < 2 {
        return labels;
    }
    let step = (values[1] - values[0]).abs();
    if !(step.is_finite() && step > 0.0) {
        return labels;
    }
    // The shape of `tick` and `usd_tick`: [-][$]number[k|M].
    let mut dollar = None;
    for l in &labels {
        let body = l.strip_prefix('-').unwrap_or(l);
        let (has_dollar, body) = match body.strip_prefix('$') {
            Some(b) => (true, b),
            None => (false, body),
        };
        let digits = body.trim_end_matches(['k', 'M']);
        let numeric = !digits.is_empty()
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',');
        if !numeric || dollar.is_some_and(|d| d != has_dollar) {
            return labels;
        }
        dollar = Some(has_dollar);
    }
    let top = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (scale, suffix) = if top >= 1e6 {
        (1e6, "M")
    } else if top >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    // The fewest decimals that write the step exactly (2.5 needs one).
    let unit = step / scale;
    let decimals = (0..=9)
        .find(|&d| {
            let x = unit * 10f64.powi(d);
            (x - x.round()).abs() < 1e-6 * x.max(1.0)
        })
        .unwrap_or(9) as usize;
    let dollar = if dollar == Some(true) { "$" } else { "" };
    values
        .iter()
        .map(|&v| {
            let sign = if v < 0.0 && fixed(v / scale, decimals) != fixed(0.0, decimals) {
                "-"
            } else {
                ""
            };
            format!("{sign}{dollar}{}{suffix}", fixed(v.abs() / scale, decimals))
        })
        .collect()
}

/// Shortens `s` to at most `max` characters, keeping its start and end: `abcdef…wxyz`.
pub fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 5 {
        return s.to_string();
    }
    let tail = (max - 1) / 3;
    let head = max - 1 - tail;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// The sentence with its first letter upper-cased.
pub fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(fixed(12345.678, 2), "12,345.68");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(-2.5, 1), "-2.5");
        assert_eq!(sig(0.012345), "0.0123");
        assert_eq!(sig(1234.6), "1,235");
        assert_eq!(sig(80.0), "80");
        assert_eq!(sig(2.5), "2.5");
        assert_eq!(plain(1024.0), "1024");
        assert_eq!(plain(0.25), "0.25");
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(0.01234), "$0.0123");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(percent(0.00056), "0.056 %");
        assert_eq!(tick(1500.0), "1.5k");
        assert_eq!(tick(999.0), "999");
        assert_eq!(tick(15000.0), "15k");
        assert_eq!(tick(2.5e6), "2.5M");
        assert_eq!(shorten("abcdefghijklmnopqrstuvwxyz", 10), "abcdef…xyz");
        assert_eq!(shorten("short", 10), "short");
    }

    #[test]
    fn narrow_tick_ranges_do_not_repeat_labels() {
        // The bug: 1,500, 1,502, 1,504 all read "1.5k".
        let t = distinct_ticks(&[1500.0, 1502.0, 1504.0], &tick);
        assert_eq!(t, ["1.500k", "1.502k", "1.504k"]);
        let t = distinct_ticks(&[1500.0, 1502.5, 1505.0], &usd_tick);
        assert_eq!(t, ["$1.5000k", "$1.5025k", "$1.5050k"]);
        let t = distinct_ticks(&[0.1000, 0.1001, 0.1002], &tick);
        assert_eq!(t, ["0.1000", "0.1001", "0.1002"]);
        let t = distinct_ticks(&[2.0e6, 2.001e6], &tick);
        assert_eq!(t, ["2.000M", "2.001M"]);
        // Wide ranges keep the short labels.
        assert_eq!(
            distinct_ticks(&[0.0, 500.0, 1000.0, 1500.0], &tick),
            ["0", "500", "1k", "1.5k"]
        );
        // Labels of another shape are left alone.
        let pct = |v: f64| format!("{} %", sig(v));
        assert_eq!(distinct_ticks(&[1.0, 1.0001], &pct), ["1 %", "1 %"]);
    }
}
