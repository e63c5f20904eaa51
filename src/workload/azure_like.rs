//! An Azure-scale synthetic trace in the Azure Functions 2019 layout (`generate --azure-like`):
//! per-minute invocation counts per function, one file per day, with the durations-percentiles and
//! app-memory files beside them, drawn so that the workload's distributions follow the published
//! characterisation. The benchmark input for streaming and sharding (a 46,000-function day, a
//! 14-day fortnight); `faasplan simulate` reads it back with `--next-day`, `--durations` and
//! `--memory`.
//!
//! Source ("the paper"): Shahrad et al., "Serverless in the Wild: Characterizing and Optimizing
//! the Serverless Workload at a Large Cloud Provider", USENIX ATC 2020, and the dataset's
//! description (`Azure/AzurePublicDataset`, `AzureFunctionsDataset2019.md`). What each part draws,
//! the published number it rests on, and what is assumed:
//!
//! - **Functions per application** (the paper's Fig. 1): 1 function 54 %, 2: 16 %, 3: 10 %,
//!   4–5: 8 %, 6–10: 7 %, 11 or more: 5 %, 100 or more: 0.04 % of applications. *Assumed*: sizes
//!   uniform inside a bucket; from 11 up a Pareto tail whose exponent puts 0.04 % of all apps at
//!   100+ ([`TAIL_ALPHA`]), capped at 2,000 functions. Each application has its own owner.
//! - **Triggers** (Fig. 2), % of functions / % of invocations: HTTP 55 / 36, queue 15 / 34,
//!   event 2 / 25, timer 16 / 2, orchestration 7 / 2, others 5 / 1. *Assumed*: the paper's
//!   "others" row is split evenly between the dataset's `storage` and `others` groups. Each
//!   function's trigger is drawn independently with the function shares; the invocation shares
//!   come from *which* applications get the high rates (below).
//! - **Invocations per application and day** (Fig. 5a and its text): 45 % of applications are invoked at
//!   most once per hour on average (≤ 24 a day), 81 % at most once per minute (≤ 1,440 a day), and
//!   rates span 8 orders of magnitude. The daily rate of an application is a lognormal truncated
//!   to 8 decades starting at once per fortnight (1/14 a day, the rarest an application of the
//!   14-day trace can be), with (μ, σ) solved so that the truncated CDF passes exactly through
//!   the two published points ([`RATE_MU`], [`RATE_SIGMA`]). *Assumed*: the lognormal shape
//!   between and beyond the points. Check (Fig. 5b): the paper's 18.6 % most popular applications
//!   carry 99.6 % of invocations; this distribution gives 99.54 % with no parameter fitted to it.
//! - **Popularity by trigger**: the application rates (drawn independently of everything else)
//!   are paired with the applications greedily, busiest first, each time picking the application
//!   that best fills the invocation share each trigger still lacks; inside an application the rate
//!   is split among its functions in proportion to `(invocation share / function share)` of the
//!   function's trigger times a lognormal(0, 1) factor (*assumed*). The pairing leaves both
//!   marginals (trigger per function, rate per application) exactly as drawn.
//! - **Over the day** (Fig. 4 shows a diurnal cycle): *assumed* rate × (1 + 0.3 cos(2π(t −
//!   peak)/day)) with each application's peak drawn around 14:00 (σ 3 h); counts per minute are
//!   Poisson. Timer functions are periodic instead (period = 1 day / rate, a random phase),
//!   the extreme of the paper's observation that timers have an inter-arrival CV near 0 (Fig. 6).
//! - **Execution time** (Fig. 7 and its text): a function's average execution time is lognormal with
//!   μ = −0.38 and σ = 2.36 (in ln seconds, the paper's fit), so half the functions average under
//!   a second. *Assumed*: the percentiles of a function's 30-second averages are lognormal around
//!   that mean with σ 0.6, p0 and p100 taken at the 0.1 % and 99.9 % points; every value within
//!   [1 ms, 1 day].
//! - **Memory** (Fig. 8 and its text): an application's average allocated memory has half the
//!   applications at most 170 MB and 90 % at most 400 MB: a lognormal through those two points.
//!   *Assumed*: its percentiles lognormal around the average with σ 0.15; `SampleCount` is 12 per
//!   minute with an invocation (the runtime samples every 5 s); an application with no invocation
//!   in a day has no memory row that day.
//!
//! Everything comes from `--seed` through [`seed::derive`]: stream 0 draws the population, stream
//! `1 + d` a function's counts on day `d` (keyed by the function's index), so a file does not
//! depend on anything but (seed, functions, days) and a day's counts not on the other days.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rand::distr::Distribution;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use statrs::distribution::{ContinuousCDF, Normal, Poisson};

use crate::dist::normal_pair;
use crate::error::{ConfigError, WriteError};
use crate::export::write_atomic;
use crate::seed::{self, Purpose};

/// The most functions `--functions` takes: 1,000,000 (about 20 times the released trace's
/// 46,000 a day). Checked before anything is allocated.
pub const MAX_FUNCTIONS: u64 = 1_000_000;
/// The most days `--azure-like` takes: 99 (the files are numbered `d01`..`d99`). Checked before
/// anything is allocated.
pub const MAX_DAYS: u64 = 99;
/// Minutes in one day file.
pub const MINUTES: usize = 1440;

/// The rarest application rate, per day: once per fortnight.
pub const RATE_MIN_PER_DAY: f64 = 1.0 / 14.0;
/// The span of application rates, in decades (the paper's "8 orders of magnitude").
pub const RATE_DECADES: f64 = 8.0;
/// μ of ln(invocations per day) of an application, before truncation to
/// [`RATE_MIN_PER_DAY`], × 10^[`RATE_DECADES`]; with [`RATE_SIGMA`] the truncated CDF is 0.45 at
/// 24 a day and 0.81 at 1,440 a day (solved by Newton's method; checked by a unit test).
pub const RATE_MU: f64 = 3.190_408_563_945_269;
/// σ of ln(invocations per day) of an application; see [`RATE_MU`].
pub const RATE_SIGMA: f64 = 4.356_419_908_857_663;

/// The exponent of the Pareto tail of functions per application from 11 up:
/// P(≥ 100 | ≥ 11) = 0.04 % / 5 % (Fig. 1), so α = ln(125) / ln(100/11).
pub const TAIL_ALPHA: f64 = 2.187_5;
/// The largest application drawn (the paper shows a couple of applications with 2,000+
/// functions; the tail stops there).
pub const MAX_APP_FUNCTIONS: u32 = 2000;

/// ln seconds: the average execution time of a function is lognormal(μ, σ) (the paper's fit,
/// Fig. 7).
pub const DURATION_MU: f64 = -0.38;
/// See [`DURATION_MU`].
pub const DURATION_SIGMA: f64 = 2.36;
/// Spread (σ of ln) of a function's 30-second average execution times around its mean (assumed).
pub const DURATION_SPREAD: f64 = 0.6;

/// MB: half the applications allocate at most this on average (Fig. 8).
pub const MEMORY_P50_MB: f64 = 170.0;
/// MB: 90 % of applications allocate at most this on average (Fig. 8).
pub const MEMORY_P90_MB: f64 = 400.0;
/// Spread (σ of ln) of an application's per-minute memory averages (assumed).
pub const MEMORY_SPREAD: f64 = 0.15;

/// Relative amplitude of the daily cycle (assumed).
pub const DIURNAL_AMPLITUDE: f64 = 0.3;
/// Minute of the day around which applications peak (14:00), and the σ of that peak, minutes
/// (assumed).
const PEAK_MINUTE: f64 = 14.0 * 60.0;
const PEAK_SIGMA_MIN: f64 = 3.0 * 60.0;

/// The trigger groups of the Azure 2019 dataset (its `Trigger` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AzureTrigger {
    Http,
    Queue,
    Event,
    Timer,
    Orchestration,
    Storage,
    Others,
}

impl AzureTrigger {
    /// The name in the `Trigger` column.
    pub fn name(self) -> &'static str {
        match self {
            AzureTrigger::Http => "http",
            AzureTrigger::Queue => "queue",
            AzureTrigger::Event => "event",
            AzureTrigger::Timer => "timer",
            AzureTrigger::Orchestration => "orchestration",
            AzureTrigger::Storage => "storage",
            AzureTrigger::Others => "others",
        }
    }

    /// The group named `s` (as written in the `Trigger` column).
    pub fn named(s: &str) -> Option<AzureTrigger> {
        TRIGGERS.iter().map(|t| t.trigger).find(|t| t.name() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A trigger group's published shares (the paper's Fig. 2), percent.
#[derive(Debug, Clone, Copy)]
pub struct TriggerShare {
    pub trigger: AzureTrigger,
    /// % of functions with this trigger.
    pub functions_pct: f64,
    /// % of invocations to functions with this trigger.
    pub invocations_pct: f64,
}

const fn share(trigger: AzureTrigger, functions_pct: f64, invocations_pct: f64) -> TriggerShare {
    TriggerShare {
        trigger,
        functions_pct,
        invocations_pct,
    }
}

/// The trigger mix (Fig. 2), in [`AzureTrigger`] order; each column sums to 100. The paper's
/// "others" (5 % / 1 %) is split evenly between `storage` and `others` (assumed).
pub const TRIGGERS: [TriggerShare; 7] = [
    share(AzureTrigger::Http, 55.0, 36.0),
    share(AzureTrigger::Queue, 15.0, 34.0),
    share(AzureTrigger::Event, 2.0, 25.0),
    share(AzureTrigger::Timer, 16.0, 2.0),
    share(AzureTrigger::Orchestration, 7.0, 2.0),
    share(AzureTrigger::Storage, 2.5, 0.5),
    share(AzureTrigger::Others, 2.5, 0.5),
];

/// Functions per application (Fig. 1): (smallest, largest, share of applications). The last
/// bucket's sizes follow the Pareto tail ([`TAIL_ALPHA`]) rather than a uniform draw.
const APP_SIZES: [(u32, u32, f64); 6] = [
    (1, 1, 0.54),
    (2, 2, 0.16),
    (3, 3, 0.10),
    (4, 5, 0.08),
    (6, 10, 0.07),
    (11, MAX_APP_FUNCTIONS, 0.05),
];

/// What to generate, validated: 1..=[`MAX_DAYS`] days of 1..=[`MAX_FUNCTIONS`] functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    days: u32,
    functions: u32,
    seed: u64,
}

impl Options {
    /// Checks the sizes before anything is allocated; errors name the field (`days`,
    /// `functions`).
    pub fn new(days: u64, functions: u64, seed: u64) -> Result<Options, ConfigError> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(ConfigError::field(
                "days",
                format!("{days} days: must be from 1 to {MAX_DAYS}"),
            ));
        }
        if !(1..=MAX_FUNCTIONS).contains(&functions) {
            return Err(ConfigError::field(
                "functions",
                format!("{functions} functions: must be from 1 to {MAX_FUNCTIONS}"),
            ));
        }
        Ok(Options {
            days: days as u32,
            functions: functions as u32,
            seed,
        })
    }

    pub fn days(&self) -> u32 {
        self.days
    }

    pub fn functions(&self) -> u32 {
        self.functions
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// A 256-bit identifier, written as 64 hex digits like the dataset's HMAC-SHA256 hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash([u64; 4]);

impl Hash {
    fn draw(rng: &mut Pcg64Mcg) -> Hash {
        Hash([rng.random(), rng.random(), rng.random(), rng.random()])
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for w in self.0 {
            for k in (0..16).rev() {
                out.push(HEX[((w >> (4 * k)) & 0xf) as usize]);
            }
        }
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for w in self.0 {
            write!(f, "{w:016x}")?;
        }
        Ok(())
    }
}

/// One application of the population.
#[derive(Debug, Clone)]
pub struct App {
    pub owner: Hash,
    pub hash: Hash,
    /// Its functions: indices into [`Population::functions`].
    pub functions: std::ops::Range<u32>,
    /// Expected invocations per day, all functions together.
    pub rate_per_day: f64,
    /// MB: average allocated memory.
    pub memory_mb: f64,
    /// Minute of the day (0..1440) at which its traffic peaks.
    pub peak_minute: u16,
}

/// One function of the population.
#[derive(Debug, Clone)]
pub struct Function {
    /// Index into [`Population::apps`].
    pub app: u32,
    pub hash: Hash,
    pub trigger: AzureTrigger,
    /// Expected invocations per day.
    pub rate_per_day: f64,
    /// ms: average execution time.
    pub duration_ms: f64,
    /// Minutes: a timer's first firing falls in `[0, period)`, measured from the first day's
    /// minute 0 (unused for other triggers).
    pub timer_phase_min: f64,
}

/// The functions and applications of a trace, before any invocation is counted.
#[derive(Debug, Clone)]
pub struct Population {
    apps: Vec<App>,
    functions: Vec<Function>,
    seed: u64,
}

/// An application's shape before a rate is paired with it: its functions' triggers and split
/// weights.
struct Shape {
    triggers: Vec<AzureTrigger>,
    weights: Vec<f64>,
    /// Share of the application's invocations per trigger.
    mix: [f64; 7],
    /// The trigger with the largest share.
    dominant: usize,
}

/// A standard normal variate (one of a Box–Muller pair; the other is dropped so that a draw
/// takes a fixed number of uniforms).
fn std_normal(rng: &mut Pcg64Mcg) -> f64 {
    normal_pair(rng).0
}

/// Draws one application size: its bucket by share, then uniform inside it, or the Pareto tail.
fn draw_app_size(rng: &mut Pcg64Mcg) -> u32 {
    let mut u: f64 = rng.random();
    for &(lo, hi, p) in &APP_SIZES {
        if u < p || hi == MAX_APP_FUNCTIONS {
            if hi == MAX_APP_FUNCTIONS {
                // Pareto from 11: P(X >= x) = (x / 11)^-alpha.
                let v: f64 = 1.0 - rng.random::<f64>();
                let x = f64::from(lo) * v.powf(-1.0 / TAIL_ALPHA);
                return (x.floor() as u32).clamp(lo, hi);
            }
            return rng.random_range(lo..=hi);
        }
        u -= p;
    }
    1
}

fn draw_trigger(rng: &mut Pcg64Mcg) -> AzureTrigger {
    let mut u = rng.random::<f64>() * 100.0;
    for t in &TRIGGERS {
        if u < t.functions_pct {
            return t.trigger;
        }
        u -= t.functions_pct;
    }
    AzureTrigger::Others
}

/// One application rate, per day, from the truncated lognormal (by rejection: about 90 % of
/// draws fall inside).
fn draw_app_rate(rng: &mut Pcg64Mcg) -> f64 {
    let lo = RATE_MIN_PER_DAY.ln();
    let hi = lo + RATE_DECADES * std::f64::consts::LN_10;
    loop {
        let y = RATE_MU + RATE_SIGMA * std_normal(rng);
        if (lo..=hi).contains(&y) {
            return y.exp();
        }
    }
}

impl Population {
    /// Draws the applications and functions of `opts` (see the module's documentation).
    pub fn draw(opts: &Options) -> Population {
        let n = opts.functions as usize;
        let mut rng = Pcg64Mcg::seed_from_u64(seed::derive(
            opts.seed,
            0,
            0,
            Purpose::AzureLike { stream: 0 },
        ));
        // 1. Application shapes until the functions are used up (the last one is cut to fit).
        let mut shapes: Vec<Shape> = Vec::new();
        let mut placed = 0usize;
        while placed < n {
            let size = (draw_app_size(&mut rng) as usize).min(n - placed);
            let triggers: Vec<AzureTrigger> = (0..size).map(|_| draw_trigger(&mut rng)).collect();
            let weights: Vec<f64> = triggers
                .iter()
                .map(|t| {
                    let s = TRIGGERS[t.index()];
                    s.invocations_pct / s.functions_pct * std_normal(&mut rng).exp()
                })
                .collect();
            let total: f64 = weights.iter().sum();
            let mut mix = [0.0; 7];
            for (t, w) in triggers.iter().zip(&weights) {
                mix[t.index()] += w / total;
            }
            let dominant = (0..7)
                .max_by(|&a, &b| mix[a].total_cmp(&mix[b]).then(b.cmp(&a)))
                .unwrap_or(0);
            shapes.push(Shape {
                triggers,
                weights,
                mix,
                dominant,
            });
            placed += size;
        }
        // 2. The application rates, independent of the shapes.
        let mut rates: Vec<f64> = (0..shapes.len()).map(|_| draw_app_rate(&mut rng)).collect();
        rates.sort_by(|a, b| b.total_cmp(a));
        // 3. Pair them, busiest first, with the shape that best fills the invocation shares
        //    still missing (the queue heads of each dominant trigger, in drawing order).
        let total: f64 = rates.iter().sum();
        let mut missing: [f64; 7] =
            std::array::from_fn(|t| TRIGGERS[t].invocations_pct / 100.0 * total);
        let mut queues: [Vec<usize>; 7] = Default::default();
        for (i, s) in shapes.iter().enumerate().rev() {
            queues[s.dominant].push(i);
        }
        let mut rate_of = vec![0.0; shapes.len()];
        for &r in &rates {
            let cost = |s: &Shape| -> f64 {
                (0..7)
                    .map(|t| {
                        let d = missing[t] - r * s.mix[t];
                        d * d
                    })
                    .sum()
            };
            let Some(q) = (0..7).filter(|&q| !queues[q].is_empty()).min_by(|&a, &b| {
                let (ia, ib) = (
                    queues[a][queues[a].len() - 1],
                    queues[b][queues[b].len() - 1],
                );
                cost(&shapes[ia]).total_cmp(&cost(&shapes[ib]))
            }) else {
                break;
            };
            let Some(i) = queues[q].pop() else {
                break;
            };
            for (m, &x) in missing.iter_mut().zip(&shapes[i].mix) {
                *m -= r * x;
            }
            rate_of[i] = r;
        }
        // 4. Hashes, memory, peaks, durations and timer phases, in application order.
        let normal = Normal::standard();
        let mem_sigma = (MEMORY_P90_MB / MEMORY_P50_MB).ln() / normal.inverse_cdf(0.9);
        let mut apps = Vec::with_capacity(shapes.len());
        let mut functions = Vec::with_capacity(n);
        for (i, shape) in shapes.iter().enumerate() {
            let rate = rate_of[i];
            let owner = Hash::draw(&mut rng);
            let hash = Hash::draw(&mut rng);
            let memory_mb = (MEMORY_P50_MB.ln() + mem_sigma * std_normal(&mut rng))
                .exp()
                .clamp(1.0, 65535.0);
            let peak = (PEAK_MINUTE + PEAK_SIGMA_MIN * std_normal(&mut rng))
                .rem_euclid(MINUTES as f64)
                .floor() as u16;
            let first = functions.len() as u32;
            let weight_total: f64 = shape.weights.iter().sum();
            for (t, w) in shape.triggers.iter().zip(&shape.weights) {
                let f_rate = rate * w / weight_total;
                let duration_s = (DURATION_MU + DURATION_SIGMA * std_normal(&mut rng)).exp();
                let period = MINUTES as f64 / f_rate;
                let phase = rng.random::<f64>() * period;
                functions.push(Function {
                    app: i as u32,
                    hash: Hash::draw(&mut rng),
                    trigger: *t,
                    rate_per_day: f_rate,
                    duration_ms: (duration_s * 1000.0).clamp(1.0, DAY_MS),
                    timer_phase_min: if phase.is_finite() { phase } else { 0.0 },
                });
            }
            apps.push(App {
                owner,
                hash,
                functions: first..functions.len() as u32,
                rate_per_day: rate,
                memory_mb,
                peak_minute: peak.min(MINUTES as u16 - 1),
            });
        }
        Population {
            apps,
            functions,
            seed: opts.seed,
        }
    }

    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// Function `f`'s invocations in each minute of day `day` (0-based), into `out`.
    pub fn day_counts(&self, f: usize, day: u32, diurnal: &Diurnal, out: &mut [u32; MINUTES]) {
        let func = &self.functions[f];
        let start = day as usize * MINUTES;
        if func.trigger == AzureTrigger::Timer {
            // Periodic: firings at phase + k·period; a minute counts those inside it.
            let period = MINUTES as f64 / func.rate_per_day;
            let fired_before = |x: f64| -> u64 {
                if !(period.is_finite() && period > 0.0) || x <= func.timer_phase_min {
                    0
                } else {
                    ((x - func.timer_phase_min) / period).ceil() as u64
                }
            };
            let mut before = fired_before(start as f64);
            for (m, c) in out.iter_mut().enumerate() {
                let next = fired_before((start + m + 1) as f64);
                *c = u32::try_from(next - before).unwrap_or(u32::MAX);
                before = next;
            }
            return;
        }
        let mut rng = Pcg64Mcg::seed_from_u64(seed::derive(
            self.seed,
            0,
            f as u64,
            Purpose::AzureLike { stream: 1 + day },
        ));
        let base = func.rate_per_day / MINUTES as f64;
        let peak = self.apps[func.app as usize].peak_minute as usize;
        for (m, c) in out.iter_mut().enumerate() {
            let lambda = base * diurnal.factor[(m + MINUTES - peak) % MINUTES];
            *c = match Poisson::new(lambda) {
                Ok(p) => {
                    u32::try_from(Distribution::<u64>::sample(&p, &mut rng)).unwrap_or(u32::MAX)
                }
                Err(_) => 0,
            };
        }
    }
}

/// One day in ms: the longest execution time written.
const DAY_MS: f64 = 86_400_000.0;

/// The daily cycle: the rate factor `minutes` after an application's peak. Its mean over a day
/// is 1 (the cosine sums to 0 over whole periods), so a day's expected count is the daily rate.
pub struct Diurnal {
    factor: Vec<f64>,
}

impl Default for Diurnal {
    fn default() -> Self {
        Diurnal {
            factor: (0..MINUTES)
                .map(|m| {
                    1.0 + DIURNAL_AMPLITUDE
                        * (std::f64::consts::TAU * m as f64 / MINUTES as f64).cos()
                })
                .collect(),
        }
    }
}

/// The three files of day `day` (0-based) in `dir`: invocations, durations, memory.
pub fn day_files(dir: &Path, day: u32) -> [PathBuf; 3] {
    let d = day + 1;
    [
        dir.join(format!("invocations_per_function_md.anon.d{d:02}.csv")),
        dir.join(format!("function_durations_percentiles.anon.d{d:02}.csv")),
        dir.join(format!("app_memory_percentiles.anon.d{d:02}.csv")),
    ]
}

/// What [`write`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Invocations per day.
    pub per_day: Vec<u64>,
    /// Every file, in order of writing.
    pub files: Vec<PathBuf>,
}

impl Written {
    pub fn invocations(&self) -> u64 {
        self.per_day.iter().sum()
    }
}

/// Writes the trace of `pop` over `opts.days()` days into `dir` (created if missing): per day the
/// invocations, durations and memory files ([`day_files`]), each written whole or not at all.
/// `on_day` is called after each day with its index and invocations.
pub fn write(
    dir: &Path,
    pop: &Population,
    opts: &Options,
    mut on_day: impl FnMut(u32, u64),
) -> Result<Written, WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        WriteError::io(format!("{}: cannot create the directory", dir.display()), e)
    })?;
    let diurnal = Diurnal::default();
    let mut written = Written::default();
    let mut per_function = vec![0u64; pop.functions.len()];
    // Per application, the minutes of the day with at least one invocation (a bit each).
    let mut active = vec![[0u64; MINUTES.div_ceil(64)]; pop.apps.len()];
    for day in 0..opts.days {
        let [inv, dur, mem] = day_files(dir, day);
        per_function.fill(0);
        active.fill([0; MINUTES.div_ceil(64)]);
        write_atomic(&inv, |w| {
            write_invocations(w, pop, day, &diurnal, &mut per_function, &mut active)
        })?;
        write_atomic(&dur, |w| write_durations(w, pop, &per_function))?;
        write_atomic(&mem, |w| write_memory(w, pop, &active))?;
        let total: u64 = per_function.iter().sum();
        written.per_day.push(total);
        written.files.extend([inv, dur, mem]);
        on_day(day, total);
    }
    Ok(written)
}

/// Appends `v` in decimal.
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while v > 0 {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&digits[i..]);
}

fn write_invocations(
    w: &mut dyn Write,
    pop: &Population,
    day: u32,
    diurnal: &Diurnal,
    per_function: &mut [u64],
    active: &mut [[u64; MINUTES.div_ceil(64)]],
) -> io::Result<()> {
    let mut line = Vec::with_capacity(16 * 1024);
    line.extend_from_slice(b"HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=MINUTES {
        line.push(b',');
        push_u64(&mut line, m as u64);
    }
    line.push(b'\n');
    w.write_all(&line)?;
    let mut counts = [0u32; MINUTES];
    for (f, func) in pop.functions.iter().enumerate() {
        pop.day_counts(f, day, diurnal, &mut counts);
        let app = &pop.apps[func.app as usize];
        line.clear();
        push_key(&mut line, app, func);
        line.extend_from_slice(func.trigger.name().as_bytes());
        let mut sum = 0u64;
        let bits = &mut active[func.app as usize];
        for (m, &c) in counts.iter().enumerate() {
            line.push(b',');
            if c == 0 {
                line.push(b'0');
            } else {
                push_u64(&mut line, u64::from(c));
                sum += u64::from(c);
                bits[m / 64] |= 1 << (m % 64);
            }
        }
        line.push(b'\n');
        w.write_all(&line)?;
        per_function[f] = sum;
    }
    Ok(())
}

/// Appends a row's key columns, `HashOwner,HashApp,HashFunction,`.
fn push_key(line: &mut Vec<u8>, app: &App, func: &Function) {
    app.owner.write_to(line);
    line.push(b',');
    app.hash.write_to(line);
    line.push(b',');
    func.hash.write_to(line);
    line.push(b',');
}

/// A value in ms with three decimals at most, trailing zeros dropped.
fn push_ms(out: &mut Vec<u8>, ms: f64) {
    let thousandths = (ms * 1000.0).round() as u64;
    push_u64(out, thousandths / 1000);
    let frac = thousandths % 1000;
    if frac != 0 {
        let s = format!("{frac:03}");
        out.push(b'.');
        out.extend_from_slice(s.trim_end_matches('0').as_bytes());
    }
}

/// The percentile points of the durations file and their standard normal quantiles (p0 and p100
/// at 0.1 % and 99.9 %).
const DURATION_Z: [f64; 7] = [
    -3.090_232_306,
    -2.326_347_874,
    -0.674_489_750,
    0.0,
    0.674_489_750,
    2.326_347_874,
    3.090_232_306,
];

/// The percentiles (ms) of a function with average execution time `mean_ms`.
pub fn duration_percentiles(mean_ms: f64) -> [f64; 7] {
    let median = mean_ms * (-DURATION_SPREAD * DURATION_SPREAD / 2.0).exp();
    DURATION_Z.map(|z| (median * (DURATION_SPREAD * z).exp()).clamp(1.0, DAY_MS))
}

fn write_durations(w: &mut dyn Write, pop: &Population, per_function: &[u64]) -> io::Result<()> {
    w.write_all(
        b"HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,\
          percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,\
          percentile_Average_99,percentile_Average_100\n",
    )?;
    let mut line = Vec::with_capacity(512);
    for (func, &count) in pop.functions.iter().zip(per_function) {
        let app = &pop.apps[func.app as usize];
        let p = duration_percentiles(func.duration_ms);
        line.clear();
        push_key(&mut line, app, func);
        push_ms(&mut line, func.duration_ms.clamp(p[0], p[6]));
        line.push(b',');
        push_u64(&mut line, count);
        for v in [p[0], p[6]].into_iter().chain(p) {
            line.push(b',');
            push_ms(&mut line, v);
        }
        line.push(b'\n');
        w.write_all(&line)?;
    }
    Ok(())
}

/// The memory file's percentile columns and their standard normal quantiles.
const MEMORY_Z: [f64; 8] = [
    -2.326_347_874,
    -1.644_853_627,
    -0.674_489_750,
    0.0,
    0.674_489_750,
    1.644_853_627,
    2.326_347_874,
    3.090_232_306,
];

/// The memory percentiles (pct1, 5, 25, 50, 75, 95, 99, 100; whole MB) of an application whose
/// average allocation is `mean_mb`.
pub fn memory_percentiles(mean_mb: f64) -> [u32; 8] {
    let median = mean_mb * (-MEMORY_SPREAD * MEMORY_SPREAD / 2.0).exp();
    MEMORY_Z.map(|z| {
        (median * (MEMORY_SPREAD * z).exp())
            .round()
            .clamp(1.0, 65535.0) as u32
    })
}

fn write_memory(
    w: &mut dyn Write,
    pop: &Population,
    active: &[[u64; MINUTES.div_ceil(64)]],
) -> io::Result<()> {
    w.write_all(
        b"HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,\
          AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,\
          AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,\
          AverageAllocatedMb_pct100\n",
    )?;
    let mut line = Vec::with_capacity(256);
    for (app, bits) in pop.apps.iter().zip(active) {
        let minutes: u32 = bits.iter().map(|b| b.count_ones()).sum();
        if minutes == 0 {
            continue;
        }
        line.clear();
        app.owner.write_to(&mut line);
        line.push(b',');
        app.hash.write_to(&mut line);
        line.push(b',');
        push_u64(&mut line, 12 * u64::from(minutes));
        line.push(b',');
        push_u64(&mut line, app.memory_mb.round().clamp(1.0, 65535.0) as u64);
        for v in memory_percentiles(app.memory_mb) {
            line.push(b',');
            push_u64(&mut line, u64::from(v));
        }
        line.push(b'\n');
        w.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The truncated lognormal's CDF at `per_day`.
    fn rate_cdf(per_day: f64) -> f64 {
        let n = Normal::new(RATE_MU, RATE_SIGMA).unwrap_or_else(|e| panic!("{e}"));
        let lo = RATE_MIN_PER_DAY.ln();
        let hi = lo + RATE_DECADES * std::f64::consts::LN_10;
        (n.cdf(per_day.ln()) - n.cdf(lo)) / (n.cdf(hi) - n.cdf(lo))
    }

    #[test]
    fn the_rate_distribution_passes_through_the_published_points() {
        // Fig. 5a: 45 % of apps at most hourly, 81 % at most once a minute.
        assert!((rate_cdf(24.0) - 0.45).abs() < 1e-9, "{}", rate_cdf(24.0));
        assert!(
            (rate_cdf(1440.0) - 0.81).abs() < 1e-9,
            "{}",
            rate_cdf(1440.0)
        );
    }

    #[test]
    fn the_top_18_6_percent_carry_over_99_5_percent_in_theory() {
        // Fig. 5b says 99.6 %; the partial mean of the truncated lognormal above its 81.4 %
        // quantile, E[X; X > x] / E[X], computed in closed form.
        let n = Normal::new(RATE_MU, RATE_SIGMA).unwrap_or_else(|e| panic!("{e}"));
        let s2 = RATE_SIGMA * RATE_SIGMA;
        let lo = RATE_MIN_PER_DAY.ln();
        let hi = lo + RATE_DECADES * std::f64::consts::LN_10;
        let shifted = Normal::new(RATE_MU + s2, RATE_SIGMA).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (n.cdf(lo), n.cdf(hi));
        let x = n.inverse_cdf(a + (1.0 - 0.186) * (b - a));
        let share = (shifted.cdf(hi) - shifted.cdf(x)) / (shifted.cdf(hi) - shifted.cdf(lo));
        assert!((0.995..0.9965).contains(&share), "{share}");
    }

    #[test]
    fn the_tail_exponent_puts_0_04_percent_of_apps_at_100_functions_or_more() {
        let p = 0.05 * (100.0f64 / 11.0).powf(-TAIL_ALPHA);
        assert!((p - 0.0004).abs() < 1e-6, "{p}");
    }

    #[test]
    fn trigger_shares_sum_to_100() {
        let f: f64 = TRIGGERS.iter().map(|t| t.functions_pct).sum();
        let i: f64 = TRIGGERS.iter().map(|t| t.invocations_pct).sum();
        assert!((f - 100.0).abs() < 1e-9 && (i - 100.0).abs() < 1e-9);
        for (k, t) in TRIGGERS.iter().enumerate() {
            assert_eq!(t.trigger.index(), k);
            assert_eq!(AzureTrigger::named(t.trigger.name()), Some(t.trigger));
        }
    }

    #[test]
    fn the_diurnal_factor_averages_one() {
        let d = Diurnal::default();
        let mean: f64 = d.factor.iter().sum::<f64>() / MINUTES as f64;
        assert!((mean - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_timer_fires_at_its_rate() {
        let opts = Options::new(3, 400, 9).unwrap_or_else(|e| panic!("{e}"));
        let pop = Population::draw(&opts);
        let d = Diurnal::default();
        let mut counts = [0u32; MINUTES];
        for (f, func) in pop.functions().iter().enumerate() {
            if func.trigger != AzureTrigger::Timer {
                continue;
            }
            let mut total = 0u64;
            for day in 0..3 {
                pop.day_counts(f, day, &d, &mut counts);
                total += counts.iter().map(|&c| u64::from(c)).sum::<u64>();
            }
            // Firings in [0, 3 days): within one of rate × 3.
            let expected = func.rate_per_day * 3.0;
            assert!(
                (total as f64 - expected).abs() <= 1.0 + 1e-9,
                "{total} vs {expected}"
            );
        }
    }

    #[test]
    fn percentiles_do_not_decrease() {
        for mean in [0.5, 1.0, 80.0, 1e6, 1e9] {
            assert!(duration_percentiles(mean).is_sorted());
        }
        for mean in [1.0, 170.0, 60000.0] {
            assert!(memory_percentiles(mean).is_sorted());
        }
        let mut v = Vec::new();
        push_ms(&mut v, 12.5);
        v.push(b' ');
        push_ms(&mut v, 7.0);
        v.push(b' ');
        push_ms(&mut v, 0.0625);
        assert_eq!(String::from_utf8_lossy(&v), "12.5 7 0.063");
    }

    #[test]
    fn sizes_are_checked_before_anything_is_drawn() {
        assert_eq!(
            Options::new(0, 10, 0).map_err(|e| e.field_name()),
            Err(Some("days"))
        );
        assert_eq!(
            Options::new(MAX_DAYS + 1, 10, 0).map_err(|e| e.field_name()),
            Err(Some("days"))
        );
        assert_eq!(
            Options::new(1, 0, 0).map_err(|e| e.field_name()),
            Err(Some("functions"))
        );
        assert_eq!(
            Options::new(1, MAX_FUNCTIONS + 1, 0).map_err(|e| e.field_name()),
            Err(Some("functions"))
        );
        assert!(Options::new(MAX_DAYS, MAX_FUNCTIONS, 0).is_ok());
    }
}
