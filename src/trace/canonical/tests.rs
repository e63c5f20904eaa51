//! Unit tests of the canonical reader: number forms, the fast path, headers, units, bad rows.

use super::*;
use crate::trace::Invocation;
use std::io;

fn read_bytes(input: &[u8], skip_bad_rows: bool) -> Result<(Trace, ReadReport), TraceError> {
    read(
        input,
        Path::new("trace.csv"),
        &ReadOptions {
            skip_bad_rows,
            ..ReadOptions::default()
        },
    )
}

fn ok(input: &str) -> Trace {
    match read_bytes(input.as_bytes(), false) {
        Ok((trace, _)) => trace,
        Err(e) => panic!("expected a trace, got: {e}"),
    }
}

/// The whole message of the error `input` must give.
fn check_err(input: &[u8], expected: &str) {
    match read_bytes(input, false) {
        Ok((trace, _)) => panic!("expected `{expected}`, got a trace of {} rows", trace.len()),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}

fn inv(
    arrival: Micros,
    duration: Micros,
    function: u32,
    memory_mb: u16,
    trigger: Trigger,
) -> Invocation {
    Invocation {
        arrival,
        duration,
        function,
        memory_mb,
        trigger,
    }
}

#[test]
fn columns_in_any_order_extra_columns_ignored_defaults_applied() {
    let t = ok("note,duration_ms, function ,timestamp_ms\n\
                x,80.5,api,1000\n\
                \"a, b\",0,api,1000.25\n");
    assert_eq!(t.functions.len(), 1);
    assert_eq!(t.functions[0].name, "api");
    assert_eq!(t.origin_us, 0);
    assert!(!t.was_sorted);
    assert_eq!(
        t.invocations,
        vec![
            inv(1_000_000, 80_500, 0, 0, Trigger::Sync),
            inv(1_000_250, 0, 0, 0, Trigger::Sync),
        ]
    );
}

#[test]
fn memory_and_trigger_columns() {
    let t = ok("timestamp_ms,function,duration_ms,memory_mb,trigger\n\
                0,a,1,512,async\n\
                1,a,1,,\n\
                2,b,1,2048.0,queue\n\
                3,b,1, 128 , sync \n");
    assert_eq!(t.functions.len(), 2);
    assert_eq!(t.ranges, vec![0..2, 2..4]);
    assert_eq!(
        t.invocations,
        vec![
            inv(0, 1_000, 0, 512, Trigger::Async),
            inv(1_000, 1_000, 0, 0, Trigger::Sync),
            inv(2_000, 1_000, 1, 2048, Trigger::Queue),
            inv(3_000, 1_000, 1, 128, Trigger::Sync),
        ]
    );
}

#[test]
fn timestamps_round_to_the_nearest_microsecond() {
    let t = ok("timestamp_ms,function,duration_ms\n0.0004,f,0.0006\n1.2346,f,1e2\n");
    assert_eq!(
        t.invocations,
        vec![
            inv(0, 1, 0, 0, Trigger::Sync),
            inv(1_235, 100_000, 0, 0, Trigger::Sync)
        ]
    );
}

/// (absolute arrival, duration) in microseconds of a one-row trace.
fn one_row(timestamp: &str, duration: &str) -> Result<(i64, Micros), String> {
    let input = format!("timestamp_ms,function,duration_ms\n{timestamp},f,{duration}\n");
    match read_bytes(input.as_bytes(), false) {
        Ok((t, _)) => Ok((
            t.origin_us + t.invocations[0].arrival as i64,
            t.invocations[0].duration,
        )),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn number_forms() {
    let ok_cases: [(&str, &str, i64, Micros); 11] = [
        ("0.0005", "0.0005", 1, 1),
        ("-0.0005", "0.0004", -1, 0),
        ("1.23449", "1.2345", 1_234, 1_235),
        ("+5", "+5", 5_000, 5_000),
        (".5", "5.", 500, 5_000),
        ("-.25", "-0", -250, 0),
        ("1e3", "2.5e-1", 1_000_000, 250),
        ("  12 ", " 7\t", 12_000, 7_000),
        ("007", "00.10", 7_000, 100),
        ("-1700000000000.001", "0", -1_700_000_000_000_001, 0),
        (
            "9007199254740.992",
            "864000000.0004",
            9_007_199_254_740_992,
            864_000_000_000,
        ),
    ];
    for (ts, d, want_ts, want_d) in ok_cases {
        assert_eq!(one_row(ts, d), Ok((want_ts, want_d)), "{ts}, {d}");
    }
    let bad_cases: [(&str, &str, &str); 10] = [
        (
            "999999999999999",
            "1",
            "timestamp_ms \"999999999999999\": out of range",
        ),
        (
            "-1234567890123456",
            "1",
            "timestamp_ms \"-1234567890123456\": out of range",
        ),
        (".", "1", "timestamp_ms \".\": not a number"),
        ("-", "1", "timestamp_ms \"-\": not a number"),
        ("1_000", "1", "timestamp_ms \"1_000\": not a number"),
        ("0x10", "1", "timestamp_ms \"0x10\": not a number"),
        ("1.2.3", "1", "timestamp_ms \"1.2.3\": not a number"),
        ("0", "-0.0001", "duration_ms \"-0.0001\": must be >= 0"),
        (
            "0",
            "864000000.0005",
            "duration_ms \"864000000.0005\": longer than 10 days",
        ),
        (
            "9007199254740.993",
            "1",
            "timestamp_ms \"9007199254740.993\": out of range",
        ),
    ];
    for (ts, d, want) in bad_cases {
        match one_row(ts, d) {
            Ok(v) => panic!("{ts}, {d}: expected an error, got {v:?}"),
            Err(e) => assert!(e.contains(want), "{ts}, {d}: {e}"),
        }
    }
}

/// The decimal fast path is exact, and within 1 µs of `str::parse::<f64>` rounded, which is
/// what every other number form goes through (`x * 1000.0` in `f64` can be off by half a µs
/// for Unix-epoch milliseconds, e.g. 4408972300660.90 -> ...900.5).
#[test]
fn decimal_fast_path_is_exact_and_agrees_with_f64() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        // xorshift: deterministic, no dependency.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Up to 9e12 ms, the whole valid range of plain-decimal timestamps.
        let int = x % 9_000_000_000_000 / 10u64.pow((x % 13) as u32);
        let decimals = ((x >> 40) % 4) as u32;
        let frac = (x >> 20) % 10u64.pow(decimals);
        let (s, exact) = match decimals {
            0 => (format!("{int}"), int * 1_000),
            d => (
                format!("{int}.{frac:0width$}", width = d as usize),
                int * 1_000 + frac * 10u64.pow(3 - d),
            ),
        };
        assert_eq!(
            units::plain_to_us(s.as_bytes(), TimeUnit::Ms),
            Some((false, exact as i64)),
            "{s}"
        );
        let slow = match s.parse::<f64>() {
            Ok(v) => (v * 1_000.0).round() as i64,
            Err(e) => panic!("{s}: {e}"),
        };
        assert!((slow - exact as i64).abs() <= 1, "{s}: f64 gives {slow}");
    }
}

#[test]
fn origin_is_the_first_arrival_floored_to_the_minute() {
    let t = ok("timestamp_ms,function,duration_ms\n1700000012345,f,1\n1700000072345.5,f,1\n");
    assert_eq!(t.origin_us, 1_699_999_980_000_000);
    assert_eq!(t.invocations[0].arrival, 32_345_000);
    assert_eq!(t.invocations[1].arrival, 92_345_500);

    // Negative times floor away from zero.
    let t = ok("timestamp_ms,function,duration_ms\n-1500,f,1\n");
    assert_eq!(t.origin_us, -60_000_000);
    assert_eq!(t.invocations[0].arrival, 58_500_000);
}

#[test]
fn unsorted_rows_are_sorted_stably() {
    // Durations tag the rows; the rows at 5 ms must keep their input order 1, 2, 3.
    let t = ok("timestamp_ms,function,duration_ms\n\
                9,f,0\n5,f,1\n7,g,9\n5,f,2\n0,g,8\n5,f,3\n");
    assert!(t.was_sorted);
    assert_eq!(t.origin_us, 0);
    let f: Vec<(Micros, Micros)> = t
        .function_invocations(0)
        .iter()
        .map(|i| (i.arrival, i.duration))
        .collect();
    assert_eq!(
        f,
        vec![(5_000, 1_000), (5_000, 2_000), (5_000, 3_000), (9_000, 0)]
    );
    let g: Vec<(Micros, Micros)> = t
        .function_invocations(1)
        .iter()
        .map(|i| (i.arrival, i.duration))
        .collect();
    assert_eq!(g, vec![(0, 8_000), (7_000, 9_000)]);
}

#[test]
fn bom_crlf_and_blank_lines() {
    let t = ok("\u{feff}timestamp_ms,function,duration_ms\r\n\r\n0,f,1\r\n  \n\n1,f,2");
    assert_eq!(
        t.invocations,
        vec![
            inv(0, 1_000, 0, 0, Trigger::Sync),
            inv(1_000, 2_000, 0, 0, Trigger::Sync)
        ]
    );
    // The BOM is not part of the first name, so a BOM before `function` still matches.
    let t = ok("\u{feff}function,timestamp_ms,duration_ms\n\"f\",0,1\n");
    assert_eq!(t.functions[0].name, "f");
}

#[test]
fn missing_column_lists_the_header() {
    let names = "The header must name timestamp_ms, function and duration_ms (or another name \
                 for each: timestamp_s, timestamp_us, timestamp, time; function_name, name; \
                 duration_s, duration_us, duration; memory_mb and trigger are optional)";
    check_err(
        b"timestamp_ms,fn,latency\n0,f,1\n",
        &format!(
            "trace.csv:1: missing required columns `function`, `duration_ms`; the header \
             has: `timestamp_ms`, `fn`, `latency`. {names}"
        ),
    );
    check_err(
        b"0,f,1\n",
        &format!(
            "trace.csv:1: missing required columns `timestamp_ms`, `function`, \
             `duration_ms`; the header has: `0`, `f`, `1`. {names}; the first line looks \
             like data: add a header line"
        ),
    );
}

#[test]
fn names_are_case_insensitive_and_aliases_are_ranked() {
    let t = ok("\nTimestamp_MS,Function,DURATION_ms\n0,f,1\n");
    assert_eq!(t.invocations, vec![inv(0, 1_000, 0, 0, Trigger::Sync)]);
    // `function` beats `name`, `timestamp_ms` beats `time`: the others are extra columns.
    let t = ok("time,name,timestamp_ms,function,duration_ms\nnoon,x,5,f,1\n");
    assert_eq!(t.functions[0].name, "f");
    assert_eq!(t.invocations, vec![inv(5_000, 1_000, 0, 0, Trigger::Sync)]);
    let t = ok("function_name,time,duration\ng,1714560000,2\n");
    assert_eq!(t.functions[0].name, "g");
    assert_eq!(t.origin_us, 1_714_560_000_000_000);
    assert_eq!(t.invocations, vec![inv(0, 2_000, 0, 0, Trigger::Sync)]);
    // Two columns of the same rank.
    check_err(
        b"timestamp_ms,function,duration_ms,timestamp_s\n0,f,1,0\n",
        "trace.csv:1: columns 1 (`timestamp_ms`) and 4 (`timestamp_s`) both give the \
         timestamp: keep one, or rename the other",
    );
    check_err(
        b"Function,timestamp_ms,duration_ms,function\nf,0,1,g\n",
        "trace.csv:1:4: duplicate column `function` (first seen in column 1)",
    );
}

#[test]
fn separator_hint() {
    check_err(
        b"timestamp_ms;function;duration_ms\n0;f;1\n",
        "trace.csv:1: the header `timestamp_ms;function;duration_ms` looks like a \
         `;`-separated file: faasplan reads comma-separated CSV (with `.` as the decimal \
         point); save or convert the file with commas between the fields",
    );
    check_err(
        b"time\tname\tduration\n0\tf\t1\n",
        "trace.csv:1: the header `time\tname\tduration` looks like a tab-separated file: \
         faasplan reads comma-separated CSV (with `.` as the decimal point); save or convert \
         the file with commas between the fields",
    );
}

fn read_unit(input: &str, time_unit: Option<TimeUnit>) -> Result<Trace, String> {
    read(
        input.as_bytes(),
        Path::new("trace.csv"),
        &ReadOptions {
            skip_bad_rows: false,
            time_unit,
        },
    )
    .map(|(t, _)| t)
    .map_err(|e| e.to_string())
}

fn arrivals_and_durations(t: &Trace) -> Vec<(i64, Micros)> {
    t.invocations
        .iter()
        .map(|i| (t.origin_us + i.arrival as i64, i.duration))
        .collect()
}

#[test]
fn units_in_names_and_from_the_flag() {
    let want = vec![(1_500_000, 250_000), (62_000_001, 1)];
    for (input, flag) in [
        (
            "timestamp_s,function,duration_s\n1.5,f,0.25\n62.000001,f,0.000001\n",
            None,
        ),
        (
            "timestamp_ms,function,duration_ms\n1500,f,250\n62000.001,f,0.001\n",
            None,
        ),
        (
            "timestamp_us,function,duration_us\n1500000,f,250000\n62000001,f,1\n",
            None,
        ),
        (
            "timestamp_s,function,duration\n1.5,f,0.25\n62.000001,f,1e-6\n",
            Some(TimeUnit::S),
        ),
        (
            "time,function,duration\n1.5,f,0.25\n62.000001,f,0.000001\n",
            Some(TimeUnit::S),
        ),
        (
            "timestamp,function,duration_ms\n1500,f,250\n62000.001,f,0.001\n",
            Some(TimeUnit::Ms),
        ),
    ] {
        match read_unit(input, flag) {
            Ok(t) => assert_eq!(arrivals_and_durations(&t), want, "{input}"),
            Err(e) => panic!("{input}: {e}"),
        }
    }
    // A bare `duration` is in ms by default.
    let t = read_unit("time,function,duration\n1714560000,f,250\n", None);
    assert_eq!(
        t.map(|t| arrivals_and_durations(&t)),
        Ok(vec![(1_714_560_000_000_000, 250_000)])
    );
    // A unit in a name and a different flag.
    assert_eq!(
        read_unit("timestamp_ms,function,duration\n0,f,1\n", Some(TimeUnit::S)).err(),
        Some(
            "trace.csv:1: column 1 `timestamp_ms` is in milliseconds by its name, but \
             --time-unit s says seconds: --time-unit is for columns whose name has no unit; \
             drop it, or rename the column"
                .to_string()
        )
    );
    assert!(
        read_unit(
            "timestamp_ms,function,duration_ms\n0,f,1\n",
            Some(TimeUnit::Ms)
        )
        .is_ok()
    );
}

#[test]
fn unit_specific_range_messages() {
    check_err(
        b"timestamp_s,function,duration_s\n1714560000000,f,1\n",
        "trace.csv:2:1: timestamp_s \"1714560000000\": out of range: more than 2^53 \
         microseconds (about 285 years) from zero; are the timestamps in milliseconds or \
         smaller units rather than seconds?",
    );
    check_err(
        b"timestamp_s,function,duration_s\n0,f,900000\n",
        "trace.csv:2:3: duration_s \"900000\": longer than 10 days (864000 s): serverless \
         platforms stop an invocation after minutes or at most hours, so this is likely a \
         unit mistake (milliseconds or smaller units given as seconds)",
    );
}

#[test]
fn epoch_seconds_milliseconds_and_microseconds_by_magnitude() {
    let base = 1_714_564_800_000_000;
    for (a, b) in [
        ("1714564800", "1714564801.5"),
        ("1714564800000", "1714564801500"),
        ("1714564800000000", "1714564801500000"),
    ] {
        let input = format!("timestamp,function,duration\n{a},f,1\n{b},f,1\n");
        match read_unit(&input, None) {
            Ok(t) => assert_eq!(
                arrivals_and_durations(&t),
                vec![(base, 1_000), (base + 1_500_000, 1_000)],
                "{input}"
            ),
            Err(e) => panic!("{input}: {e}"),
        }
    }
    // The first value sets the unit; a value of another magnitude is refused where it is.
    check_err(
        b"timestamp,function,duration\n1714564800,f,1\n\n1714564800000,f,1\n",
        "trace.csv:4:1: timestamp \"1714564800000\": not a Unix time in seconds (1e9..1e10) \
         like the first row's: are the units mixed? (--time-unit sets the unit and turns \
         this check off)",
    );
    // Neither: refused, with the fix.
    check_err(
        b"timestamp,function,duration\n\n5,f,1\n7,f,1\n",
        "trace.csv: column 1 `timestamp` names no unit, and its values are not Unix epoch \
         times (line 3 has 5; epoch seconds are 1e9..1e10, milliseconds 1e12..1e13, \
         microseconds 1e15..1e16): pass --time-unit s, ms or us, or name the column \
         timestamp_s, timestamp_ms or timestamp_us",
    );
    // With the flag the same values are plain numbers in that unit.
    let t = read_unit(
        "timestamp,function,duration\n5,f,1\n7,f,1\n",
        Some(TimeUnit::S),
    );
    assert_eq!(
        t.map(|t| arrivals_and_durations(&t)),
        Ok(vec![(5_000_000, 1_000_000), (7_000_000, 1_000_000)])
    );
}

#[test]
fn iso_timestamps() {
    let t = read_unit(
        "time,function,duration_ms\n\
         2024-05-01T12:00:00.123Z,f,1\n\
         2024-05-01T14:00:00+02:00,f,1\n\
         2024-05-01 12:00:01,f,1\n",
        None,
    );
    let base = 1_714_564_800_000_000;
    assert_eq!(
        t.map(|t| arrivals_and_durations(&t)),
        Ok(vec![
            (base, 1_000),
            (base + 123_000, 1_000),
            (base + 1_000_000, 1_000)
        ])
    );
    // The flag does not change date-times (it is for the duration here).
    let t = read_unit(
        "time,function,duration\n2024-05-01T12:00:00Z,f,1\n",
        Some(TimeUnit::S),
    );
    assert_eq!(
        t.map(|t| arrivals_and_durations(&t)),
        Ok(vec![(base, 1_000_000)])
    );
    let h = "timestamp,function,duration_ms\n2024-05-01T12:00:00Z,f,1\n";
    for (row, expected) in [
        (
            "2024-05-01T12:00:60Z,f,1\n",
            "trace.csv:3:1: timestamp \"2024-05-01T12:00:60Z\": not a time of day (hour \
             00-23, minute and second 00-59)",
        ),
        (
            "2024-02-30T12:00:00Z,f,1\n",
            "trace.csv:3:1: timestamp \"2024-02-30T12:00:00Z\": not a calendar date (month \
             01-12, day within the month)",
        ),
        (
            "1714564800,f,1\n",
            "trace.csv:3:1: timestamp \"1714564800\": not an ISO-8601 date-time: expected \
             YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm], e.g. 2024-05-01T12:00:00.123Z",
        ),
        (
            "2024-05-01T12:00:00+25:00,f,1\n",
            "trace.csv:3:1: timestamp \"2024-05-01T12:00:00+25:00\": bad UTC offset: \
             expected Z, +hh:mm or -hh:mm (at most 23:59)",
        ),
    ] {
        check_err(format!("{h}{row}").as_bytes(), expected);
    }
    check_err(
        b"timestamp,function,duration_ms\nnoon,f,1\n",
        "trace.csv:2:1: timestamp \"noon\": neither a number nor an ISO-8601 date-time \
         (e.g. 2024-05-01T12:00:00.123Z)",
    );
}

#[test]
fn trigger_synonyms() {
    let t = ok("timestamp_ms,function,duration_ms,trigger\n\
                0,f,1,http\n1,f,1,TIMER\n2,f,1,others\n3,f,1,event\n4,f,1,Storage\n\
                5,f,1,orchestration\n6,f,1,Queue\n7,f,1,ASYNC\n");
    let got: Vec<Trigger> = t.invocations.iter().map(|i| i.trigger).collect();
    use Trigger::*;
    assert_eq!(
        got,
        vec![Sync, Sync, Sync, Async, Async, Queue, Queue, Async]
    );
}

/// `n` rows of one function, `gap` and `duration` apart (as written in the file).
fn rows(header: &str, n: usize, gap: f64, duration: f64) -> String {
    let mut s = format!("{header}\n");
    for i in 0..n {
        s.push_str(&format!("{},f,{duration}\n", i as f64 * gap));
    }
    s
}

#[test]
fn unit_mistakes_are_refused_unless_the_flag_is_given() {
    // 1,001 rows 1.9 units apart: read as ms they all arrive within 1.9 s.
    let compressed = rows("timestamp_ms,function,duration_ms", 1_001, 1.9, 50.0);
    let msg = read_unit(&compressed, None).err().unwrap_or_default();
    assert_eq!(
        msg,
        "trace.csv: this looks like a unit mistake: read as milliseconds, all 1001 rows \
         arrive within 1.900 s (column 1 `timestamp_ms`): the timestamps are likely \
         seconds, so name the column timestamp_s. If the values really are milliseconds, \
         pass --time-unit ms to turn these checks off"
    );
    assert!(read_unit(&compressed, Some(TimeUnit::Ms)).is_ok());
    // At the thresholds: 1,000 rows, or a span of 2 s, pass.
    assert!(
        read_unit(
            &rows("timestamp_ms,function,duration_ms", 1_000, 1.0, 50.0),
            None
        )
        .is_ok()
    );
    assert!(
        read_unit(
            &rows("timestamp_ms,function,duration_ms", 1_001, 2.0, 50.0),
            None
        )
        .is_ok()
    );
    // Microseconds that are milliseconds.
    let msg = read_unit(
        &rows("timestamp_us,function,duration_ms", 1_001, 1.0, 50.0),
        None,
    );
    assert!(msg.err().unwrap_or_default().contains(
        "read as microseconds, all 1001 rows arrive within 0.001 s (column 1 \
             `timestamp_us`): the timestamps are likely milliseconds, so name the column \
             timestamp_ms"
    ));

    // Durations all under 1 ms, from 100 rows on.
    let short = rows("timestamp_ms,function,duration", 100, 1000.0, 0.2);
    assert_eq!(
        read_unit(&short, None).err().unwrap_or_default(),
        "trace.csv: this looks like a unit mistake: read as milliseconds, every duration is \
         under 1 ms (the longest is 200 us; column 3 `duration`): the durations are likely \
         seconds, so name the column duration_s. If the values really are milliseconds, \
         pass --time-unit ms to turn these checks off"
    );
    assert!(read_unit(&short, Some(TimeUnit::Ms)).is_ok());
    assert!(
        read_unit(
            &rows("timestamp_ms,function,duration", 99, 1000.0, 0.2),
            None
        )
        .is_ok()
    );
    assert!(
        read_unit(
            &rows("timestamp_ms,function,duration", 100, 1000.0, 0.0),
            None
        )
        .is_ok()
    );
    assert!(
        read_unit(
            &rows("timestamp_ms,function,duration", 100, 1000.0, 1.0),
            None
        )
        .is_ok()
    );
    // With ISO timestamps the flag fits the bare duration column.
    let mut iso = String::from("time,function,duration\n");
    for i in 0..100 {
        iso.push_str(&format!(
            "2024-05-01T12:{:02}:{:02}Z,f,0.5\n",
            i / 60,
            i % 60
        ));
    }
    let msg = read_unit(&iso, None).err().unwrap_or_default();
    assert!(
        msg.contains("so name the column duration_s or pass --time-unit s. If the values"),
        "{msg}"
    );

    // Decades: Unix seconds and milliseconds mixed under one name.
    let mixed = "timestamp_ms,function,duration_ms\n1714564800,f,1\n1714564800000,f,1\n";
    assert_eq!(
        read_unit(mixed, None).err().unwrap_or_default(),
        "trace.csv: this looks like a unit mistake: read as milliseconds, the timestamps \
         span 54 years, from 1970-01-20 20:16:04 UTC to 2024-05-01 12:00:00 UTC (column 1 \
         `timestamp_ms`): probably a mix of units (Unix seconds and milliseconds, or relative \
         and Unix times). If the values really are milliseconds, pass --time-unit ms \
         to turn these checks off"
    );
}

#[test]
fn duplicate_column() {
    check_err(
        b"timestamp_ms,function,duration_ms, function\n0,f,1,g\n",
        "trace.csv:1:4: duplicate column `function` (first seen in column 2)",
    );
    // Duplicates among ignored columns do no harm.
    let t = ok("x,timestamp_ms,x,function,duration_ms\n1,0,2,f,1\n");
    assert_eq!(t.len(), 1);
}

#[test]
fn bad_numbers() {
    let h = "timestamp_ms,function,duration_ms\n";
    let cases: [(&str, &str); 9] = [
        (
            "0,f,1\n0,f,abc\n",
            "trace.csv:3:3: duration_ms \"abc\": not a number",
        ),
        (
            "1h,f,1\n",
            "trace.csv:2:1: timestamp_ms \"1h\": not a number",
        ),
        (
            "0,f,-5\n",
            "trace.csv:2:3: duration_ms \"-5\": must be >= 0",
        ),
        (
            "0,f,NaN\n",
            "trace.csv:2:3: duration_ms \"NaN\": must be a finite number",
        ),
        (
            "0,f,-inf\n",
            "trace.csv:2:3: duration_ms \"-inf\": must be a finite number",
        ),
        (
            "inf,f,1\n",
            "trace.csv:2:1: timestamp_ms \"inf\": must be a finite number",
        ),
        (
            "0,f, \n",
            "trace.csv:2:3: duration_ms \" \": is empty: a number is required",
        ),
        (
            "0,f,864000000.5\n",
            "trace.csv:2:3: duration_ms \"864000000.5\": longer than 10 days (864000000 ms): \
             serverless platforms stop an invocation after minutes or at most hours, so this \
             is likely a unit mistake (microseconds or nanoseconds given as milliseconds)",
        ),
        (
            "1700000000000000,f,1\n",
            "trace.csv:2:1: timestamp_ms \"1700000000000000\": out of range: more than 2^53 \
             microseconds (about 285 years) from zero; are the timestamps in microseconds or \
             nanoseconds rather than milliseconds?",
        ),
    ];
    for (rows, expected) in cases {
        check_err(format!("{h}{rows}").as_bytes(), expected);
    }
    // The limits themselves are accepted.
    let t = ok("timestamp_ms,function,duration_ms\n-9007199254740.992,f,864000000\n");
    assert_eq!(t.invocations[0].duration, 864_000_000_000);
}

#[test]
fn bad_memory_function_and_trigger() {
    let h = "timestamp_ms,function,duration_ms,memory_mb,trigger\n";
    let memory = "must be a whole number of MB from 1 to 65535 (leave blank if unknown)";
    let cases: [(&str, String); 6] = [
        (
            "0,f,1,0,\n",
            format!("trace.csv:2:4: memory_mb \"0\": {memory}"),
        ),
        (
            "0,f,1,65536,\n",
            format!("trace.csv:2:4: memory_mb \"65536\": {memory}"),
        ),
        (
            "0,f,1,1.5,\n",
            format!("trace.csv:2:4: memory_mb \"1.5\": {memory}"),
        ),
        (
            "0,f,1,lots,\n",
            "trace.csv:2:4: memory_mb \"lots\": not a number".to_string(),
        ),
        (
            "0,f,1,,webhook\n",
            "trace.csv:2:5: trigger \"webhook\": must be sync, async or queue, or an Azure \
             trigger name (http, timer, others: sync; event, storage: async; orchestration: \
             queue); blank means sync"
                .to_string(),
        ),
        (
            "0, ,1,,\n",
            "trace.csv:2:2: function \" \": must not be empty".to_string(),
        ),
    ];
    for (rows, expected) in cases {
        check_err(format!("{h}{rows}").as_bytes(), &expected);
    }
}

#[test]
fn empty_file_and_no_rows() {
    for input in ["", "\n", "  \r\n\t\n", "\u{feff}"] {
        check_err(
            input.as_bytes(),
            "trace.csv: the file is empty: expected a header line naming the columns \
             (timestamp_ms,function,duration_ms, optionally memory_mb and trigger)",
        );
    }
    check_err(
        b"timestamp_ms,function,duration_ms\n\n",
        "trace.csv: the header is there but no data rows follow",
    );
}

#[test]
fn wrong_number_of_fields() {
    check_err(
        b"timestamp_ms,function,duration_ms\n0,f,1\n1,f\n",
        "trace.csv:3: expected 3 fields (as in the header), found 2",
    );
    check_err(
        b"timestamp_ms,function,duration_ms\n0,f,1,x\n",
        "trace.csv:2: expected 3 fields (as in the header), found 4",
    );
}

#[test]
fn non_utf8_rejected_in_used_columns_only() {
    check_err(
        b"timestamp_ms,function,duration_ms\n0,ab\xffc,1\n",
        "trace.csv:2:2: function: invalid UTF-8 (byte 0xff at offset 2 of the field); the \
         trace must be UTF-8 text",
    );
    let t = ok_bytes(b"notes\xe9,timestamp_ms,function,duration_ms\ncaf\xe9,0,f,1\n");
    assert_eq!(t.len(), 1);
}

fn ok_bytes(input: &[u8]) -> Trace {
    match read_bytes(input, false) {
        Ok((trace, _)) => trace,
        Err(e) => panic!("expected a trace, got: {e}"),
    }
}

#[test]
fn line_numbers_count_blank_lines_crlf_and_quoted_newlines() {
    let h = "timestamp_ms,function,duration_ms";
    // Blank lines before the bad row.
    check_err(
        format!("{h}\n0,f,1\n\n\n0,f,x\n").as_bytes(),
        "trace.csv:5:3: duration_ms \"x\": not a number",
    );
    // CRLF, and the last row without a line terminator.
    check_err(
        format!("{h}\r\n0,f,1\r\n\r\n0,f,x").as_bytes(),
        "trace.csv:4:3: duration_ms \"x\": not a number",
    );
    check_err(
        format!("{h}\n0,f,1\n\n0,f,x").as_bytes(),
        "trace.csv:4:3: duration_ms \"x\": not a number",
    );
    // A quoted newline inside an earlier row, and inside the bad row itself.
    check_err(
        format!("{h}\n0,\"a\nb\",1\n0,\"c\nd\",x\n").as_bytes(),
        "trace.csv:4:3: duration_ms \"x\": not a number",
    );
    // A closed quoted field that ends in a newline, at the end of the file, with and without
    // a final terminator.
    for end in ["\n", ""] {
        check_err(
            format!("{h}\n0,f,1\n0,f,\"x\n\"{end}").as_bytes(),
            "trace.csv:3:3: duration_ms \"x\\n\": not a number; the field spans several \
             lines: is a quote left open?",
        );
    }
    // An unclosed quote swallows the rest of the file; the message says so.
    check_err(
        format!("{h}\n0,f,\"1\n1,f,2\n").as_bytes(),
        "trace.csv:2:3: duration_ms \"1\\n1,f,2\\n\": not a number; the field spans several \
         lines: is a quote left open?",
    );
}

#[test]
fn skip_bad_rows_counts_by_reason() {
    let input = "timestamp_ms,function,duration_ms\n\
                 0,f,1\n\
                 1,f,-1\n\
                 2,f\n\
                 3,g,-2\n\
                 x,f,1\n\
                 5,f,2\n\
                 6,f,NaN\n\
                 7,f,-3\n";
    let (t, report) = match read_bytes(input.as_bytes(), true) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    // `g` only had a bad row, so it is not a function of the trace.
    assert_eq!(t.functions.len(), 1);
    assert_eq!(t.ranges, vec![0..2]);
    assert_eq!(report.rows_read, 8);
    assert_eq!(report.rows_accepted, 2);
    assert_eq!(report.rows_skipped, 6);
    assert_eq!(
        report.skipped_by_reason,
        vec![
            ("duration_ms: must be >= 0".to_string(), 3),
            ("duration_ms: must be a finite number".to_string(), 1),
            ("timestamp_ms: not a number".to_string(), 1),
            ("wrong number of fields".to_string(), 1),
        ]
    );
    assert_eq!(
        report.first_skipped,
        vec![
            "trace.csv:3:3: duration_ms \"-1\": must be >= 0",
            "trace.csv:4: expected 3 fields (as in the header), found 2",
            "trace.csv:5:3: duration_ms \"-2\": must be >= 0",
            "trace.csv:6:1: timestamp_ms \"x\": not a number",
            "trace.csv:8:3: duration_ms \"NaN\": must be a finite number",
        ]
    );

    // Without the option the first bad row fails.
    check_err(
        input.as_bytes(),
        "trace.csv:3:3: duration_ms \"-1\": must be >= 0",
    );
}

#[test]
fn skip_bad_rows_with_every_row_bad() {
    let input = b"timestamp_ms,function,duration_ms\n0,f,-1\n1,f,x\n";
    match read_bytes(input, true) {
        Ok(_) => panic!("expected an error"),
        Err(e) => assert_eq!(
            e.to_string(),
            "trace.csv: every data row is bad (2 skipped); the first: \
             trace.csv:2:3: duration_ms \"-1\": must be >= 0"
        ),
    }
    // Header errors are not skipped.
    match read_bytes(b"timestamp_ms,function\n0,f\n", true) {
        Ok(_) => panic!("expected an error"),
        Err(e) => assert!(matches!(e, TraceError::MissingColumn { .. }), "{e}"),
    }
}

#[test]
fn report_without_skipping() {
    let (_, report) = match read_bytes(
        b"timestamp_ms,function,duration_ms\n0,f,1\n\n1,f,1\n",
        false,
    ) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        (report.rows_read, report.rows_accepted, report.rows_skipped),
        (2, 2, 0)
    );
    assert!(report.skipped_by_reason.is_empty() && report.first_skipped.is_empty());
}

/// Yields `data`, then fails.
struct Failing<'a> {
    data: &'a [u8],
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = self.data.read(buf)?;
        Ok(n)
    }
}

#[test]
fn io_errors_name_the_path() {
    let failing = Failing {
        data: b"timestamp_ms,function,duration_ms\n0,f,1\n1,f,1\n",
    };
    match read(failing, Path::new("trace.csv"), &ReadOptions::default()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => assert_eq!(e.to_string(), "trace.csv:4: cannot read: disk on fire"),
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let missing = dir.path().join("nope.csv");
    match read_path(&missing, &ReadOptions::default()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("{}: cannot read: ", missing.display())),
                "{msg}"
            );
        }
    }
}

#[test]
fn read_path_reads_a_file() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let path = dir.path().join("t.csv");
    if let Err(e) = std::fs::write(&path, "timestamp_ms,function,duration_ms\n60000,f,2\n") {
        panic!("{e}");
    }
    match read_path(&path, &ReadOptions::default()) {
        Ok((t, r)) => {
            assert_eq!(t.origin_us, 60_000_000);
            assert_eq!(t.invocations, vec![inv(0, 2_000, 0, 0, Trigger::Sync)]);
            assert_eq!(r.rows_accepted, 1);
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn an_app_column_groups_functions_and_a_function_without_one_is_its_own_app() {
    let t = ok("timestamp_ms,function,duration_ms,app\n\
                0,a,1,shop\n\
                1,b,1,shop\n\
                2,c,1,\n\
                3,a,1,shop\n");
    assert_eq!(t.functions[0].app.as_deref(), Some("shop"));
    assert_eq!(t.functions[2].app, None);
    let (of, names) = t.apps();
    assert_eq!(of, vec![0, 0, 1]);
    assert_eq!(names, vec!["shop".to_string(), "c".to_string()]);
    // Without the column every function is its own app.
    let t = ok("timestamp_ms,function,duration_ms\n0,a,1\n1,b,1\n");
    assert_eq!(t.apps(), (vec![0, 1], vec!["a".into(), "b".into()]));
}

#[test]
fn a_function_moving_to_another_app_is_a_bad_row() {
    check_err(
        b"timestamp_ms,function,duration_ms,app\n0,a,1,shop\n1,a,1,blog\n",
        "trace.csv:3:4: app \"blog\": differs from the app an earlier row gave this function \
         (a function belongs to one application)",
    );
}
