//! What a simulation run produced, aggregated as it goes: counters, latency histograms, per-minute
//! series and instance-time. Never a record per invocation. The bill (cost) and the exports read
//! an [`Outcome`]; they never re-run the engine.

pub mod fleet;
pub mod shard;

use hdrhistogram::Histogram;

use crate::time::{MINUTE, Micros};

/// Per-minute counters are attributed to the minute of the request's arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinuteKind {
    Invocation,
    ColdStart,
    Throttled,
    DeadLettered,
    TimedOut,
}

/// A change of the instance levels at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    pub time: Micros,
    /// Change in instances serving at least one request.
    pub busy: i32,
    /// Change in instances alive (initializing, busy or idle).
    pub alive: i32,
    /// Change in instances counted against the account limit.
    pub usage: i32,
    /// Change in the configured provisioned level.
    pub provisioned: i32,
}

/// What one function emits during an epoch; the collector drains it in function order.
#[derive(Debug, Default)]
pub struct EpochBuffer {
    /// The time the packed level changes count from ([`EpochBuffer::set_epoch_end`]).
    base: Micros,
    /// Level changes packed into 4 bytes each ([`pack`]), relative to `base`.
    packed: Vec<u32>,
    /// The level changes that do not pack.
    odd: Vec<Delta>,
    /// (minute, kind, count), run-length merged: consecutive events of one kind in one minute
    /// share an entry.
    pub counts: Vec<(u32, MinuteKind, u32)>,
    /// End-to-end latency in µs, with [`COLD`] set for a cold start.
    latencies: Vec<u64>,
    /// Init wait of each cold start, µs.
    pub inits: Vec<Micros>,
}

/// The bit of a recorded latency that marks a cold start.
const COLD: u64 = 1 << 63;

/// How far before an epoch's end its packed level changes may fall: the span of a packed time.
const PACKED_SPAN: Micros = 1 << (32 - CODE_BITS);

impl EpochBuffer {
    /// The epoch that comes next ends at `t_end`: its changes (all before `t_end`) are packed
    /// relative to one base that every function's buffer shares, so that the collector takes
    /// them as they are.
    #[inline]
    pub fn set_epoch_end(&mut self, t_end: Micros) {
        let base = t_end.saturating_sub(PACKED_SPAN);
        if base != self.base && !self.packed.is_empty() {
            // Changes of an earlier epoch still held (a function's closing changes): keep
            // their times.
            for d in unpack_all(self.base, &self.packed) {
                self.odd.push(d);
            }
            self.packed.clear();
        }
        self.base = base;
    }

    #[inline]
    pub fn delta(&mut self, time: Micros, busy: i32, alive: i32, usage: i32) {
        self.push(Delta {
            time,
            busy,
            alive,
            usage,
            provisioned: 0,
        });
    }

    #[inline]
    fn push(&mut self, d: Delta) {
        match pack(&d, self.base) {
            Some(k) => self.packed.push(k),
            None => self.odd.push(d),
        }
    }

    /// The configured provisioned level changes by `by` at `time`.
    pub fn provisioned(&mut self, time: Micros, by: i32) {
        self.odd.push(Delta {
            time,
            busy: 0,
            alive: 0,
            usage: 0,
            provisioned: by,
        });
    }

    #[inline]
    pub fn count(&mut self, arrival: Micros, kind: MinuteKind) {
        let minute = (arrival / MINUTE) as u32;
        if let Some(last) = self.counts.last_mut()
            && last.0 == minute
            && last.1 == kind
        {
            last.2 += 1;
            return;
        }
        self.counts.push((minute, kind, 1));
    }

    #[inline]
    pub fn latency(&mut self, us: Micros, cold: bool) {
        debug_assert!(us < COLD);
        self.latencies.push(us | if cold { COLD } else { 0 });
    }

    /// The latencies recorded, as (µs, cold?).
    #[cfg(test)]
    pub fn latencies(&self) -> Vec<(Micros, bool)> {
        self.latencies
            .iter()
            .map(|&v| (v & !COLD, v & COLD != 0))
            .collect()
    }

    #[inline]
    pub fn init(&mut self, us: Micros) {
        self.inits.push(us);
    }

    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
            && self.odd.is_empty()
            && self.counts.is_empty()
            && self.latencies.is_empty()
            && self.inits.is_empty()
    }

    /// Heap bytes held (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.packed.capacity() * size_of::<u32>()
            + self.odd.capacity() * size_of::<Delta>()
            + self.counts.capacity() * size_of::<(u32, MinuteKind, u32)>()
            + self.latencies.capacity() * size_of::<u64>()
            + self.inits.capacity() * size_of::<Micros>()
    }
}

/// A billing granularity, as data: each item's time is rounded up to a whole number of `step_us`
/// and is at least `minimum_us` (`max(ceil(t / step) × step, minimum)`). Price sheets declare
/// them; the engine sums each one it is asked for without knowing who bills that way.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Granularity {
    /// Rounding step, microseconds (>= 1, checked by [`Granularity::new`]; 1 means no rounding).
    step_us: u64,
    /// Least billed per item, microseconds.
    minimum_us: u64,
}

impl Granularity {
    /// As measured: no rounding, no minimum.
    pub const EXACT: Granularity = Granularity {
        step_us: 1,
        minimum_us: 0,
    };

    /// Whole milliseconds, no minimum.
    pub const MILLISECOND: Granularity = Granularity {
        step_us: 1_000,
        minimum_us: 0,
    };

    /// Rounding step, microseconds (at least 1).
    pub fn step_us(self) -> u64 {
        self.step_us
    }

    /// Least billed per item, microseconds.
    pub fn minimum_us(self) -> u64 {
        self.minimum_us
    }

    /// `None` when the step is 0.
    pub fn new(step_us: u64, minimum_us: u64) -> Option<Granularity> {
        (step_us >= 1).then_some(Granularity {
            step_us,
            minimum_us,
        })
    }

    /// One item of `us` under this granularity, microseconds.
    #[inline]
    pub fn round(self, us: Micros) -> u64 {
        (us.div_ceil(self.step_us) * self.step_us).max(self.minimum_us)
    }

    /// True when it changes nothing (the raw sum is the answer).
    pub fn is_exact(self) -> bool {
        self.step_us <= 1 && self.minimum_us == 0
    }
}

/// Written as the price sheets' shorthand: `none`, `1ms`, `100ms-min-1s`, `10ms-min-50ms`.
impl std::fmt::Display for Granularity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn dur(us: u64) -> String {
            if us >= 1_000_000 && us.is_multiple_of(1_000_000) {
                format!("{}s", us / 1_000_000)
            } else if us >= 1_000 && us.is_multiple_of(1_000) {
                format!("{}ms", us / 1_000)
            } else {
                format!("{us}us")
            }
        }
        if self.is_exact() {
            return f.write_str("none");
        }
        f.write_str(&dur(self.step_us))?;
        if self.minimum_us > 0 {
            write!(f, "-min-{}", dur(self.minimum_us))?;
        }
        Ok(())
    }
}

/// The granularities a run sums: those the price sheets it will be billed on declare (see
/// `Offering::usage_spec`). Sorted, without duplicates, without [`Granularity::EXACT`] (the raw
/// sum is always kept). Empty: counts and raw sums only.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UsageSpec {
    granularities: Vec<Granularity>,
}

impl UsageSpec {
    pub fn new(granularities: impl IntoIterator<Item = Granularity>) -> UsageSpec {
        let mut g: Vec<Granularity> = granularities
            .into_iter()
            .filter(|g| !g.is_exact())
            .collect();
        g.sort_unstable();
        g.dedup();
        UsageSpec { granularities: g }
    }

    pub fn granularities(&self) -> &[Granularity] {
        &self.granularities
    }

    /// Every granularity of `self` and `other` (one run billed on several sheets).
    pub fn union(&self, other: &UsageSpec) -> UsageSpec {
        UsageSpec::new(
            self.granularities
                .iter()
                .chain(&other.granularities)
                .copied(),
        )
    }
}

/// A sum the outcome does not have: the run was not told to record this granularity (its
/// `PlatformConfig::usage` lacked it). A programming error, never a silent zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "usage rounded as {0} was not recorded: the run's usage spec (PlatformConfig::usage) must \
     include every granularity the price sheet declares (Offering::usage_spec)"
)]
pub struct NotRecorded(pub Granularity);

/// Times of items (executions, inits, or instance active periods) summed as measured and under
/// each granularity the run was asked for, each item rounded on its own. Microseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rounded {
    /// Items summed.
    pub count: u64,
    /// As measured.
    pub raw_us: u64,
    /// (granularity, sum of the items each rounded under it), in the run's [`UsageSpec`] order.
    /// Empty until the first item.
    pub sums: Vec<(Granularity, u64)>,
}

impl Rounded {
    /// Adds one item of `us`, under every granularity of `spec` (the same for a whole run).
    #[inline]
    pub fn add(&mut self, us: Micros, spec: &UsageSpec) {
        if self.sums.len() != spec.granularities.len() {
            self.start(spec);
        }
        self.count += 1;
        self.raw_us += us;
        for (g, sum) in &mut self.sums {
            *sum += g.round(us);
        }
    }

    #[cold]
    fn start(&mut self, spec: &UsageSpec) {
        debug_assert!(self.count == 0, "one usage spec per run");
        self.sums = spec.granularities.iter().map(|&g| (g, 0)).collect();
    }

    /// The items' sum under `g`, microseconds. Empty: 0 under any granularity.
    pub fn sum(&self, g: Granularity) -> Result<u64, NotRecorded> {
        if g.is_exact() {
            return Ok(self.raw_us);
        }
        if self.count == 0 {
            return Ok(0);
        }
        self.sums
            .iter()
            .find(|(h, _)| *h == g)
            .map(|&(_, s)| s)
            .ok_or(NotRecorded(g))
    }

    /// Adds `o`'s items. A granularity only one side recorded (with items on both sides) is
    /// dropped, so the merged sum is never partial.
    pub fn merge(&mut self, o: &Rounded) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            self.sums = o.sums.clone();
        } else {
            self.sums
                .retain_mut(|(g, sum)| match o.sums.iter().find(|(h, _)| h == g) {
                    Some((_, s)) => {
                        *sum += s;
                        true
                    }
                    None => false,
                });
        }
        self.count += o.count;
        self.raw_us += o.raw_us;
    }
}

/// Work done at one memory size, for the bill.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryUsage {
    pub memory_mb: u16,
    /// Executions on on-demand instances.
    pub on_demand: Rounded,
    /// Executions on provisioned instances.
    pub provisioned: Rounded,
    /// Inits of the instances started (cold starts).
    pub init: Rounded,
}

impl MemoryUsage {
    fn merge(&mut self, o: &MemoryUsage) {
        self.on_demand.merge(&o.on_demand);
        self.provisioned.merge(&o.provisioned);
        self.init.merge(&o.init);
    }
}

/// One function's counters and instance-time. Times are microseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FunctionStats {
    pub invocations: u64,
    /// Counted invocations with an async or queue trigger (an event, not a request and response:
    /// what a queue or topic in front of the function carries).
    pub event_invocations: u64,
    pub warm_starts: u64,
    pub cold_starts: u64,
    pub throttled: u64,
    pub dead_lettered: u64,
    /// Throttled or dead-lettered requests by the limit that refused their last attempt: the
    /// account limit, the function's own limit (reserved concurrency / max instances), or the
    /// scaling rate. They sum to `throttled + dead_lettered`.
    pub throttled_account: u64,
    pub throttled_function: u64,
    pub throttled_rate: u64,
    /// Served requests cut at the function timeout (a subset of warm + cold starts).
    pub timed_out: u64,
    /// Arrivals during the warm-up, simulated but not counted anywhere else.
    pub warmup_invocations: u64,
    /// Cold starts among them.
    pub warmup_cold_starts: u64,
    /// Served requests that started later than they arrived for a reason other than their own
    /// init (queue wait, async retry, or an initializing instance they joined).
    pub waited: u64,
    /// Async retry attempts.
    pub retries: u64,
    pub instances_started: u64,
    pub peak_busy: u32,
    /// ∫ busy instances dt, instance-microseconds.
    pub busy_integral_us: u128,
    pub on_demand_busy_us: u64,
    pub on_demand_idle_us: u64,
    pub on_demand_init_us: u64,
    pub provisioned_busy_us: u64,
    pub provisioned_idle_us: u64,
    /// ∫ configured provisioned level dt: what provisioned concurrency is billed on.
    pub provisioned_configured_us: u64,
    /// Times the provisioned level changed (schedule or target tracking).
    pub provisioned_changes: u64,
    /// Active periods (initializing or serving, until idle) of on-demand instances, for billing
    /// that charges instance time while requests run (Cloud Run request-based, Azure Flex).
    pub on_demand_active: Rounded,
    /// Busy periods of provisioned instances.
    pub provisioned_active: Rounded,
    /// Executions and inits by memory size, sorted by memory.
    pub usage: Vec<MemoryUsage>,
    /// On-demand memory-time, MB·µs, in the measured window: loaded but not executing (idle,
    /// pre-warmed instances from their start included: SitW's wasted memory time), executing
    /// (busy), initializing for a request, and the instances' whole loaded lives (summed at
    /// death: the three parts add up to it).
    pub idle_mb_us: u128,
    pub busy_mb_us: u128,
    pub init_mb_us: u128,
    pub loaded_mb_us: u128,
    /// Pre-warms started (keep-alive policies that pre-warm).
    pub prewarms: u64,
    /// CPU work done by the counted requests of instances that share their vCPUs (a CPU profile
    /// and more than one request per instance), vCPU-microseconds; 0 otherwise.
    pub cpu_work_us: u64,
    /// The keep-alive policy's decisions by rule (`engine::keepalive::MODE_NAMES`).
    pub keep_alive_decisions: [u64; 5],
}

impl FunctionStats {
    fn usage_mut(&mut self, memory_mb: u16) -> &mut MemoryUsage {
        let found = match self.usage.first() {
            Some(u) if u.memory_mb == memory_mb => Some(0),
            _ => self.usage.iter().position(|u| u.memory_mb == memory_mb),
        };
        let i = match found {
            Some(i) => i,
            None => {
                // Most functions run at one size: room for exactly one more, not the four a
                // first push reserves (issue 14, D10: 384 B per function).
                self.usage.reserve_exact(1);
                self.usage.push(MemoryUsage {
                    memory_mb,
                    ..MemoryUsage::default()
                });
                self.usage.sort_by_key(|u| u.memory_mb);
                self.usage
                    .iter()
                    .position(|u| u.memory_mb == memory_mb)
                    .unwrap_or(0)
            }
        };
        &mut self.usage[i]
    }

    /// Records one execution of `exec_us` at `memory_mb`, summed under `spec`.
    #[inline]
    pub fn bill(&mut self, memory_mb: u16, exec_us: Micros, provisioned: bool, spec: &UsageSpec) {
        let u = self.usage_mut(memory_mb);
        if provisioned {
            u.provisioned.add(exec_us, spec);
        } else {
            u.on_demand.add(exec_us, spec);
        }
    }

    /// Records one instance init of `init_us` at `memory_mb`, summed under `spec`.
    pub fn bill_init(&mut self, memory_mb: u16, init_us: Micros, spec: &UsageSpec) {
        self.usage_mut(memory_mb).init.add(init_us, spec);
    }

    /// Records one finished instance active period of `us`, summed under `spec`.
    pub fn bill_active(&mut self, us: Micros, provisioned: bool, spec: &UsageSpec) {
        if provisioned {
            self.provisioned_active.add(us, spec);
        } else {
            self.on_demand_active.add(us, spec);
        }
    }

    /// Served executions (warm + cold), from the billing records.
    pub fn executions(&self) -> u64 {
        self.usage
            .iter()
            .map(|u| u.on_demand.count + u.provisioned.count)
            .sum()
    }

    /// Adds `other` into `self` (peaks are not additive and are left alone).
    pub fn add(&mut self, other: &FunctionStats) {
        self.invocations += other.invocations;
        self.event_invocations += other.event_invocations;
        self.warm_starts += other.warm_starts;
        self.cold_starts += other.cold_starts;
        self.throttled += other.throttled;
        self.dead_lettered += other.dead_lettered;
        self.throttled_account += other.throttled_account;
        self.throttled_function += other.throttled_function;
        self.throttled_rate += other.throttled_rate;
        self.timed_out += other.timed_out;
        self.warmup_invocations += other.warmup_invocations;
        self.warmup_cold_starts += other.warmup_cold_starts;
        self.waited += other.waited;
        self.retries += other.retries;
        self.instances_started += other.instances_started;
        self.busy_integral_us += other.busy_integral_us;
        self.on_demand_busy_us += other.on_demand_busy_us;
        self.on_demand_idle_us += other.on_demand_idle_us;
        self.on_demand_init_us += other.on_demand_init_us;
        self.provisioned_busy_us += other.provisioned_busy_us;
        self.provisioned_idle_us += other.provisioned_idle_us;
        self.provisioned_configured_us += other.provisioned_configured_us;
        self.provisioned_changes += other.provisioned_changes;
        self.idle_mb_us += other.idle_mb_us;
        self.busy_mb_us += other.busy_mb_us;
        self.init_mb_us += other.init_mb_us;
        self.loaded_mb_us += other.loaded_mb_us;
        self.prewarms += other.prewarms;
        self.cpu_work_us += other.cpu_work_us;
        for (a, b) in self
            .keep_alive_decisions
            .iter_mut()
            .zip(other.keep_alive_decisions)
        {
            *a += b;
        }
        self.on_demand_active.merge(&other.on_demand_active);
        self.provisioned_active.merge(&other.provisioned_active);
        for u in &other.usage {
            self.usage_mut(u.memory_mb).merge(u);
        }
    }
}

/// One minute of the run, over all functions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Minute {
    pub invocations: u64,
    pub cold_starts: u64,
    pub throttled: u64,
    pub dead_lettered: u64,
    pub timed_out: u64,
    pub peak_busy: u32,
    /// ∫ busy instances dt over the minute, instance-microseconds.
    pub busy_us: u128,
    /// ∫ alive instances dt over the minute, instance-microseconds.
    pub alive_us: u128,
    /// ∫ configured provisioned level dt over the minute (all functions), instance-microseconds.
    pub provisioned_us: u128,
}

/// A latency distribution: an HDR histogram (3 significant digits) plus the exact sum and max.
#[derive(Debug, Clone)]
pub struct Latency {
    pub hist: Histogram<u64>,
    pub sum_us: u128,
    pub max_us: Micros,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            hist: Histogram::new(3).expect("3 significant digits is a valid histogram"),
            sum_us: 0,
            max_us: 0,
        }
    }
}

impl Latency {
    #[inline]
    pub fn record(&mut self, us: Micros) {
        // `record` grows the histogram as needed; saturate only if growth fails.
        if self.hist.record(us).is_err() {
            self.hist.saturating_record(us);
        }
        self.sum_us += us as u128;
        self.max_us = self.max_us.max(us);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The union of two distributions.
    pub fn merged(a: &Latency, b: &Latency) -> Latency {
        let mut out = a.clone();
        if out.hist.add(&b.hist).is_err() {
            // Only fails if auto-resize is off; fall back to re-recording b's values.
            for v in b.hist.iter_recorded() {
                out.hist
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        out.sum_us = out.sum_us.saturating_add(b.sum_us);
        out.max_us = out.max_us.max(b.max_us);
        out
    }

    /// Exact mean, microseconds (0 when empty).
    pub fn mean_us(&self) -> f64 {
        if self.count() == 0 {
            0.0
        } else {
            self.sum_us as f64 / self.count() as f64
        }
    }

    /// The value at quantile `q` (0..=1), microseconds; the exact max for q = 1.
    pub fn quantile_us(&self, q: f64) -> Micros {
        if self.count() == 0 {
            return 0;
        }
        if q >= 1.0 {
            return self.max_us;
        }
        self.hist.value_at_quantile(q).min(self.max_us)
    }
}

/// Low bits of a packed change that hold its code; the rest is the time since the base.
const CODE_BITS: u32 = 5;
const CODE_MASK: u32 = (1 << CODE_BITS) - 1;

/// (busy, alive, usage) of each code: `(busy + 1) × 9 + (alive + 1) × 3 + (usage + 1)`.
const UNPACK: [[i64; 3]; 27] = {
    let mut t = [[0i64; 3]; 27];
    let mut c = 0;
    while c < 27 {
        t[c] = [
            (c / 9) as i64 - 1,
            (c / 3 % 3) as i64 - 1,
            (c % 3) as i64 - 1,
        ];
        c += 1;
    }
    t
};

/// Sorts `keys`: a least-significant-digit radix sort in three passes of 11 bits (a pass whose
/// digit is the same in every key is skipped) through `scratch`, which is kept between calls.
/// Against a byte-wise radix sort that allocates its buffer each time: three passes rather than
/// four, and no fresh pages each epoch for an epoch's megabytes of keys (issue 16). A few keys
/// are sorted in place.
fn sort_keys(keys: &mut Vec<u32>, scratch: &mut Vec<u32>) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    const MASK: u32 = (1 << BITS) - 1;
    if keys.len() < 1024 {
        keys.sort_unstable();
        return;
    }
    let mut counts = [[0u32; BUCKETS]; 3];
    for &k in keys.iter() {
        counts[0][(k & MASK) as usize] += 1;
        counts[1][((k >> BITS) & MASK) as usize] += 1;
        counts[2][(k >> (2 * BITS)) as usize] += 1;
    }
    scratch.clear();
    scratch.resize(keys.len(), 0);
    for (pass, count) in counts.iter_mut().enumerate() {
        let shift = BITS * pass as u32;
        let digit = |k: u32| ((k >> shift) & MASK) as usize;
        // Every key has the same digit here: this pass would change nothing.
        if count[digit(keys[0])] as usize == keys.len() {
            continue;
        }
        let mut at = 0u32;
        for c in count.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
        for &k in keys.iter() {
            let slot = &mut count[digit(k)];
            scratch[*slot as usize] = k;
            *slot += 1;
        }
        std::mem::swap(keys, scratch);
    }
}

/// The changes `packed` relative to `base` holds.
fn unpack_all(base: Micros, packed: &[u32]) -> impl Iterator<Item = Delta> + '_ {
    packed.iter().map(move |&k| {
        let [busy, alive, usage] = UNPACK[(k & CODE_MASK) as usize].map(|v| v as i32);
        Delta {
            time: base + Micros::from(k >> CODE_BITS),
            busy,
            alive,
            usage,
            provisioned: 0,
        }
    })
}

/// Packs a change of busy, alive and usage by at most one each, no more than 2^27 µs (134 s)
/// after `base`, into a key whose order is the time's; `None` for any other change.
#[inline]
fn pack(d: &Delta, base: Micros) -> Option<u32> {
    let small = |v: i32| (-1..=1).contains(&v);
    if d.provisioned != 0 || !small(d.busy) || !small(d.alive) || !small(d.usage) {
        return None;
    }
    let since = d.time.checked_sub(base)?;
    if since >= 1 << (32 - CODE_BITS) {
        return None;
    }
    let code = (d.busy + 1) * 9 + (d.alive + 1) * 3 + (d.usage + 1);
    Some(((since as u32) << CODE_BITS) | code as u32)
}

/// Merges what the functions emit, in a fixed order, into run-wide series. Sums and peaks of the
/// level *after all changes at one time* do not depend on the order of changes at equal times, so
/// the result does not depend on how functions were scheduled.
#[derive(Debug)]
pub struct Collector {
    clip: Micros,
    /// Start of the measured window (the warm-up's end, a whole minute).
    lo: Micros,
    /// The peak of account usage in the measured window.
    peak_usage_measured: i64,
    pub latency: Latency,
    pub latency_warm: Latency,
    pub latency_cold: Latency,
    pub init: Latency,
    pub minutes: Vec<Minute>,
    /// This epoch's level changes that pack into a `u32` ([`pack`]): time since `base` and a
    /// code of the three ±1 changes a request's start, end or an instance's life make.
    packed: Vec<u32>,
    /// This epoch's other changes (a provisioned level, a time out of the packed range).
    odd: Vec<Delta>,
    /// The time this epoch's packed changes count from (the buffers', all one).
    base: Option<Micros>,
    /// The sort's second buffer, kept from epoch to epoch.
    scratch: Vec<u32>,
    busy: i64,
    alive: i64,
    usage: i64,
    provisioned: i64,
    last_t: Micros,
    pub peak_usage: i64,
    /// A shard's run logs every change of the busy level and the account usage it applies
    /// (`shard::DeltaLog`), so that the merge can apply all shards' changes in time order, as
    /// the whole run does, for the run-wide peaks.
    log: Option<shard::DeltaLog>,
}

impl Collector {
    /// `clip`: time integrals stop at the horizon, if one is set; `lo`: the measured window's
    /// start (a whole minute); minutes before it are dropped at the end.
    pub fn new(lo: Micros, clip: Option<Micros>) -> Self {
        debug_assert!(lo.is_multiple_of(MINUTE));
        Collector {
            clip: clip.unwrap_or(Micros::MAX),
            lo,
            peak_usage_measured: 0,
            latency: Latency::default(),
            latency_warm: Latency::default(),
            latency_cold: Latency::default(),
            init: Latency::default(),
            minutes: Vec::new(),
            packed: Vec::new(),
            odd: Vec::new(),
            base: None,
            scratch: Vec::new(),
            busy: 0,
            alive: 0,
            usage: 0,
            provisioned: 0,
            last_t: 0,
            peak_usage: 0,
            log: None,
        }
    }

    /// Log every busy-level and account-usage change applied from now on in `log` (a shard's
    /// run).
    pub fn keep_log(&mut self, log: shard::DeltaLog) {
        self.log = Some(log);
    }

    /// The changes logged so far (none unless `keep_log`); logging stops.
    pub fn take_log(&mut self) -> shard::DeltaLog {
        self.log.take().unwrap_or_default()
    }

    fn minute(&mut self, m: usize) -> &mut Minute {
        if m >= self.minutes.len() {
            self.minutes.resize(m + 1, Minute::default());
        }
        &mut self.minutes[m]
    }

    /// Takes one function's epoch output. A buffer that comes back empty (its function had
    /// nothing to do for an epoch) gives back its memory, so that a function that has finished
    /// keeps no buffer space (issue 14, D10: one trace of a million functions held ~0.5 KB of
    /// empty buffers each). A busy function keeps its buffers from epoch to epoch.
    pub fn absorb(&mut self, buf: &mut EpochBuffer) {
        if buf.is_empty() {
            if buf.heap_bytes() > 0 {
                *buf = EpochBuffer::default();
            }
            return;
        }
        for &(m, kind, n) in &buf.counts {
            let minute = self.minute(m as usize);
            let n = u64::from(n);
            match kind {
                MinuteKind::Invocation => minute.invocations += n,
                MinuteKind::ColdStart => minute.cold_starts += n,
                MinuteKind::Throttled => minute.throttled += n,
                MinuteKind::DeadLettered => minute.dead_lettered += n,
                MinuteKind::TimedOut => minute.timed_out += n,
            }
        }
        buf.counts.clear();
        for &v in &buf.latencies {
            if v & COLD != 0 {
                self.latency_cold.record(v & !COLD);
            } else {
                self.latency_warm.record(v);
            }
        }
        buf.latencies.clear();
        for &us in &buf.inits {
            self.init.record(us);
        }
        buf.inits.clear();
        self.odd.append(&mut buf.odd);
        if !buf.packed.is_empty() {
            match self.base {
                None => self.base = Some(buf.base),
                Some(b) if b == buf.base => {}
                // A buffer of another epoch (a function's closing changes): keep the times.
                Some(_) => {
                    self.odd.extend(unpack_all(buf.base, &buf.packed));
                    buf.packed.clear();
                    return;
                }
            }
            self.packed.extend_from_slice(&buf.packed);
            buf.packed.clear();
        }
    }

    /// Integrates the levels from `last_t` to `t` into the minute buckets.
    fn integrate_to(&mut self, t: Micros) {
        let t = t.min(self.clip);
        while self.last_t < t {
            let m = (self.last_t / MINUTE) as usize;
            let minute_end = (m as Micros + 1) * MINUTE;
            let seg_end = t.min(minute_end);
            let dt = (seg_end - self.last_t) as u128;
            let (busy, alive) = (self.busy.max(0) as u128, self.alive.max(0) as u128);
            let provisioned = self.provisioned.max(0) as u128;
            let level = self.busy.max(0) as u32;
            let minute = self.minute(m);
            minute.busy_us += busy * dt;
            minute.alive_us += alive * dt;
            minute.provisioned_us += provisioned * dt;
            minute.peak_busy = minute.peak_busy.max(level);
            self.last_t = seg_end;
        }
    }

    /// Applies the deltas gathered in this epoch, in time order.
    pub fn end_epoch(&mut self) {
        // Each function's changes come in time order, one function after another; changes at
        // one time are summed, so their order among themselves does not matter. A radix sort
        // is several times faster here than a comparison sort (issue 16: the stable sort was a
        // quarter of a 46,000-function replay's instructions), and sorting 4-byte packed keys
        // rather than 24-byte changes moves a sixth of the bytes.
        let mut packed = std::mem::take(&mut self.packed);
        let mut odd = std::mem::take(&mut self.odd);
        sort_keys(&mut packed, &mut self.scratch);
        radsort::sort_by_key(&mut odd, |d| d.time);
        let base = self.base.take().unwrap_or(0);
        let (mut i, mut j) = (0, 0);
        loop {
            let tp = packed.get(i).map(|&k| base + Micros::from(k >> CODE_BITS));
            let to = odd.get(j).map(|d| d.time);
            let t = match (tp, to) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            let mut sum = [0i64; 4];
            if tp == Some(t) {
                let at = packed[i] >> CODE_BITS;
                while let Some(&k) = packed.get(i)
                    && k >> CODE_BITS == at
                {
                    let [b, a, u] = UNPACK[(k & CODE_MASK) as usize];
                    sum[0] += b;
                    sum[1] += a;
                    sum[2] += u;
                    i += 1;
                }
            }
            while let Some(d) = odd.get(j)
                && d.time == t
            {
                sum[0] += d.busy as i64;
                sum[1] += d.alive as i64;
                sum[2] += d.usage as i64;
                sum[3] += d.provisioned as i64;
                j += 1;
            }
            self.apply(t, sum);
        }
        packed.clear();
        odd.clear();
        self.packed = packed;
        self.odd = odd;
    }

    /// Applies every change at time `t` at once, summed: (busy, alive, usage, provisioned).
    /// Times must not go back.
    fn apply(&mut self, t: Micros, [busy, alive, usage, provisioned]: [i64; 4]) {
        self.integrate_to(t);
        if t > self.lo {
            // The level before this change held during part of the measured window.
            self.peak_usage_measured = self.peak_usage_measured.max(self.usage);
        }
        // Saturating: only a forged partial (`shard::from_shards`) comes near the bounds.
        self.busy = self.busy.saturating_add(busy);
        self.alive = self.alive.saturating_add(alive);
        self.usage = self.usage.saturating_add(usage);
        self.provisioned = self.provisioned.saturating_add(provisioned);
        self.peak_usage = self.peak_usage.max(self.usage);
        if t >= self.lo {
            self.peak_usage_measured = self.peak_usage_measured.max(self.usage);
        }
        if t < self.clip {
            let level = self.busy.max(0) as u32;
            let minute = self.minute((t / MINUTE) as usize);
            minute.peak_busy = minute.peak_busy.max(level);
        }
        if let Some(log) = &mut self.log {
            log.push(t, [busy, alive, usage, provisioned], self.clip);
        }
    }

    /// Integrates to the window end, drops minutes past it and those of the warm-up.
    pub fn finish(&mut self, window_end: Micros) {
        self.end_epoch();
        self.latency = Latency::merged(&self.latency_warm, &self.latency_cold);
        self.clip = self.clip.min(window_end);
        self.integrate_to(window_end);
        // The level left at the end held over the rest of the window.
        if window_end > self.lo {
            self.peak_usage_measured = self.peak_usage_measured.max(self.usage);
        }
        let n = window_end.div_ceil(MINUTE) as usize;
        if self.minutes.len() < n {
            self.minutes.resize(n, Minute::default());
        }
        self.minutes.truncate(n.max(1));
        let skip = ((self.lo / MINUTE) as usize).min(self.minutes.len().saturating_sub(1));
        self.minutes.drain(..skip);
    }

    /// The peak of account usage in the measured window.
    pub fn peak_usage_measured(&self) -> i64 {
        self.peak_usage_measured
    }
}

/// How the functions were scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Independent functions in parallel (the account limit never bound).
    Parallel,
    /// Interleaved in global time order (one function, or the account limit bound).
    Coupled,
}

/// Everything a run produced. Times are microseconds.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The simulated window `[0, window_us)`.
    pub window_us: Micros,
    pub names: Vec<String>,
    /// Each function's application (an index into `app_names`); empty: each function is its own.
    pub apps: Vec<u32>,
    pub app_names: Vec<String>,
    pub functions: Vec<FunctionStats>,
    /// Sums over the functions; `peak_busy` is the run-wide peak.
    pub totals: FunctionStats,
    pub latency: Latency,
    pub latency_warm: Latency,
    pub latency_cold: Latency,
    pub init: Latency,
    pub minutes: Vec<Minute>,
    /// ∫ alive instances dt over the window, instance-microseconds.
    pub alive_integral_us: u128,
    /// The run-wide peak of instances counted against the account limit.
    pub peak_account_usage: u64,
    pub mode: Mode,
    /// Trace rows at or after the horizon, not simulated.
    pub excluded_after_horizon: u64,
    /// How the run started, and what the warm-up left out.
    pub warmup: WarmupReport,
}

/// What the warm-up did (see `engine::Warmup`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WarmupReport {
    /// `none`, `cyclic` or `first DURATION`.
    pub kind: String,
    /// Trace time replayed before the trace's start (cyclic), microseconds.
    pub replayed_us: Micros,
    /// Where the measured window starts in the trace's own clock, microseconds.
    pub measured_from_us: Micros,
    /// Arrivals simulated during the warm-up and left out of every count.
    pub invocations: u64,
    /// Cold starts among them.
    pub cold_starts: u64,
}

/// SitW's per-application numbers over the measured window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppStats {
    /// Cold starts / invocations per application with invocations, percent, in application
    /// order.
    pub cold_start_pct: Vec<f64>,
    /// Loaded-but-not-executing memory-time per application, MB·µs.
    pub idle_mb_us: Vec<u128>,
    pub busy_mb_us: Vec<u128>,
    pub init_mb_us: Vec<u128>,
    pub loaded_mb_us: Vec<u128>,
}

impl Outcome {
    /// The functions' numbers summed per application (SitW's unit).
    pub fn app_stats(&self) -> AppStats {
        let n_apps = if self.apps.len() == self.functions.len() {
            self.app_names.len()
        } else {
            self.functions.len()
        };
        let app_of = |f: usize| -> usize {
            if self.apps.len() == self.functions.len() {
                self.apps[f] as usize
            } else {
                f
            }
        };
        let mut inv = vec![0u64; n_apps];
        let mut cold = vec![0u64; n_apps];
        let mut a = AppStats {
            cold_start_pct: Vec::new(),
            idle_mb_us: vec![0; n_apps],
            busy_mb_us: vec![0; n_apps],
            init_mb_us: vec![0; n_apps],
            loaded_mb_us: vec![0; n_apps],
        };
        for (f, s) in self.functions.iter().enumerate() {
            let i = app_of(f);
            inv[i] += s.invocations;
            cold[i] += s.cold_starts;
            a.idle_mb_us[i] += s.idle_mb_us;
            a.busy_mb_us[i] += s.busy_mb_us;
            a.init_mb_us[i] += s.init_mb_us;
            a.loaded_mb_us[i] += s.loaded_mb_us;
        }
        a.cold_start_pct = inv
            .iter()
            .zip(&cold)
            .filter(|(n, _)| **n > 0)
            .map(|(&n, &c)| 100.0 * c as f64 / n as f64)
            .collect();
        a
    }

    /// The 75th percentile of the applications' cold-start percentages (SitW's "3rd quartile
    /// application cold-start %"), by linear interpolation between order statistics; 0 with
    /// no invocations.
    pub fn app_cold_start_pct_p75(&self) -> f64 {
        let mut v = self.app_stats().cold_start_pct;
        if v.is_empty() {
            return 0.0;
        }
        v.sort_by(f64::total_cmp);
        crate::dist::quantile(&v, 0.75)
    }

    /// The index, in the trace's own clock, of `minutes[0]`.
    pub fn first_minute(&self) -> u64 {
        self.warmup.measured_from_us / MINUTE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed and unpacked changes, at equal and distant times, over several epochs, give the
    /// levels of applying every change sorted by time and summed per time (the plain way).
    #[test]
    fn packed_changes_apply_as_the_plain_time_sorted_sums() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut fast = Collector::new(MINUTE, Some(40 * MINUTE));
        let mut plain = Collector::new(MINUTE, Some(40 * MINUTE));
        let mut t0 = 0;
        let (mut packed, mut odd) = (0, 0);
        for _ in 0..30 {
            let mut epoch = Vec::new();
            let mut bufs = Vec::new();
            for _ in 0..rng.random_range(0..4) {
                let mut buf = Vec::new();
                let mut t = t0;
                for _ in 0..rng.random_range(0..300) {
                    // Equal times are common; a few jump past the packed range (2^27 µs).
                    t += match rng.random_range(0..200) {
                        0..100 => 0,
                        100..199 => rng.random_range(1..300_000),
                        _ => rng.random_range(100_000_000..200_000_000),
                    };
                    let mut v = || rng.random_range(-1..=1);
                    let d = Delta {
                        time: t,
                        busy: v(),
                        alive: v(),
                        usage: v(),
                        provisioned: 0,
                    };
                    let d = match rng.random_range(0..20) {
                        0 => Delta {
                            provisioned: 3,
                            ..d
                        },
                        1 => Delta { busy: -7, ..d },
                        _ => d,
                    };
                    buf.push(d);
                    epoch.push(d);
                }
                bufs.push(buf);
            }
            // Every change of an epoch comes before its end; some buffers were packed for an
            // earlier end (a function's closing changes).
            let t_end = epoch.iter().map(|d| d.time + 1).max().unwrap_or(t0 + 1);
            for (k, changes) in bufs.into_iter().enumerate() {
                let mut buf = EpochBuffer::default();
                buf.set_epoch_end(if k == 2 {
                    t_end.saturating_sub(5_000)
                } else {
                    t_end
                });
                for d in changes {
                    match pack(&d, buf.base) {
                        Some(_) => packed += 1,
                        None => odd += 1,
                    }
                    buf.push(d);
                }
                if k == 3 {
                    buf.set_epoch_end(t_end + 7);
                }
                fast.absorb(&mut buf);
            }
            fast.end_epoch();
            epoch.sort_by_key(|d| d.time);
            for group in epoch.chunk_by(|a, b| a.time == b.time) {
                let mut sum = [0i64; 4];
                for d in group {
                    sum[0] += d.busy as i64;
                    sum[1] += d.alive as i64;
                    sum[2] += d.usage as i64;
                    sum[3] += d.provisioned as i64;
                }
                plain.apply(group[0].time, sum);
            }
            t0 = epoch.last().map_or(t0, |d| d.time);
        }
        assert!(packed > 1_000 && odd > 100, "{packed} packed, {odd} odd");
        fast.finish(40 * MINUTE);
        plain.finish(40 * MINUTE);
        assert_eq!(fast.minutes, plain.minutes);
        assert_eq!(fast.peak_usage, plain.peak_usage);
        assert_eq!(fast.peak_usage_measured, plain.peak_usage_measured);
    }

    #[test]
    fn the_three_pass_radix_sort_sorts() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        let mut scratch = Vec::new();
        // Lengths either side of the in-place cut; all 32 bits, the low 22 (the top pass
        // skipped), the low 11, none (every pass skipped), and a constant low digit.
        for (n, mask) in [
            (0, u32::MAX),
            (1, u32::MAX),
            (1_023, u32::MAX),
            (1_024, u32::MAX),
            (70_000, u32::MAX),
            (50_000, (1 << 22) - 1),
            (50_000, (1 << 11) - 1),
            (5_000, 0),
            (5_000, !((1 << 11) - 1)),
        ] {
            let mut keys: Vec<u32> = (0..n).map(|_| rng.random::<u32>() & mask).collect();
            let mut want = keys.clone();
            want.sort_unstable();
            sort_keys(&mut keys, &mut scratch);
            assert_eq!(keys, want, "{n} keys, mask {mask:#x}");
        }
    }

    #[test]
    fn every_code_unpacks_to_its_changes() {
        for b in -1..=1 {
            for a in -1..=1 {
                for u in -1..=1 {
                    let d = Delta {
                        time: 5,
                        busy: b,
                        alive: a,
                        usage: u,
                        provisioned: 0,
                    };
                    let k = pack(&d, 2).unwrap();
                    assert_eq!(k >> CODE_BITS, 3);
                    assert_eq!(UNPACK[(k & CODE_MASK) as usize], [b, a, u].map(i64::from));
                }
            }
        }
        let d = Delta {
            time: 1 << 27,
            busy: 1,
            alive: 0,
            usage: 0,
            provisioned: 0,
        };
        assert_eq!(pack(&d, 0), None);
        assert!(pack(&d, 1).is_some());
        assert_eq!(pack(&d, (1 << 27) + 1), None);
    }

    /// The five shipped rules, and one no code names, from the same `Granularity` arithmetic.
    #[test]
    fn billing_roundings() {
        let ms = |m: u64| m * 1_000;
        let g = |step, min| Granularity::new(step, min).unwrap();
        let spec = UsageSpec::new([
            g(ms(1), 0),
            g(ms(100), 0),
            g(ms(1), ms(100)),
            g(ms(100), ms(1_000)),
            g(ms(10), ms(50)),
            Granularity::EXACT,
        ]);
        assert_eq!(
            spec.granularities().len(),
            5,
            "EXACT is the raw sum, not recorded"
        );
        let mut r = Rounded::default();
        r.add(1, &spec); // 1 µs
        r.add(100_000, &spec); // exactly 100 ms
        r.add(1_234_567, &spec); // 1.234567 s
        assert_eq!(r.count, 3);
        assert_eq!(r.raw_us, 1 + 100_000 + 1_234_567);
        let sum = |step, min| r.sum(g(step, min)).unwrap();
        assert_eq!(sum(1, 0), r.raw_us);
        assert_eq!(sum(ms(1), 0), 1_000 + 100_000 + 1_235_000);
        assert_eq!(sum(ms(100), 0), 100_000 + 100_000 + 1_300_000);
        assert_eq!(sum(ms(1), ms(100)), 100_000 + 100_000 + 1_235_000);
        assert_eq!(sum(ms(100), ms(1_000)), 1_000_000 + 1_000_000 + 1_300_000);
        assert_eq!(sum(ms(10), ms(50)), 50_000 + 100_000 + 1_240_000);
        assert_eq!(r.sum(g(ms(5), 0)), Err(NotRecorded(g(ms(5), 0))));
        // Nothing recorded sums to 0 under any granularity.
        assert_eq!(Rounded::default().sum(g(ms(5), 0)), Ok(0));
    }

    #[test]
    fn merging_never_keeps_a_partial_sum() {
        let g1 = Granularity::new(1_000, 0).unwrap();
        let g2 = Granularity::new(100_000, 0).unwrap();
        let mut a = Rounded::default();
        a.add(1_500, &UsageSpec::new([g1, g2]));
        let mut b = Rounded::default();
        b.add(2_500, &UsageSpec::new([g1]));
        let mut total = Rounded::default();
        total.merge(&a);
        assert_eq!(total, a);
        total.merge(&b);
        assert_eq!(total.count, 2);
        assert_eq!(total.sum(g1), Ok(2_000 + 3_000));
        assert_eq!(total.sum(g2), Err(NotRecorded(g2)));
    }

    #[test]
    fn granularities_print_as_the_shorthand() {
        let g = |step, min| Granularity::new(step, min).unwrap().to_string();
        assert_eq!(g(1, 0), "none");
        assert_eq!(g(1_000, 0), "1ms");
        assert_eq!(g(1_000, 100_000), "1ms-min-100ms");
        assert_eq!(g(100_000, 1_000_000), "100ms-min-1s");
        assert_eq!(g(1, 500), "1us-min-500us");
        assert!(Granularity::new(0, 0).is_none());
    }
}
