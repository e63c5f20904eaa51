//! Warnings that travel with an answer: a setting that decided the result without the user
//! choosing it (a default account limit, the built-in init times), or a result that should not be
//! read as a plan (an option that misses its SLO). Each [`Warning`] names the flag that changes it;
//! every output (table, JSON, report) renders the same strings.
//!
//! A new source is one function: for a run, a `fn(&RunFacts) -> Vec<Warning>` added to
//! [`RUN_SOURCES`]; across the options of a comparison, a function the command calls.

use std::fmt;

use crate::engine::PlatformConfig;
use crate::outcome::Outcome;
use crate::report::fmt::thousands;

/// A limit that refuses more than this share of requests decides the answer (0.1 %).
pub const THROTTLE_SHARE: f64 = 0.001;

/// Something the user should know before acting on a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What happened and why it matters; does not end with a period.
    pub message: String,
    /// The flag that changes it, e.g. `--account-concurrency`.
    pub flag: &'static str,
}

impl Warning {
    pub fn new(message: impl Into<String>, flag: &'static str) -> Warning {
        Warning {
            message: message.into(),
            flag,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (set {})", self.message, self.flag)
    }
}

/// Renders warnings as the strings every output carries, without repeats, in order.
pub fn render(ws: &[Warning]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ws.len());
    for w in ws {
        let s = w.to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The table block: `warnings:` and one line each; nothing when there are none.
pub fn write_block(w: &mut dyn std::io::Write, lines: &[String]) -> std::io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "warnings:")?;
    for l in lines {
        writeln!(w, "  - {l}")?;
    }
    Ok(())
}

/// Each warning once on stderr, `warning: ...`.
pub fn to_stderr(lines: &[String]) {
    let mut seen: Vec<&String> = Vec::new();
    for l in lines {
        if !seen.contains(&l) {
            eprintln!("warning: {l}");
            seen.push(l);
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    /// The user gave the flag.
    Flag,
    /// The offering's behaviour default (its name).
    Offering(String),
    /// faasplan's built-in (Lambda-like) default.
    #[default]
    BuiltIn,
}

impl Origin {
    /// "" for a flag, else " (the built-in default)" or " (the default of offering X)".
    fn note(&self) -> String {
        match self {
            Origin::Flag => String::new(),
            Origin::Offering(name) => format!(" (the default of offering {name})"),
            Origin::BuiltIn => " (the built-in default)".to_string(),
        }
    }
}

/// Where the settings that can decide a run's answer came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    pub account_concurrency: Origin,
    pub max_concurrency: Origin,
    pub scaling_rate: Origin,
    /// True when the init times are the measured hello-world Lambda table: no `--init-ms`, and
    /// the offering's cold start is that table or there is no offering.
    pub init_is_lambda_table: bool,
}

/// Requests throttled or dead-lettered, by the limit that refused their last attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefusedBy {
    pub account: u64,
    pub function: u64,
    pub scaling_rate: u64,
}

impl RefusedBy {
    pub fn of(outcome: &Outcome) -> RefusedBy {
        let t = &outcome.totals;
        RefusedBy {
            account: t.throttled_account,
            function: t.throttled_function,
            scaling_rate: t.throttled_rate,
        }
    }
}

/// What a run's warning sources read.
pub struct RunFacts<'a> {
    pub outcome: &'a Outcome,
    pub cfg: &'a PlatformConfig,
    pub origins: &'a Origins,
}

/// A source of run warnings.
pub type RunSource = fn(&RunFacts) -> Vec<Warning>;

/// Every source of run warnings, in the order they are reported.
pub const RUN_SOURCES: &[RunSource] = &[
    account_limit,
    function_limit,
    scaling_rate,
    init_default,
    startup_transient,
    timed_out,
];

/// With `--warmup none`, most cold starts come from the empty platform at the start: the
/// transient a steady state would not see (a sweep would buy provisioned concurrency for it).
pub fn startup_transient(f: &RunFacts) -> Vec<Warning> {
    if f.cfg.warmup != crate::engine::Warmup::None {
        return Vec::new();
    }
    let total = f.outcome.totals.cold_starts;
    let reach = crate::time::ceil_minute(f.cfg.keep_alive.longest()).max(crate::time::MINUTE);
    let early: u64 = f
        .outcome
        .minutes
        .iter()
        .take((reach / crate::time::MINUTE) as usize)
        .map(|m| m.cold_starts)
        .sum();
    if total == 0 || early * 2 <= total {
        return Vec::new();
    }
    vec![Warning::new(
        format!(
            "{early} of the {total} cold starts fall in the first {} from an empty platform, a \
             start-up transient the steady state does not have",
            crate::time::format_duration(reach)
        ),
        "--warmup cyclic or --warmup DURATION",
    )]
}

/// Executions cut at the function timeout: each was an error and is billed to the timeout.
pub fn timed_out(f: &RunFacts) -> Vec<Warning> {
    let n = f.outcome.totals.timed_out;
    let Some(limit) = f.cfg.timeout else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    vec![Warning::new(
        format!(
            "{} ran past the {} timeout: cut there, billed to it, and errors for sync callers",
            share_text(n, f.outcome.totals.invocations),
            crate::time::format_duration(limit)
        ),
        "--timeout",
    )]
}

/// The warnings of one run, from every source.
pub fn for_run(facts: &RunFacts) -> Vec<Warning> {
    RUN_SOURCES.iter().flat_map(|s| s(facts)).collect()
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// "26.1 % of requests (12,345 of 47,000)".
fn share_text(n: u64, of: u64) -> String {
    format!(
        "{} % of requests ({} of {})",
        percent(share(n, of)),
        thousands(n),
        thousands(of)
    )
}

/// A share as a percentage with enough digits to be non-zero.
fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p >= 10.0 {
        format!("{p:.0}")
    } else if p >= 1.0 {
        format!("{p:.1}")
    } else {
        format!("{p:.2}")
    }
}

/// The warnings of many runs (grid points, replicas), each source once: its text at the first
/// run where it holds, and how many runs it holds in. `runs`: (label, warnings) in order.
pub fn across(runs: &[(String, Vec<Warning>)]) -> Vec<String> {
    let mut acc = Across::default();
    for (label, ws) in runs {
        acc.add(|| label.clone(), ws);
    }
    acc.finish()
}

/// [`across`], fed one run at a time (in order) so that a sweep keeps one entry per warning
/// source instead of every run's warnings.
#[derive(Debug, Default)]
pub struct Across {
    runs: usize,
    /// Each flag in order of first appearance: the first run's label and warning, and the runs
    /// that have one.
    flags: Vec<(String, Warning, usize)>,
}

impl Across {
    /// Adds the next run's warnings; `label` is called only when one is the first of its flag.
    pub fn add(&mut self, label: impl FnOnce() -> String, ws: &[Warning]) {
        self.runs += 1;
        let mut label = Some(label);
        let mut named: Option<String> = None;
        let mut seen: Vec<&'static str> = Vec::new();
        for w in ws {
            // A run counts once per flag, with its first warning of that flag.
            if seen.contains(&w.flag) {
                continue;
            }
            seen.push(w.flag);
            match self.flags.iter_mut().find(|(_, f, _)| f.flag == w.flag) {
                Some((_, _, n)) => *n += 1,
                None => {
                    let l = named
                        .get_or_insert_with(|| label.take().map_or_else(String::new, |f| f()))
                        .clone();
                    self.flags.push((l, w.clone(), 1));
                }
            }
        }
    }

    pub fn finish(self) -> Vec<String> {
        let runs = self.runs;
        self.flags
            .into_iter()
            .map(|(label, w, n)| match n {
                1 if runs == 1 => w.to_string(),
                1 => format!("at {label}: {w}"),
                n => format!("at {label} (and {} more of {runs} runs): {w}", n - 1),
            })
            .collect()
    }
}

/// A limit refused `refused` of the run's requests: a warning above [`THROTTLE_SHARE`].
fn limit_warning(
    f: &RunFacts,
    refused: u64,
    what: String,
    origin: &Origin,
    flag: &'static str,
) -> Vec<Warning> {
    let n = f.outcome.totals.invocations;
    if share(refused, n) <= THROTTLE_SHARE {
        return Vec::new();
    }
    vec![Warning::new(
        format!(
            "{what}{} throttled or dead-lettered {}; the bill covers only the requests served",
            origin.note(),
            share_text(refused, n)
        ),
        flag,
    )]
}

/// The account-wide concurrency limit refused requests.
pub fn account_limit(f: &RunFacts) -> Vec<Warning> {
    let Some(limit) = f.cfg.account_concurrency else {
        return Vec::new();
    };
    limit_warning(
        f,
        RefusedBy::of(f.outcome).account,
        format!(
            "the account concurrency limit of {}",
            thousands(limit.into())
        ),
        &f.origins.account_concurrency,
        "--account-concurrency",
    )
}

/// The per-function limit (reserved concurrency / max instances) refused requests.
pub fn function_limit(f: &RunFacts) -> Vec<Warning> {
    let Some(limit) = f.cfg.max_concurrency else {
        return Vec::new();
    };
    limit_warning(
        f,
        RefusedBy::of(f.outcome).function,
        format!(
            "the per-function limit of {} instances",
            thousands(limit.into())
        ),
        &f.origins.max_concurrency,
        "--max-concurrency",
    )
}

/// The scaling-rate limit on new instances refused requests.
pub fn scaling_rate(f: &RunFacts) -> Vec<Warning> {
    let Some(rate) = f.cfg.scaling else {
        return Vec::new();
    };
    limit_warning(
        f,
        RefusedBy::of(f.outcome).scaling_rate,
        format!(
            "the scaling rate of {} new instances per {} s",
            thousands(rate.burst.into()),
            crate::time::us_to_s(rate.refill_every * u64::from(rate.burst))
        ),
        &f.origins.scaling_rate,
        "--scaling-rate",
    )
}

/// The init times are the built-in measured hello-world Lambda table, not the function's own.
pub fn init_default(f: &RunFacts) -> Vec<Warning> {
    if !f.origins.init_is_lambda_table || f.outcome.totals.cold_starts == 0 {
        return Vec::new();
    }
    vec![Warning::new(
        format!(
            "cold starts ({}) used the built-in init times of a measured hello-world Lambda ({}), \
             not this function's",
            percent(share(
                f.outcome.totals.cold_starts,
                f.outcome.totals.invocations
            )) + " %",
            f.cfg.init.describe()
        ),
        "--init-ms",
    )]
}

/// The options of a comparison differ in memory size or CPU, but faasplan does not scale
/// durations with CPU: each option ran the trace's durations as they are. `options` are
/// (name, memory sizes in MB, vCPU of each) of every FaaS option.
pub fn durations_held_constant(options: &[(String, Vec<(u16, f64)>)]) -> Option<Warning> {
    let mut acc = HeldConstant::default();
    for (_, sizes) in options {
        acc.add(sizes);
    }
    acc.finish()
}

/// [`durations_held_constant`], fed one option (or run) at a time: it keeps the first sizes and
/// the distinct ones, not every run's.
#[derive(Debug, Default)]
pub struct HeldConstant {
    first: Option<Vec<(u16, f64)>>,
    differ: bool,
    distinct: Vec<String>,
}

impl HeldConstant {
    /// The (MB, vCPU) sizes one run used.
    pub fn add(&mut self, sizes: &[(u16, f64)]) {
        // A run that executed nothing used no size.
        if sizes.is_empty() {
            return;
        }
        match &self.first {
            None => self.first = Some(sizes.to_vec()),
            Some(first) => self.differ |= first.as_slice() != sizes,
        }
        for (mb, vcpu) in sizes {
            let s = format!("{mb} MB/{} vCPU", crate::report::fmt::sig(*vcpu));
            if !self.distinct.contains(&s) {
                self.distinct.push(s);
            }
        }
    }

    pub fn finish(self) -> Option<Warning> {
        if !self.differ {
            return None;
        }
        let mut distinct = self.distinct;
        let more = distinct.len().saturating_sub(6);
        distinct.truncate(6);
        if more > 0 {
            distinct.push(format!("{more} more"));
        }
        Some(Warning::new(
            format!(
                "the options differ in memory or CPU ({}) but every one ran the trace's durations \
                 unchanged: without a CPU profile faasplan does not scale durations with CPU",
                distinct.join(", ")
            ),
            "--cpu-bound",
        ))
    }
}

/// An option misses its SLO; `failed` lists the objectives it misses, e.g. `p99<=300ms (is
/// 912)`. `flag` is what changes it: `--slo` for an offering, `--fleet` (its size) for a fleet.
pub fn misses_slo(option: &str, failed: &[String], flag: &'static str) -> Warning {
    Warning::new(
        format!(
            "{option} misses the SLO: {}; it is not recommended and never called cheaper",
            failed.join(", ")
        ),
        flag,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_names_the_flag_and_drops_repeats() {
        let w = Warning::new("x happened", "--flag");
        assert_eq!(w.to_string(), "x happened (set --flag)");
        assert_eq!(render(&[w.clone(), w]).len(), 1);
        assert_eq!(percent(0.2612), "26");
        assert_eq!(percent(0.0012), "0.12");
    }

    /// The streaming form a sweep uses gives what the list form gave, run by run.
    #[test]
    fn warnings_across_runs_name_the_first_run_and_count_the_others() {
        let w = |m: &str, f: &'static str| Warning::new(m, f);
        let runs = vec![
            ("p=0".to_string(), vec![]),
            (
                "p=1".to_string(),
                vec![w("x", "--a"), w("y", "--b"), w("x2", "--a")],
            ),
            ("p=2".to_string(), vec![w("x3", "--a")]),
        ];
        assert_eq!(
            across(&runs),
            vec![
                "at p=1 (and 1 more of 3 runs): x (set --a)".to_string(),
                "at p=1: y (set --b)".to_string(),
            ]
        );
        assert_eq!(across(&runs[1..2])[0], "x (set --a)");
        let mut labels = 0;
        let mut acc = Across::default();
        for (l, ws) in &runs {
            acc.add(
                || {
                    labels += 1;
                    l.clone()
                },
                ws,
            );
        }
        assert_eq!(acc.finish(), across(&runs));
        assert_eq!(labels, 1, "a label is made only for a run that comes first");
    }

    #[test]
    fn durations_held_constant_only_when_options_differ() {
        let a = ("a".to_string(), vec![(128, 1.0)]);
        let b = ("b".to_string(), vec![(2048, 1.0)]);
        assert!(durations_held_constant(&[a.clone(), a.clone()]).is_none());
        let w = durations_held_constant(&[a, b]).unwrap();
        assert_eq!(w.flag, "--cpu-bound");
    }
}
