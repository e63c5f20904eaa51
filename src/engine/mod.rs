//! The discrete-event model of a FaaS platform. One engine, parameterised by [`PlatformConfig`]:
//! instances with per-instance concurrency, keep-alive, cold starts, provisioned concurrency,
//! function and account concurrency limits, a scaling-rate token bucket, and trigger semantics
//! over the limit. The engine does no I/O and knows nothing about prices.

pub mod coldstart;
pub mod cpu;
mod driver;
pub mod fleet;
mod function;
pub mod keepalive;
pub mod ps;
mod queue;
mod stream;
mod warmup;

use std::sync::Arc;

pub use coldstart::{InitDist, InitSpec};
pub use cpu::{CpuModel, CpuReference, CpuUse, MeasuredCurve, VcpuRule};
pub(crate) use driver::Runner;
pub use driver::{
    RunOptions, ShardRunError, merge_shards, shard_ids, shard_key, simulate, simulate_mode,
    simulate_shard, simulate_shard_with, simulate_waking_eagerly, simulate_with,
};
pub use keepalive::{FixedKeepAlive, KeepAlivePolicy, KeepAliveSpec};
pub use stream::{
    merge_shards_stream, simulate_shard_stream, simulate_stream, simulate_stream_from,
};
pub(crate) use warmup::WarmPlan;
pub use warmup::cyclic_span;

use crate::error::ConfigError;
use crate::time::{MINUTE, Micros, SECOND};
use crate::trace::facts::TraceFacts;

/// A scaling-rate limit on new instances, per function: a token bucket that holds up to `burst`
/// tokens and refills one token every `refill_every` microseconds (continuously, not banked
/// beyond `burst`). Lambda today: 1,000 per 10 s, i.e. burst 1,000 and one token every 10 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingRate {
    pub burst: u32,
    pub refill_every: Micros,
}

impl ScalingRate {
    pub const LAMBDA: ScalingRate = ScalingRate {
        burst: 1_000,
        refill_every: 10_000,
    };

    /// Parses `N/DURATION`, e.g. `1000/10s` (N new instances per DURATION, burst N), or `none`.
    pub fn parse(s: &str) -> Result<Option<ScalingRate>, ConfigError> {
        let s = s.trim();
        if s == "none" || s == "unlimited" {
            return Ok(None);
        }
        let bad = || {
            ConfigError::field(
                "scaling",
                format!("{s:?}: expected N/DURATION such as 1000/10s, or none"),
            )
        };
        let (n, d) = s.split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let d = crate::time::parse_duration(d).ok_or_else(bad)?;
        if n == 0 || d == 0 {
            return Err(bad());
        }
        Ok(Some(ScalingRate {
            burst: n,
            refill_every: (d / n as u64).max(1),
        }))
    }
}

/// The longest window faasplan simulates (a leap year): a trace's span, `--horizon` and a
/// leading warm-up. With durations (at most 10 days) and waits (at most [`MAX_WAIT`]) a run's
/// per-minute series then hold at most about 400 days of minutes (about 60 MB).
pub const MAX_WINDOW: Micros = 366 * 24 * crate::time::HOUR;

/// The longest a request may wait: an async event's maximum age (Lambda allows 6 h) and a queued
/// request's maximum wait (SQS keeps messages up to 14 days).
pub const MAX_WAIT: Micros = 14 * 24 * crate::time::HOUR;

/// The most provisioned instances a run sets up, over all functions (about 1.3 GB).
pub const MAX_PROVISIONED: u64 = 10_000_000;

/// Retry behaviour for `async` invocations that find no capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncRetry {
    /// First backoff, microseconds (Lambda: 1 s).
    pub initial: Micros,
    /// Backoff cap, microseconds (Lambda: 5 min).
    pub max: Micros,
    /// Maximum event age, microseconds (Lambda: 6 h); after it the event is dead-lettered.
    pub max_age: Micros,
}

impl Default for AsyncRetry {
    fn default() -> Self {
        AsyncRetry {
            initial: SECOND,
            max: 300 * SECOND,
            max_age: 6 * 3600 * SECOND,
        }
    }
}

/// How a replay starts. The platform is empty at t = 0, so the first minutes of a replay see cold
/// starts that the same traffic would not cause in steady state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warmup {
    /// Measure from t = 0: the empty platform's transient is counted and billed.
    None,
    /// Replay the end of the trace first (long enough to cover the keep-alive and the longest
    /// request that could still hold an instance at the end), then measure the whole trace. The
    /// instances alive at the start are those the previous period would have left: right for
    /// traces of whole days (or any trace whose end resembles its start).
    Cyclic,
    /// Simulate from t = 0 but leave the first microseconds (rounded up to whole minutes) out of
    /// every count, latency, bill and monthly extrapolation.
    For(Micros),
}

impl Warmup {
    /// Parses `none`, `cyclic` or a duration (`15m`, `1h`, `900`).
    pub fn parse(s: &str) -> Result<Warmup, ConfigError> {
        match s.trim() {
            "none" | "off" | "0" => Ok(Warmup::None),
            "cyclic" => Ok(Warmup::Cyclic),
            d => match crate::time::parse_duration(d) {
                Some(0) => Ok(Warmup::None),
                Some(us) if us <= 366 * DAY => Ok(Warmup::For(us.div_ceil(MINUTE) * MINUTE)),
                _ => Err(ConfigError::field(
                    "warmup",
                    format!(
                        "{d:?}: expected none, cyclic, or a duration up to 366d such as 15m or 2h"
                    ),
                )),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Warmup::None => "none".to_string(),
            Warmup::Cyclic => "cyclic".to_string(),
            Warmup::For(us) => format!("first {}", crate::time::format_duration(*us)),
        }
    }
}

/// One day, microseconds.
pub const DAY: Micros = 24 * 3600 * SECOND;

/// Provisioned concurrency that changes over time (per function). Without a plan the level is
/// the fixed [`PlatformConfig::provisioned`].
#[derive(Debug, Clone, PartialEq)]
pub enum ProvisionedPlan {
    /// Time-of-day steps, as scheduled scaling actions set them.
    Schedule(Schedule),
    /// Target tracking on provisioned-concurrency utilisation, as Application Auto Scaling does.
    Target(TargetTracking),
}

impl ProvisionedPlan {
    /// The most provisioned instances the plan can hold at once.
    pub fn max_level(&self) -> u32 {
        match self {
            ProvisionedPlan::Schedule(s) => s
                .steps
                .iter()
                .map(|st| st.level)
                .max()
                .unwrap_or(0)
                .max(s.otherwise),
            ProvisionedPlan::Target(t) => t.max,
        }
    }
}

/// `START-END=N` steps in time of day (UTC of the trace's clock; a trace with relative times
/// starts at 00:00), and the level `otherwise`. A step may wrap midnight (`22:00-06:00=5`).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub steps: Vec<ScheduleStep>,
    pub otherwise: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleStep {
    /// Microseconds since midnight.
    pub start: Micros,
    pub end: Micros,
    pub level: u32,
}

impl ScheduleStep {
    fn contains(&self, tod: Micros) -> bool {
        if self.start <= self.end {
            tod >= self.start && tod < self.end
        } else {
            tod >= self.start || tod < self.end
        }
    }
}

fn parse_hhmm(s: &str) -> Option<Micros> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then(|| (h * 60 + m) * 60 * SECOND)
}

impl Schedule {
    /// Parses `'08:00-20:00=50,else=5'` (steps separated by commas; `else` defaults to 0).
    pub fn parse(s: &str) -> Result<Schedule, ConfigError> {
        let bad = |why: &str| {
            ConfigError::field(
                "provisioned_plan.schedule",
                format!("{s:?}: {why} (expected e.g. '08:00-20:00=50,else=5')"),
            )
        };
        let mut steps = Vec::new();
        let mut otherwise = 0;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (range, level) = part.split_once('=').ok_or_else(|| bad("a step needs =N"))?;
            let level: u32 = level
                .trim()
                .parse()
                .map_err(|_| bad("the level must be a whole number"))?;
            if range.trim() == "else" {
                otherwise = level;
                continue;
            }
            let (a, b) = range
                .split_once('-')
                .ok_or_else(|| bad("a step needs START-END"))?;
            let (start, end) = (
                parse_hhmm(a).ok_or_else(|| bad("times are HH:MM"))?,
                parse_hhmm(b).ok_or_else(|| bad("times are HH:MM"))?,
            );
            if start == end {
                return Err(bad("a step must not be empty"));
            }
            steps.push(ScheduleStep {
                start: start % DAY,
                end: end % DAY,
                level,
            });
        }
        if steps.is_empty() {
            return Err(bad("no START-END=N step"));
        }
        Ok(Schedule { steps, otherwise })
    }

    /// The level at time of day `tod` (the first matching step wins).
    pub fn level_at(&self, tod: Micros) -> u32 {
        self.steps
            .iter()
            .find(|s| s.contains(tod % DAY))
            .map_or(self.otherwise, |s| s.level)
    }

    /// Microseconds from time of day `tod` to the next step boundary (> 0).
    pub fn until_next_boundary(&self, tod: Micros) -> Micros {
        let tod = tod % DAY;
        self.steps
            .iter()
            .flat_map(|s| [s.start, s.end])
            .map(|b| if b > tod { b - tod } else { b + DAY - tod })
            .min()
            .unwrap_or(DAY)
    }
}

/// Target tracking on provisioned-concurrency utilisation (busy provisioned instances over
/// provisioned instances, averaged over each evaluation interval).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTracking {
    /// Target utilisation in (0, 1].
    pub target: f64,
    pub min: u32,
    pub max: u32,
    /// Evaluation period, microseconds (Application Auto Scaling: 1 minute).
    pub interval: Micros,
    /// Consecutive periods above target before scaling out (AAS alarm default: 3).
    pub scale_out_after: u32,
    /// Consecutive periods below target before scaling in (AAS alarm default: 15).
    pub scale_in_after: u32,
}

/// Validated platform parameters. The engine trusts every field.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// Memory for invocations whose trace row has none, MB.
    pub memory_mb: u16,
    /// Requests one instance serves at once (Lambda 1; Cloud Run default 80).
    pub per_instance_concurrency: u32,
    /// Pre-initialised instances per function, used first and never reclaimed.
    pub provisioned: u32,
    /// A provisioned level that changes over time; overrides `provisioned` when set.
    pub provisioned_plan: Option<ProvisionedPlan>,
    pub keep_alive: Arc<dyn KeepAlivePolicy>,
    /// Optional maximum instance lifetime: an instance older than this is reclaimed as soon as it
    /// is idle instead of being kept warm. Does not apply to provisioned instances.
    pub max_lifetime: Option<Micros>,
    /// Per-function limit on instances in use (reserved concurrency / max instances).
    pub max_concurrency: Option<u32>,
    /// Account-wide limit on instances in use, shared by all functions (Lambda default 1,000).
    pub account_concurrency: Option<u32>,
    /// Per-function scaling-rate limit on new instances.
    pub scaling: Option<ScalingRate>,
    pub init: InitDist,
    /// How long a `queue` request may wait for capacity before it is throttled, microseconds.
    pub queue_max_wait: Micros,
    pub retry: AsyncRetry,
    /// Window end; arrivals at or after it are not simulated. `None`: the end of the minute in
    /// which the last event falls.
    pub horizon: Option<Micros>,
    /// How the replay starts (see [`Warmup`]).
    pub warmup: Warmup,
    /// When true, every row runs (and is billed) at `memory_mb`, whatever its own `memory_mb`
    /// (`--memory-mb` given explicitly); the row's memory stays the CPU reference.
    pub memory_override: bool,
    /// How durations scale with CPU; `None`: replayed as traced.
    pub cpu: Option<CpuModel>,
    /// Function timeout: an execution longer than this is cut at it (billed up to it, counted as
    /// timed out, answered as an error). `None`: no timeout.
    pub timeout: Option<Micros>,
    /// The billing granularities to sum executions, inits and active periods under: those of the
    /// price sheets the run will be billed on (`Offering::usage_spec`). Default: none (raw sums).
    pub usage: crate::outcome::UsageSpec,
    pub seed: u64,
    /// Settings some functions get instead of these: `(pattern, config)`, a name or a glob (`*`,
    /// `?`) and the whole configuration its functions run with (built by the plan layer, which
    /// knows the offering). [`PlatformConfig::validate_for`] resolves them against the trace: an
    /// exact name wins over a glob; a function two globs match is an error.
    pub per_function: Vec<(String, Arc<PlatformConfig>)>,
    /// For each function of the trace, its entry in `per_function` (`u32::MAX`: these settings);
    /// filled by [`PlatformConfig::validate_for`].
    pub resolved: Arc<Vec<u32>>,
}

/// True if `name` matches `pattern`: `*` any run of characters, `?` any one.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative wildcard matching with one backtrack point (the last `*`).
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

impl PlatformConfig {
    /// The configuration function `f` of the trace runs with (its per-function settings, once
    /// resolved by [`PlatformConfig::validate_for`]).
    pub fn for_function(&self, f: usize) -> &PlatformConfig {
        match self.resolved.get(f) {
            Some(&i) if i != u32::MAX => self.per_function.get(i as usize).map_or(self, |e| &e.1),
            _ => self,
        }
    }

    /// One sentence for the outputs' notes: which functions got which settings of their own
    /// (`None` without per-function settings, or when they do not resolve against `trace`).
    pub fn per_function_note(&self, trace: &(impl TraceFacts + ?Sized)) -> Option<String> {
        if self.per_function.is_empty() {
            return None;
        }
        let names: Vec<&str> = trace.functions().iter().map(|f| f.name.as_str()).collect();
        let resolved = self.resolve_functions(&names).ok()?;
        let parts: Vec<String> = self
            .per_function
            .iter()
            .enumerate()
            .map(|(i, (pattern, c))| {
                let got: Vec<&str> = names
                    .iter()
                    .zip(resolved.iter())
                    .filter(|&(_, &r)| r == i as u32)
                    .map(|(n, _)| *n)
                    .collect();
                let mut what = Vec::new();
                if c.memory_mb != self.memory_mb || c.memory_override != self.memory_override {
                    what.push(format!("{} MB", c.memory_mb));
                }
                if c.max_provisioned() != self.max_provisioned() || c.provisioned_plan.is_some() {
                    what.push(format!("provisioned {}", c.max_provisioned()));
                }
                if c.max_concurrency != self.max_concurrency {
                    what.push(match c.max_concurrency {
                        Some(m) => format!("max concurrency {m}"),
                        None => "no concurrency limit".into(),
                    });
                }
                if c.timeout != self.timeout {
                    what.push(match c.timeout {
                        Some(t) => format!("timeout {} s", t as f64 / 1e6),
                        None => "no timeout".into(),
                    });
                }
                if c.init.describe() != self.init.describe() {
                    what.push(format!("init {}", c.init.describe()));
                }
                if c.cpu.as_ref().map(|m| m.bound) != self.cpu.as_ref().map(|m| m.bound) {
                    what.push(match &c.cpu {
                        Some(m) => format!("CPU-bound fraction {}", m.bound),
                        None => "durations as traced".into(),
                    });
                }
                let which = if got.len() == 1 && got[0] == pattern {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        if got.is_empty() {
                            "none: another entry wins".to_string()
                        } else {
                            got.join(", ")
                        }
                    )
                };
                format!(
                    "{pattern}{which}: {}",
                    if what.is_empty() {
                        "the run's settings".to_string()
                    } else {
                        what.join(", ")
                    }
                )
            })
            .collect();
        Some(format!("per-function settings: {}", parts.join("; ")))
    }

    /// Resolves `per_function` against the function names: each function's entry (its exact
    /// name, else the one glob that matches it), or an error naming a pattern that matches no
    /// function, or a function two globs match.
    fn resolve_functions(&self, names: &[&str]) -> Result<Vec<u32>, ConfigError> {
        for (pattern, _) in &self.per_function {
            if !names.iter().any(|n| glob_match(pattern, n)) {
                return Err(ConfigError::field(
                    "per_function",
                    format!(
                        "{pattern:?} matches no function of the trace (it has {}{})",
                        names
                            .iter()
                            .take(5)
                            .map(|n| format!("{n:?}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if names.len() > 5 { ", ..." } else { "" }
                    ),
                ));
            }
        }
        let is_glob = |p: &str| p.contains(['*', '?']);
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(i) = self.per_function.iter().rposition(|(p, _)| p == n) {
                out.push(i as u32);
                continue;
            }
            let globs: Vec<usize> = (0..self.per_function.len())
                .filter(|&i| {
                    let p = &self.per_function[i].0;
                    is_glob(p) && glob_match(p, n)
                })
                .collect();
            match globs.as_slice() {
                [] => out.push(u32::MAX),
                [i] => out.push(*i as u32),
                [a, b, ..] => {
                    return Err(ConfigError::field(
                        "per_function",
                        format!(
                            "function {n:?} matches both {:?} and {:?}, and which settings it \
                             gets would depend on the order: give it its own NAME=VALUE (it \
                             then takes the fields it does not set from the globs), or make the \
                             globs disjoint",
                            self.per_function[*a].0, self.per_function[*b].0
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Lambda-like defaults: 1 request per instance, 10-minute keep-alive... see the CLI for each.
    pub fn lambda_defaults(init: InitDist) -> PlatformConfig {
        PlatformConfig {
            memory_mb: 128,
            per_instance_concurrency: 1,
            provisioned: 0,
            provisioned_plan: None,
            keep_alive: Arc::new(FixedKeepAlive(600 * SECOND)),
            max_lifetime: None,
            max_concurrency: None,
            account_concurrency: Some(1_000),
            scaling: Some(ScalingRate::LAMBDA),
            init,
            queue_max_wait: 6 * 3600 * SECOND,
            retry: AsyncRetry::default(),
            horizon: None,
            warmup: Warmup::None,
            memory_override: false,
            cpu: None,
            timeout: None,
            usage: crate::outcome::UsageSpec::default(),
            seed: 0,
            per_function: Vec::new(),
            resolved: Arc::new(Vec::new()),
        }
    }

    /// The most provisioned instances per function at any time.
    pub fn max_provisioned(&self) -> u32 {
        self.provisioned_plan
            .as_ref()
            .map_or(self.provisioned, ProvisionedPlan::max_level)
    }

    /// The CPU use of `outcome`, a run of this configuration on `trace` (`None` without a CPU
    /// profile that says which part used the CPU, or when rows measured at different sizes all
    /// ran at one explicit size: their references differ and the run does not record which ran
    /// how long). When requests share an instance's vCPUs (per-instance concurrency above 1),
    /// the CPU work is what the engine recorded; otherwise it follows from each execution's time.
    pub fn cpu_use(
        &self,
        outcome: &crate::outcome::Outcome,
        trace: &(impl TraceFacts + ?Sized),
    ) -> Option<CpuUse> {
        let cpu = self.cpu.as_ref()?;
        let t = &outcome.totals;
        let exec: Vec<(u16, f64)> = t
            .usage
            .iter()
            .map(|u| {
                let us = u.on_demand.raw_us + u.provisioned.raw_us;
                (u.memory_mb, us as f64 / 1e6)
            })
            .collect();
        let loaded = (t.on_demand_busy_us + t.provisioned_busy_us) as f64 / 1e6;
        if function::share::shares(Some(cpu), self.per_instance_concurrency) {
            // Stretched time says nothing about the work: take the engine's record of it.
            return cpu.usage_of_work(&exec, loaded, t.cpu_work_us as f64 / 1e6);
        }
        // A measured curve reads the share from the size run at; only the Amdahl form needs
        // where the rows were measured.
        let row_mb = if self.memory_override
            && cpu.measured.is_none()
            && matches!(cpu.reference, CpuReference::RowMemory(_))
        {
            let sizes = trace.row_memory_sizes();
            let &[first] = sizes.as_slice() else {
                return None;
            };
            // Rows without memory_mb were measured at the size they run at.
            (first != 0).then_some(first)
        } else {
            None
        };
        cpu.usage(&exec, loaded, row_mb)
    }

    /// The note every output carries about durations and CPU, for a run on `trace`.
    pub fn cpu_note(&self, trace: &(impl TraceFacts + ?Sized)) -> String {
        match &self.cpu {
            Some(m) => {
                let mut note = m.describe();
                if matches!(m.reference, CpuReference::RowMemory(_)) && rows_without_memory(trace) {
                    note.push_str(&format!(
                        "; rows without memory_mb were measured at the size they run at ({} MB,                          {:.3} vCPU): give --cpu-ref to say otherwise",
                        self.memory_mb,
                        m.platform.vcpu(self.memory_mb)
                    ));
                }
                note
            }
            None => "durations are replayed as traced: they do not change with memory or CPU \
                     (--cpu-bound F makes the CPU-bound part scale)"
                .to_string(),
        }
    }

    /// Checks the configuration against the trace it will run on (the account limit holds every
    /// function's provisioned instances; a CPU profile measured at each row's memory needs every
    /// row to have one) and returns the [`ValidConfig`] that [`simulate`] takes.
    pub fn validate_for(
        &self,
        trace: &(impl TraceFacts + ?Sized),
    ) -> Result<ValidConfig, ConfigError> {
        self.validate(trace.functions().len())?;
        let (last, last_f) = trace.last().unwrap_or((0, 0));
        if last > MAX_WINDOW && self.horizon.is_none_or(|h| h > MAX_WINDOW) {
            let f = trace
                .functions()
                .get(last_f as usize)
                .map_or("", |m| m.name.as_str());
            return Err(ConfigError::field(
                "trace",
                format!(
                    "the trace spans {:.0} days (its last arrival is function {f:?}'s), longer \
                     than the longest window faasplan simulates, {} days: is a timestamp wrong? \
                     (--horizon DURATION simulates only the start)",
                    last as f64 / (24 * crate::time::HOUR) as f64,
                    MAX_WINDOW / (24 * crate::time::HOUR),
                ),
            ));
        }
        if let Some(cpu) = &self.cpu
            && cpu.measured.is_some()
        {
            self.check_measured_range(cpu, trace)?;
        }
        let mut valid = self.clone();
        if !self.per_function.is_empty() {
            let names: Vec<&str> = trace.functions().iter().map(|f| f.name.as_str()).collect();
            valid.resolved = Arc::new(self.resolve_functions(&names)?);
            // Every function's own provisioned level must fit the account limit and the run's
            // bound on set-up work.
            let need: u64 = (0..names.len())
                .map(|f| u64::from(valid.for_function(f).max_provisioned()))
                .sum();
            if need > MAX_PROVISIONED {
                return Err(ConfigError::field(
                    "provisioned",
                    format!(
                        "{need} provisioned instances over the functions is more than the \
                         {MAX_PROVISIONED} a run may set up"
                    ),
                ));
            }
            if let Some(a) = self.account_concurrency
                && need > u64::from(a)
            {
                return Err(ConfigError::field(
                    "account_concurrency",
                    format!("{a} cannot hold the functions' {need} provisioned instances together"),
                ));
            }
        }
        Ok(ValidConfig(valid))
    }

    /// A measured curve covers the CPU of every size a row runs at and of every reference.
    fn check_measured_range(
        &self,
        cpu: &CpuModel,
        trace: &(impl TraceFacts + ?Sized),
    ) -> Result<(), ConfigError> {
        let Some(m) = &cpu.measured else {
            return Ok(());
        };
        for row_mb in trace.row_memory_sizes() {
            let run = if row_mb == 0 || self.memory_override {
                self.memory_mb
            } else {
                row_mb
            };
            let checks = [
                ("runs at", run, Some(cpu.platform.vcpu(run))),
                ("was measured at", row_mb, cpu.reference_vcpu(row_mb)),
            ];
            for (what, mb, c) in checks {
                if let Some(why) = c.and_then(|c| m.out_of_range(c)) {
                    return Err(ConfigError::field(
                        "cpu.measured.range",
                        format!("a row that {what} {mb} MB: {why}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks the combination of settings for `functions` functions. Errors name the field
    /// (`provisioned_plan.target.interval`), never a flag. [`Self::validate_for`] also checks
    /// what depends on the trace and returns the config [`simulate`] takes.
    pub fn validate(&self, functions: usize) -> Result<(), ConfigError> {
        match &self.provisioned_plan {
            Some(ProvisionedPlan::Target(t)) => t.validate()?,
            Some(ProvisionedPlan::Schedule(s)) => s.validate()?,
            None => {}
        }
        if self.provisioned_plan.is_some() && self.provisioned > 0 {
            return Err(ConfigError::field(
                "provisioned",
                "give either a fixed provisioned level or a schedule/target, not both",
            ));
        }
        // Each provisioned instance is set up before the run (about 130 bytes each).
        let provisioned = u64::from(self.max_provisioned()) * functions as u64;
        if provisioned > MAX_PROVISIONED {
            return Err(ConfigError::field(
                "provisioned",
                format!(
                    "{} provisioned instances for each of {functions} functions ({provisioned}) \
                     is more than the {MAX_PROVISIONED} a run may set up",
                    self.max_provisioned()
                ),
            ));
        }
        if self.per_instance_concurrency == 0 {
            return Err(ConfigError::field(
                "per_instance_concurrency",
                "must be at least 1",
            ));
        }
        if self.memory_mb == 0 {
            return Err(ConfigError::field("memory_mb", "must be at least 1"));
        }
        if self.max_lifetime == Some(0) {
            return Err(ConfigError::field("max_lifetime", "must be greater than 0"));
        }
        if let Some(m) = self.max_concurrency
            && m < self.max_provisioned()
        {
            return Err(ConfigError::field(
                "max_concurrency",
                format!(
                    "{m} is below the provisioned level {}: provisioned instances count against the function's limit",
                    self.max_provisioned()
                ),
            ));
        }
        if self.account_concurrency == Some(0) {
            return Err(ConfigError::field(
                "account_concurrency",
                "must be at least 1 (or none)",
            ));
        }
        if let Some(a) = self.account_concurrency {
            let need = self.max_provisioned() as u64 * functions as u64;
            if need > a as u64 {
                return Err(ConfigError::field(
                    "account_concurrency",
                    format!(
                        "{a} cannot hold {} provisioned instances for each of {functions} functions ({need} instances)",
                        self.max_provisioned()
                    ),
                ));
            }
        }
        if let Some(r) = self.scaling
            && (r.burst == 0 || r.refill_every == 0)
        {
            return Err(ConfigError::field(
                "scaling",
                format!(
                    "burst and refill_every must be > 0, got {} and {} us",
                    r.burst, r.refill_every
                ),
            ));
        }
        // A zero backoff would retry at the same instant forever.
        if self.retry.initial == 0 || self.retry.max < self.retry.initial {
            return Err(ConfigError::field(
                "retry",
                format!(
                    "need 0 < initial <= max backoff, got {} us and {} us",
                    self.retry.initial, self.retry.max
                ),
            ));
        }
        if self.horizon == Some(0) {
            return Err(ConfigError::field("horizon", "must be greater than 0"));
        }
        // Spans are bounded so that per-minute series stay small (a year of minutes is about
        // 60 MB) and a typo cannot ask for terabytes.
        let long = |field: &'static str, us: Micros, max: Micros, what: &str| {
            if us > max {
                Err(ConfigError::field(
                    field,
                    format!(
                        "{} is longer than {what} {}",
                        crate::time::format_duration(us),
                        crate::time::format_duration(max)
                    ),
                ))
            } else {
                Ok(())
            }
        };
        if let Some(h) = self.horizon {
            long(
                "horizon",
                h,
                MAX_WINDOW,
                "the longest window faasplan simulates,",
            )?;
        }
        if let Warmup::For(w) = self.warmup {
            long(
                "warmup",
                w,
                MAX_WINDOW,
                "the longest window faasplan simulates,",
            )?;
        }
        long(
            "retry",
            self.retry.max_age,
            MAX_WAIT,
            "the longest an event may wait to be retried,",
        )?;
        long(
            "queue_max_wait",
            self.queue_max_wait,
            MAX_WAIT,
            "the longest a queued request may wait,",
        )?;
        if let (Warmup::For(w), Some(h)) = (self.warmup, self.horizon)
            && w >= h
        {
            return Err(ConfigError::field(
                "warmup",
                format!(
                    "{} leaves nothing of the {} window (--horizon) to measure",
                    self.warmup.describe(),
                    crate::time::format_duration(h)
                ),
            ));
        }
        if let Some(m) = &self.cpu {
            if !(m.bound.is_finite() && (0.0..=1.0).contains(&m.bound)) {
                return Err(ConfigError::field(
                    "cpu.bound",
                    format!(
                        "{}: must be between 0 and 1 (the CPU-bound fraction of a duration)",
                        m.bound
                    ),
                ));
            }
            if !(m.threads.is_finite() && m.threads >= 1.0) {
                return Err(ConfigError::field(
                    "cpu.threads",
                    format!("{}: must be at least 1", m.threads),
                ));
            }
        }
        if self.timeout == Some(0) {
            return Err(ConfigError::field("timeout", "must be greater than 0"));
        }
        Ok(())
    }
}

impl TargetTracking {
    /// `TARGET[@MIN..MAX]` (`--provisioned-target`): evaluated every minute, out after 3 periods
    /// above the target, in after 15 below (Application Auto Scaling's defaults); MIN..MAX
    /// defaults to 1..100. The bounds are checked by validation, not here.
    pub fn parse(s: &str) -> Result<TargetTracking, ConfigError> {
        let bad = || {
            ConfigError::field(
                "provisioned_plan.target",
                format!("{s:?}: expected TARGET[@MIN..MAX], e.g. 0.7 or 0.7@2..50"),
            )
        };
        let (target, range) = match s.split_once('@') {
            Some((t, r)) => (t, Some(r)),
            None => (s, None),
        };
        let target: f64 = target.trim().parse().map_err(|_| bad())?;
        let (min, max) = match range {
            Some(r) => {
                let (a, b) = r.split_once("..").ok_or_else(bad)?;
                (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                )
            }
            None => (1, 100),
        };
        Ok(TargetTracking {
            target,
            min,
            max,
            interval: 60 * SECOND,
            scale_out_after: 3,
            scale_in_after: 15,
        })
    }

    /// A zero interval would evaluate at the same instant forever.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.target > 0.0 && self.target <= 1.0) {
            return Err(ConfigError::field(
                "provisioned_plan.target.target",
                format!("{}: the target utilisation must be in (0, 1]", self.target),
            ));
        }
        if self.min > self.max || self.max == 0 {
            return Err(ConfigError::field(
                "provisioned_plan.target.max",
                format!("need MIN <= MAX, MAX >= 1 (got {}..{})", self.min, self.max),
            ));
        }
        if self.interval == 0 {
            return Err(ConfigError::field(
                "provisioned_plan.target.interval",
                "the evaluation interval must be > 0, got 0",
            ));
        }
        if self.scale_out_after == 0 || self.scale_in_after == 0 {
            return Err(ConfigError::field(
                "provisioned_plan.target.scale_after",
                format!(
                    "scale-out and scale-in need at least 1 period each, got {} and {}",
                    self.scale_out_after, self.scale_in_after
                ),
            ));
        }
        Ok(())
    }
}

impl Schedule {
    /// What [`Schedule::parse`] guarantees, for a schedule built in code.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.steps.is_empty() {
            return Err(ConfigError::field(
                "provisioned_plan.schedule",
                "no START-END=N step",
            ));
        }
        for st in &self.steps {
            if st.start >= DAY || st.end >= DAY {
                return Err(ConfigError::field(
                    "provisioned_plan.schedule",
                    format!(
                        "a step's times are times of day (below 24:00), got {} us..{} us",
                        st.start, st.end
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// True if some row of `trace` has no `memory_mb`.
fn rows_without_memory(trace: &(impl TraceFacts + ?Sized)) -> bool {
    trace.row_memory_sizes().contains(&0)
}

/// Checks that runs compared on one trace agree on where its durations were measured. A row
/// without `memory_mb` is taken as measured at the size it runs at (the CPU reference defaults
/// to the run's own CPU), which is sound for one run and for runs on the same CPU, but would
/// hide the very change a memory sweep or a comparison of offerings measures: runs on
/// different CPUs each replaying the traced duration. Those need an explicit reference
/// (`cpu.reference`, `--cpu-ref`).
pub fn check_cpu_reference(
    configs: &[&PlatformConfig],
    trace: &(impl TraceFacts + ?Sized),
) -> Result<(), ConfigError> {
    let vcpus: Vec<(u16, f64)> = configs
        .iter()
        .filter_map(|c| {
            let m = c.cpu.as_ref()?;
            matches!(m.reference, CpuReference::RowMemory(_))
                .then(|| (c.memory_mb, m.platform.vcpu(c.memory_mb)))
        })
        .collect();
    let Some(&(mb0, v0)) = vcpus.first() else {
        return Ok(());
    };
    let Some(&(mb1, v1)) = vcpus.iter().find(|(_, v)| (v - v0).abs() > 1e-9) else {
        return Ok(());
    };
    let Some(f) = trace.first_without_row_memory() else {
        return Ok(());
    };
    Err(ConfigError::field(
        "cpu.reference",
        format!(
            "function {:?} has rows without memory_mb, and the runs have different CPUs ({mb0} \
             MB: {v0:.3} vCPU; {mb1} MB: {v1:.3} vCPU), so where its durations were measured \
             decides the answer: give --cpu-ref (e.g. 1vcpu, 512MB or 512MB@aws-lambda-x86)",
            trace
                .functions()
                .get(f as usize)
                .map_or("", |m| m.name.as_str())
        ),
    ))
}

/// A [`PlatformConfig`] checked by [`PlatformConfig::validate_for`]: the only configuration
/// [`simulate`] takes, so a library caller cannot run the engine on settings it does not trust
/// (a zero target-tracking interval would never advance the clock). Read it through `Deref`.
#[derive(Debug, Clone)]
pub struct ValidConfig(PlatformConfig);

impl ValidConfig {
    /// The same configuration with another seed (the seed does not affect validity).
    pub fn with_seed(&self, seed: u64) -> ValidConfig {
        let mut c = self.0.clone();
        c.seed = seed;
        ValidConfig(c)
    }

    pub fn into_inner(self) -> PlatformConfig {
        self.0
    }
}

impl std::ops::Deref for ValidConfig {
    type Target = PlatformConfig;
    fn deref(&self) -> &PlatformConfig {
        &self.0
    }
}
