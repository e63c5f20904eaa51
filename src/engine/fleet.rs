//! The server side of the comparison: a fleet of identical instances, each with a number of request
//! slots, behind one FCFS queue, fixed in size or autoscaled by target tracking (as an AWS Auto
//! Scaling group or a Kubernetes HPA). Replays the same trace as the FaaS engine.
//!
//! Event order at equal times: completions and boots (they free or add capacity), then the
//! autoscaler's evaluation, then trace arrivals (in (time, function) order).
//!
//! CPU: with a [`FleetCpu`] (a CPU profile, `--cpu-bound`), a slot only caps admission: the
//! CPU-bound part of every request in service runs on the server's vCPUs by processor sharing
//! ([`super::ps`]), then the rest of its duration (I/O, waiting) passes without CPU. Without one
//! (the default) each slot serves its request in the traced duration × the speed rule, as if it
//! had a CPU of its own: the fleet's behaviour before CPUs were modelled.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

use super::cpu::CpuReference;
use super::ps::{Ps, milli_vcpu};
use crate::error::ConfigError;
use crate::outcome::fleet::{FleetMinute, FleetOutcome, InstanceLife, ScaleEvent};
use crate::time::{MINUTE, Micros};
use crate::trace::stream::ArrivalSource;
use crate::trace::{Invocation, Trace};

/// Target-tracking autoscaling.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    /// Target mean slot utilisation over an evaluation interval, in (0, 1].
    pub target: f64,
    /// How often the autoscaler evaluates, microseconds (default 60 s).
    pub interval: Micros,
    /// From launch to serving, microseconds; the instance is billed meanwhile (default 90 s).
    pub boot_delay: Micros,
    /// No scale-in until this long after the last scaling action, microseconds (default 300 s).
    pub cooldown: Micros,
    /// The fastest scale-out: capacity at most doubles per this long, microseconds (Lambda
    /// Managed Instances); `None`: as many as the target asks for at once.
    pub doubling: Option<Micros>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FleetSize {
    Fixed(u32),
    Auto(Autoscale),
}

/// How request durations from the trace become service times on a server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Service time = duration × factor.
    Factor(f64),
    /// The FaaS CPU-share rule: a function of `memory_mb` ran on min(1, memory_mb / 1769) of a
    /// vCPU (Lambda allots 1 vCPU at 1,769 MB), so on a whole server vCPU it takes that share of
    /// its traced duration. Rows without memory use `default_memory_mb`.
    CpuShare { default_memory_mb: u16 },
}

/// MB of Lambda memory that buy one vCPU (AWS Lambda docs, "configuration-memory").
pub const LAMBDA_MB_PER_VCPU: f64 = 1769.0;

impl Speed {
    fn service(self, inv: &Invocation) -> Micros {
        let factor = match self {
            Speed::Factor(f) => f,
            Speed::CpuShare { default_memory_mb } => {
                let mem = if inv.memory_mb == 0 {
                    default_memory_mb
                } else {
                    inv.memory_mb
                };
                (f64::from(mem) / LAMBDA_MB_PER_VCPU).min(1.0)
            }
        };
        (inv.duration as f64 * factor).round() as Micros
    }
}

/// The CPU of a fleet's servers and the function's CPU profile.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetCpu {
    /// vCPUs of one server.
    pub vcpus: f64,
    /// The CPU-bound fraction of a (speed-adjusted) traced duration, in [0, 1].
    pub bound: f64,
    /// Threads a request's CPU-bound part can use: its most vCPUs, at least 1.
    pub threads: f64,
    /// The CPU the durations were measured at.
    pub reference: CpuReference,
    /// The memory of rows without one, for a reference by row memory.
    pub default_memory_mb: u16,
    /// CPU credits of a burstable server; `None`: its vCPUs are always there.
    pub burst: Option<FleetBurst>,
}

/// A burstable server's CPU credits (1 credit = 1 vCPU-minute). The balance earns the baseline
/// continuously and pays for the CPU in use; it holds at most `max_credits`. Out of credits a
/// standard server runs at its baseline until its demand falls below it; an unlimited one keeps
/// its vCPUs and runs a negative balance (surplus credits), paid back by later earnings, charged
/// beyond `max_credits` at once and, for what is left, at the end of its life or of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetBurst {
    /// vCPUs the earned credits pay for continuously.
    pub baseline_vcpu: f64,
    pub max_credits: f64,
    /// The balance at launch, credits.
    pub initial_credits: f64,
    pub unlimited: bool,
}

/// Milli-vCPU-microseconds per credit (a vCPU-minute).
const MVCPU_US_PER_CREDIT: f64 = 60.0 * 1e6 * 1e3;

/// [`FleetBurst`] in the engine's integers.
#[derive(Debug, Clone, Copy)]
struct Credits {
    earn: u64,
    full: u64,
    max: i128,
    initial: i128,
    unlimited: bool,
}

/// One server's credit balance, milli-vCPU-microseconds, as of `last`.
#[derive(Debug, Clone)]
struct Balance {
    balance: i128,
    last: Micros,
    /// Held to the baseline (standard mode, out of credits).
    throttled: bool,
    /// The time of the one run-out event that counts.
    due: Option<Micros>,
}

impl FleetCpu {
    /// A request's CPU work (vCPU-microseconds: its CPU-bound part ran on `min(c_ref, threads)`
    /// vCPUs) and the rest of its duration (microseconds, no CPU). `d` is already
    /// speed-adjusted.
    fn split(&self, d: Micros, row_mb: u16) -> (Micros, Micros) {
        let c_ref = match &self.reference {
            CpuReference::Vcpu(v) => *v,
            CpuReference::RowMemory(rule) => rule.vcpu(if row_mb == 0 {
                self.default_memory_mb
            } else {
                row_mb
            }),
        };
        let d = d as f64;
        let work = self.bound * d * c_ref.min(self.threads);
        let rest = (1.0 - self.bound) * d;
        (work.round() as Micros, rest.round() as Micros)
    }
}

/// A validated fleet configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// Concurrent requests per instance.
    pub slots: u32,
    pub size: FleetSize,
    pub speed: Speed,
    /// Most requests that may wait; more are rejected (`None`: unbounded).
    pub queue_limit: Option<u64>,
    /// Longest a request may wait; it is rejected then (`None`: forever).
    pub max_wait: Option<Micros>,
    pub horizon: Option<Micros>,
    /// The servers' CPU and the function's CPU profile; `None`: slots serve as traced.
    pub cpu: Option<FleetCpu>,
}

impl FleetConfig {
    /// Checks the configuration; errors name the field (`fleet.size.autoscale.interval`), which
    /// the binary maps to `--fleet`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let size = match &self.size {
            FleetSize::Fixed(n) => *n,
            FleetSize::Auto(a) => a.max,
        };
        if size > MAX_SERVERS {
            return Err(ConfigError::field(
                "fleet.size",
                format!("{size} servers: a fleet has at most {MAX_SERVERS}"),
            ));
        }
        if let FleetSize::Auto(a) = &self.size
            && a.interval < crate::time::SECOND
        {
            return Err(ConfigError::field(
                "fleet.size.autoscale.interval",
                format!(
                    "evaluation interval {} us: must be at least 1 s (CloudWatch-driven target \
                     tracking evaluates every minute)",
                    a.interval
                ),
            ));
        }
        if self.slots == 0 {
            return Err(ConfigError::field(
                "fleet.slots",
                "slots must be at least 1",
            ));
        }
        if let Speed::Factor(f) = self.speed
            && !(f.is_finite() && f > 0.0)
        {
            return Err(ConfigError::field(
                "fleet.speed",
                format!("speed factor {f}: must be a positive number"),
            ));
        }
        if let Some(c) = &self.cpu {
            if !(c.vcpus.is_finite() && c.vcpus > 0.0) {
                return Err(ConfigError::field(
                    "fleet.cpu.vcpus",
                    format!("{}: must be a positive number", c.vcpus),
                ));
            }
            if !(c.bound.is_finite() && (0.0..=1.0).contains(&c.bound)) {
                return Err(ConfigError::field(
                    "cpu.bound",
                    format!("{}: must be between 0 and 1", c.bound),
                ));
            }
            if !(c.threads.is_finite() && c.threads >= 1.0) {
                return Err(ConfigError::field(
                    "cpu.threads",
                    format!("{}: must be at least 1", c.threads),
                ));
            }
        }
        match &self.size {
            FleetSize::Fixed(0) => {
                Err(ConfigError::field("fleet.size", "count must be at least 1"))
            }
            FleetSize::Fixed(_) => Ok(()),
            FleetSize::Auto(a) => {
                if a.max == 0 || a.min > a.max {
                    return Err(ConfigError::field(
                        "fleet.size.autoscale",
                        format!(
                            "autoscale {}..{}: need 0 <= MIN <= MAX and MAX >= 1",
                            a.min, a.max
                        ),
                    ));
                }
                if !(a.target > 0.0 && a.target <= 1.0) {
                    return Err(ConfigError::field(
                        "fleet.size.autoscale.target",
                        format!("autoscale target {}: must be in (0, 1]", a.target),
                    ));
                }
                if a.interval == 0 {
                    return Err(ConfigError::field(
                        "fleet.size.autoscale.interval",
                        "evaluation interval must be greater than 0",
                    ));
                }
                Ok(())
            }
        }
    }
}

/// The most servers a fleet may have (fixed count or autoscaling maximum); the SLO sizing of a
/// fixed fleet searches up to it.
pub const MAX_SERVERS: u32 = 10_000;

#[derive(Debug, Clone)]
struct Server {
    launched: Micros,
    ready: bool,
    busy: u32,
    draining: bool,
    gone: bool,
    /// With a CPU model: the requests' CPU-bound parts, by processor sharing. A job carries
    /// (arrival, the rest of its duration).
    cpu: Option<Ps<(Micros, Micros)>>,
    /// The time of the one `CpuDone` event that counts for this server (others are stale).
    cpu_due: Option<Micros>,
    /// A burstable server's credits.
    credit: Option<Balance>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Completion(u32),
    /// The server's next CPU completion (stale unless it equals the server's `cpu_due`).
    CpuDone(u32),
    /// A standard burstable server runs out of credits (stale unless it equals its `due`).
    CreditOut(u32),
    BootDone(u32),
    Evaluate,
}

#[derive(Debug, Clone, Copy)]
struct Waiting {
    arrival: Micros,
    /// The whole service time (no CPU model), or the part after the CPU work.
    service: Micros,
    /// CPU work, vCPU-microseconds (0 without a CPU model).
    work: Micros,
}

struct Fleet<'c> {
    cfg: &'c FleetConfig,
    heap: BinaryHeap<Reverse<(Micros, u8, u64, Kind)>>,
    seq: u64,
    servers: Vec<Server>,
    /// Ready, not draining, with a free slot; the lowest index is used first (packing).
    free: BTreeSet<u32>,
    queue: VecDeque<Waiting>,
    out: FleetOutcome,
    // Levels and their integrals.
    busy_slots: u64,
    /// Milli-vCPU in use over all servers.
    busy_cpu: u64,
    /// Servers held to their baseline.
    throttled: u64,
    credits: Option<Credits>,
    capacity_slots: u64,
    alive: u64,
    booting: u64,
    last_t: Micros,
    clip: Micros,
    // Autoscaler bookkeeping.
    busy_at_eval: u128,
    capacity_at_eval: u128,
    cpu_at_eval: u128,
    last_action: Option<Micros>,
}

impl<'c> Fleet<'c> {
    fn push(&mut self, time: Micros, kind: Kind) {
        self.seq += 1;
        let phase = if matches!(kind, Kind::Evaluate) { 1 } else { 0 };
        self.heap.push(Reverse((time, phase, self.seq, kind)));
    }

    fn minute(&mut self, t: Micros) -> &mut FleetMinute {
        let m = (t / MINUTE) as usize;
        if m >= self.out.minutes.len() {
            self.out.minutes.resize(m + 1, FleetMinute::default());
        }
        &mut self.out.minutes[m]
    }

    /// Integrates the levels up to `t` (clipped at the horizon).
    fn advance(&mut self, t: Micros) {
        let t = t.min(self.clip);
        while self.last_t < t {
            let m_end = (self.last_t / MINUTE + 1) * MINUTE;
            let seg = t.min(m_end);
            let dt = (seg - self.last_t) as u128;
            let (busy, cap, alive) = (self.busy_slots, self.capacity_slots, self.alive);
            let cpu = self.busy_cpu as u128 * dt;
            self.out.busy_cpu_mvcpu_us += cpu;
            self.out.throttled_us += self.throttled as u128 * dt;
            self.out.busy_slot_us += busy as u128 * dt;
            self.out.capacity_slot_us += cap as u128 * dt;
            self.out.instance_us += alive as u128 * dt;
            let last_t = self.last_t;
            let minute = self.minute(last_t);
            minute.busy_slot_us += busy as u128 * dt;
            minute.busy_cpu_mvcpu_us += cpu;
            minute.instance_us += alive as u128 * dt;
            minute.peak_instances = minute.peak_instances.max(alive as u32);
            self.last_t = seg;
        }
    }

    fn launch(&mut self, now: Micros, ready_at: Option<Micros>) {
        let id = self.servers.len() as u32;
        self.servers.push(Server {
            launched: now,
            ready: ready_at.is_none(),
            busy: 0,
            draining: false,
            gone: false,
            cpu: self
                .cfg
                .cpu
                .as_ref()
                .map(|c| Ps::new(milli_vcpu(c.vcpus), milli_vcpu(c.threads))),
            cpu_due: None,
            credit: self.credits.map(|c| Balance {
                balance: c.initial,
                last: now,
                throttled: false,
                due: None,
            }),
        });
        self.alive += 1;
        self.out.launches += 1;
        match ready_at {
            None => {
                self.capacity_slots += self.cfg.slots as u64;
                self.free.insert(id);
            }
            Some(t) => {
                self.booting += 1;
                self.push(t, Kind::BootDone(id));
            }
        }
        self.note_instances();
    }

    fn note_instances(&mut self) {
        let n = self.alive as u32;
        self.out.instances_max = self.out.instances_max.max(n);
        self.out.instances_min = self.out.instances_min.min(n);
    }

    fn terminate(&mut self, now: Micros, id: u32) {
        let s = &mut self.servers[id as usize];
        debug_assert!(s.busy == 0 && !s.gone);
        s.gone = true;
        let launched = s.launched;
        let was_counted = s.ready && !s.draining;
        self.free.remove(&id);
        if was_counted {
            self.capacity_slots -= self.cfg.slots as u64;
        }
        self.alive -= 1;
        self.credit_settle(now, id);
        self.charge_surplus(id);
        self.bill(launched, now);
        self.note_instances();
    }

    /// Records an instance's life for the bill, up to the window's end; the catalogue's rule
    /// (per second or per hour, minimum per start) is applied by `servers::bill_fleet`.
    fn bill(&mut self, launched: Micros, end: Micros) {
        let end = end.min(self.clip).max(launched);
        self.out.lives.push(InstanceLife {
            launched_us: launched,
            end_us: end,
        });
    }

    fn start(&mut self, now: Micros, id: u32, w: Waiting) {
        let s = &mut self.servers[id as usize];
        s.busy += 1;
        if s.busy == self.cfg.slots {
            self.free.remove(&id);
        }
        self.busy_slots += 1;
        let wait = now - w.arrival;
        if wait > 0 {
            self.out.waited += 1;
            self.minute(w.arrival).waited += 1;
        }
        self.out.served += 1;
        self.out.queue_wait.record(wait);
        let s = &mut self.servers[id as usize];
        match &mut s.cpu {
            None => {
                self.out.latency.record(wait + w.service);
                self.push(now + w.service, Kind::Completion(id));
            }
            Some(_) => {
                self.cpu_op(now, id, |ps| ps.add(now, w.work, (w.arrival, w.service)));
                self.schedule_cpu(id);
            }
        }
    }

    /// Changes server `id`'s CPU jobs: settles its credits first, keeps the fleet's CPU level,
    /// then applies the credit rules (which may change its capacity).
    fn cpu_op<R>(
        &mut self,
        now: Micros,
        id: u32,
        op: impl FnOnce(&mut Ps<(Micros, Micros)>) -> R,
    ) -> Option<R> {
        self.credit_settle(now, id);
        let ps = self.servers[id as usize].cpu.as_mut()?;
        let before = ps.busy_milli();
        let r = op(ps);
        self.busy_cpu = self.busy_cpu + ps.busy_milli() - before;
        self.credit_rules(now, id);
        Some(r)
    }

    /// Brings server `id`'s credit balance to `now` at its current CPU use.
    fn credit_settle(&mut self, now: Micros, id: u32) {
        let Some(k) = self.credits else {
            return;
        };
        let s = &mut self.servers[id as usize];
        let (Some(c), Some(ps)) = (s.credit.as_mut(), s.cpu.as_ref()) else {
            return;
        };
        let dt = now.saturating_sub(c.last) as i128;
        c.last = c.last.max(now);
        // Linear between changes, so clamping at the end is exact.
        c.balance += (k.earn as i128 - ps.busy_milli() as i128) * dt;
        c.balance = c.balance.min(k.max);
        let mut charged = 0;
        if k.unlimited {
            if c.balance < -k.max {
                charged = -k.max - c.balance;
                c.balance = -k.max;
            }
        } else {
            c.balance = c.balance.max(0); // the run-out event is rounded up to the microsecond
        }
        self.out.surplus_mvcpu_us += charged as u128;
    }

    /// An unlimited server's surplus credits still owed are charged (its life or the window ends).
    fn charge_surplus(&mut self, id: u32) {
        if let Some(c) = self.servers[id as usize].credit.as_mut()
            && c.balance < 0
        {
            self.out.surplus_mvcpu_us += (-c.balance) as u128;
            c.balance = 0;
        }
    }

    /// Standard mode: out of credits with more demand than the baseline, the server drops to its
    /// baseline; once its demand fits under the baseline it has its vCPUs again. Then schedules
    /// the next run-out.
    fn credit_rules(&mut self, now: Micros, id: u32) {
        let Some(k) = self.credits else {
            return;
        };
        let s = &mut self.servers[id as usize];
        let (Some(c), Some(ps)) = (s.credit.as_mut(), s.cpu.as_mut()) else {
            return;
        };
        let before = ps.busy_milli();
        if !k.unlimited {
            if c.throttled && ps.demand_milli() <= k.earn {
                ps.set_capacity(now, k.full);
                c.throttled = false;
                self.throttled -= 1;
            } else if !c.throttled && c.balance <= 0 && ps.busy_milli() > k.earn {
                ps.set_capacity(now, k.earn);
                c.throttled = true;
                self.throttled += 1;
            }
        }
        let busy = ps.busy_milli();
        self.busy_cpu = self.busy_cpu + busy - before;
        let next = (!k.unlimited && !c.throttled && busy > k.earn).then(|| {
            let rate = i128::from(busy - k.earn);
            now + (c.balance.max(0) + rate - 1).div_euclid(rate) as Micros
        });
        if next != c.due {
            c.due = next;
            if let Some(t) = next {
                self.push(t, Kind::CreditOut(id));
            }
        }
    }

    fn credit_out(&mut self, now: Micros, id: u32) {
        let Some(c) = self.servers[id as usize].credit.as_mut() else {
            return;
        };
        if c.due != Some(now) {
            return; // superseded
        }
        c.due = None;
        self.credit_settle(now, id);
        self.credit_rules(now, id);
        self.schedule_cpu(id);
    }

    /// Makes the server's next CPU completion the event that counts (once per change).
    fn schedule_cpu(&mut self, id: u32) {
        let s = &mut self.servers[id as usize];
        let next = s.cpu.as_ref().and_then(Ps::next_completion);
        if next != s.cpu_due {
            s.cpu_due = next;
            if let Some(t) = next {
                self.push(t, Kind::CpuDone(id));
            }
        }
    }

    /// The CPU parts that finished at `now`: each request's latency is now known; it leaves its
    /// slot after the rest of its duration.
    fn cpu_done(&mut self, now: Micros, id: u32) {
        if self.servers[id as usize].cpu_due != Some(now) {
            return; // superseded by a later change on this server
        }
        self.servers[id as usize].cpu_due = None;
        while let Some(Some((arrival, rest))) = self.cpu_op(now, id, |ps| ps.pop_done(now)) {
            self.out.latency.record(now + rest - arrival);
            if rest == 0 {
                self.complete(now, id);
            } else {
                self.push(now + rest, Kind::Completion(id));
            }
        }
        self.schedule_cpu(id);
    }

    /// The next request from the queue that has not waited too long.
    fn pop_queue(&mut self, now: Micros) -> Option<Waiting> {
        while let Some(w) = self.queue.pop_front() {
            if self.cfg.max_wait.is_some_and(|m| now - w.arrival > m) {
                self.reject(w.arrival);
                continue;
            }
            return Some(w);
        }
        None
    }

    fn reject(&mut self, arrival: Micros) {
        self.out.rejected += 1;
        self.minute(arrival).rejected += 1;
    }

    fn fill_from_queue(&mut self, now: Micros, id: u32) {
        while self.servers[id as usize].busy < self.cfg.slots && !self.servers[id as usize].draining
        {
            let Some(w) = self.pop_queue(now) else {
                break;
            };
            self.start(now, id, w);
        }
    }

    fn complete(&mut self, now: Micros, id: u32) {
        self.busy_slots -= 1;
        let s = &mut self.servers[id as usize];
        s.busy -= 1;
        if s.draining {
            if s.busy == 0 {
                self.terminate(now, id);
            }
            return;
        }
        self.free.insert(id);
        self.fill_from_queue(now, id);
    }

    fn boot_done(&mut self, now: Micros, id: u32) {
        let s = &mut self.servers[id as usize];
        if s.gone {
            return;
        }
        s.ready = true;
        self.booting -= 1;
        self.out.boot_events += 1;
        if s.draining {
            return;
        }
        self.capacity_slots += self.cfg.slots as u64;
        self.free.insert(id);
        self.fill_from_queue(now, id);
    }

    fn arrive(&mut self, now: Micros, inv: &Invocation) {
        self.out.invocations += 1;
        self.minute(now).invocations += 1;
        let service = self.cfg.speed.service(inv);
        let w = match &self.cfg.cpu {
            None => Waiting {
                arrival: now,
                service,
                work: 0,
            },
            Some(c) => {
                let d = match self.cfg.speed {
                    Speed::Factor(_) => service,
                    // The profile says what CPU the duration was measured at.
                    Speed::CpuShare { .. } => inv.duration,
                };
                let (work, rest) = c.split(d, inv.memory_mb);
                Waiting {
                    arrival: now,
                    service: rest,
                    work,
                }
            }
        };
        if self.queue.is_empty()
            && let Some(&id) = self.free.first()
        {
            self.start(now, id, w);
            return;
        }
        if self
            .cfg
            .queue_limit
            .is_some_and(|l| self.queue.len() as u64 >= l)
        {
            self.reject(now);
            return;
        }
        self.queue.push_back(w);
        self.out.peak_queue = self.out.peak_queue.max(self.queue.len() as u64);
    }

    fn evaluate(&mut self, now: Micros, a: &Autoscale) {
        let busy = self.out.busy_slot_us - self.busy_at_eval;
        let cap = self.out.capacity_slot_us - self.capacity_at_eval;
        self.busy_at_eval = self.out.busy_slot_us;
        self.capacity_at_eval = self.out.capacity_slot_us;
        let cpu_busy = self.out.busy_cpu_mvcpu_us - self.cpu_at_eval;
        self.cpu_at_eval = self.out.busy_cpu_mvcpu_us;
        let in_service = self
            .servers
            .iter()
            .filter(|s| s.ready && !s.draining && !s.gone)
            .count() as u32;
        let pending = self.booting as u32;
        // Utilisation over the interval; with no capacity, any queue means "full".
        let mut util = if cap > 0 {
            busy as f64 / cap as f64
        } else if self.queue.is_empty() {
            0.0
        } else {
            1.0
        };
        // With a CPU model the busier of slots and vCPUs decides (a server whose CPUs are
        // saturated is full whatever its free slots).
        if let Some(c) = &self.cfg.cpu
            && cap > 0
        {
            let cpu_cap = cap as f64 / f64::from(self.cfg.slots) * milli_vcpu(c.vcpus) as f64;
            util = util.max(cpu_busy as f64 / cpu_cap);
        }
        let base = in_service.max(1);
        let mut desired = (f64::from(base) * util / a.target).ceil() as u32;
        if !self.queue.is_empty() {
            desired = desired.max(in_service + 1);
        }
        let desired = desired.clamp(a.min, a.max);
        let current = in_service + pending;
        // At most ×2^(interval / doubling) per evaluation (and at least one more).
        let desired = match a.doubling {
            Some(d) if desired > current => {
                let pace = 2f64.powf(a.interval as f64 / d.max(1) as f64);
                let most = (f64::from(current.max(1)) * pace).ceil() as u32;
                desired.min(most.max(current + 1)).min(a.max)
            }
            _ => desired,
        };
        if desired > current {
            for _ in current..desired {
                self.launch(now, Some(now + a.boot_delay));
            }
            self.out.scale_events.push(ScaleEvent {
                time_s: now as f64 / 1e6,
                from: current,
                to: desired,
                utilisation: util,
            });
            self.last_action = Some(now);
        } else if desired < in_service
            && self
                .last_action
                .is_none_or(|t| now.saturating_sub(t) >= a.cooldown)
        {
            let mut remove = in_service - desired;
            // Idle instances first, newest first; then drain the emptiest.
            let mut candidates: Vec<u32> = (0..self.servers.len() as u32)
                .rev()
                .filter(|&i| {
                    let s = &self.servers[i as usize];
                    s.ready && !s.draining && !s.gone
                })
                .collect();
            candidates.sort_by_key(|&i| self.servers[i as usize].busy);
            for id in candidates {
                if remove == 0 {
                    break;
                }
                if self.servers[id as usize].busy == 0 {
                    self.terminate(now, id);
                } else {
                    let s = &mut self.servers[id as usize];
                    s.draining = true;
                    self.free.remove(&id);
                    self.capacity_slots -= self.cfg.slots as u64;
                }
                remove -= 1;
            }
            self.out.scale_events.push(ScaleEvent {
                time_s: now as f64 / 1e6,
                from: current,
                to: desired,
                utilisation: util,
            });
            self.last_action = Some(now);
        }
    }
}

/// A [`FleetConfig`] checked by [`FleetConfig::validated`]: the only fleet [`simulate_fleet`]
/// takes (a zero evaluation interval would evaluate at the same instant forever).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidFleet(FleetConfig);

impl ValidFleet {
    /// The same fleet with a fixed count of `n` instances (at least 1), as SLO sizing tries.
    pub fn with_fixed(&self, n: std::num::NonZeroU32) -> ValidFleet {
        let mut c = self.0.clone();
        c.size = FleetSize::Fixed(n.get());
        ValidFleet(c)
    }
}

impl std::ops::Deref for ValidFleet {
    type Target = FleetConfig;
    fn deref(&self) -> &FleetConfig {
        &self.0
    }
}

impl FleetConfig {
    /// Checks the configuration ([`Self::validate`]) and returns the fleet the engine takes.
    pub fn validated(&self) -> Result<ValidFleet, ConfigError> {
        self.validate()?;
        Ok(ValidFleet(self.clone()))
    }
}

/// Replays every function of `trace` through one fleet (validated with
/// [`FleetConfig::validated`]).
pub fn simulate_fleet(trace: &Trace, cfg: &ValidFleet) -> FleetOutcome {
    let slices: Vec<&[Invocation]> = (0..trace.functions().len())
        .map(|i| trace.function_invocations(i))
        .collect();
    replay(Held::new(slices), cfg)
}

/// [`simulate_fleet`] on a trace that is not held: `src` gives its rows (of `functions`
/// functions, `rows` in all, also those after the horizon; its horizon must be the fleet's),
/// a minute at a time as the replay reaches them. The outcome is [`simulate_fleet`]'s on the
/// whole trace.
pub fn simulate_fleet_stream<S: ArrivalSource>(
    src: S,
    functions: usize,
    rows: u64,
    cfg: &ValidFleet,
) -> FleetOutcome {
    replay(Streamed::new(src, functions, rows), cfg)
}

/// Where a fleet's arrivals come from, in (time, function) order.
trait Arrivals {
    /// The time of the next arrival, if any.
    fn peek(&mut self) -> Option<Micros>;
    /// The next arrival.
    fn pop(&mut self) -> Option<Invocation>;
    /// The rows not replayed (at or after the horizon).
    fn excluded(&self) -> u64;
}

/// The arrivals of a held trace: a k-way merge of its functions' rows.
struct Held<'t> {
    slices: Vec<&'t [Invocation]>,
    cursors: Vec<usize>,
    heads: BinaryHeap<Reverse<(Micros, u32)>>,
}

impl<'t> Held<'t> {
    fn new(slices: Vec<&'t [Invocation]>) -> Held<'t> {
        let heads = slices
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.first().map(|inv| Reverse((inv.arrival, i as u32))))
            .collect();
        Held {
            cursors: vec![0; slices.len()],
            slices,
            heads,
        }
    }
}

impl Arrivals for Held<'_> {
    fn peek(&mut self) -> Option<Micros> {
        self.heads.peek().map(|Reverse((t, _))| *t)
    }

    fn pop(&mut self) -> Option<Invocation> {
        let Reverse((_, i)) = self.heads.pop()?;
        let s = self.slices[i as usize];
        let c = &mut self.cursors[i as usize];
        let inv = s[*c];
        *c += 1;
        if let Some(next) = s.get(*c) {
            self.heads.push(Reverse((next.arrival, i)));
        }
        Some(inv)
    }

    fn excluded(&self) -> u64 {
        self.slices
            .iter()
            .zip(&self.cursors)
            .map(|(s, &c)| (s.len() - c) as u64)
            .sum()
    }
}

/// The arrivals of a streamed trace: the same k-way merge over each function's rows given so
/// far. Every row before the source's next minute with rows not given has been given, so an
/// arrival before it is the next; past it, the source gives the next minute.
struct Streamed<S> {
    src: S,
    bufs: Vec<Vec<Invocation>>,
    cursors: Vec<usize>,
    heads: BinaryHeap<Reverse<(Micros, u32)>>,
    /// Every row before this time has been given.
    given_before: Micros,
    rows: u64,
    popped: u64,
}

impl<S: ArrivalSource> Streamed<S> {
    fn new(src: S, functions: usize, rows: u64) -> Streamed<S> {
        let given_before = src.next_arrival_minute().unwrap_or(Micros::MAX);
        Streamed {
            src,
            bufs: vec![Vec::new(); functions],
            cursors: vec![0; functions],
            heads: BinaryHeap::new(),
            given_before,
            rows,
            popped: 0,
        }
    }

    /// Gives the rows of the source's next minute with rows not given (and any the source
    /// gives with them).
    fn fill(&mut self) {
        let Some(m) = self.src.next_arrival_minute() else {
            self.given_before = Micros::MAX;
            return;
        };
        // Functions whose rows were all replayed start their buffers again.
        let waiting: Vec<bool> = self
            .bufs
            .iter_mut()
            .zip(&mut self.cursors)
            .map(|(b, c)| {
                if *c == b.len() {
                    b.clear();
                    *c = 0;
                    true
                } else {
                    false
                }
            })
            .collect();
        self.src.fill(m + MINUTE, &mut self.bufs);
        for (f, w) in waiting.iter().enumerate() {
            if *w && let Some(first) = self.bufs[f].first() {
                self.heads.push(Reverse((first.arrival, f as u32)));
            }
        }
        self.given_before = self.src.next_arrival_minute().unwrap_or(Micros::MAX);
    }
}

impl<S: ArrivalSource> Arrivals for Streamed<S> {
    fn peek(&mut self) -> Option<Micros> {
        loop {
            match self.heads.peek() {
                Some(&Reverse((t, _))) if t < self.given_before => return Some(t),
                _ if self.given_before == Micros::MAX => {
                    return self.heads.peek().map(|Reverse((t, _))| *t);
                }
                _ => self.fill(),
            }
        }
    }

    fn pop(&mut self) -> Option<Invocation> {
        self.peek()?;
        let Reverse((_, i)) = self.heads.pop()?;
        let (b, c) = (&self.bufs[i as usize], &mut self.cursors[i as usize]);
        let inv = b[*c];
        *c += 1;
        if let Some(next) = b.get(*c) {
            self.heads.push(Reverse((next.arrival, i)));
        }
        self.popped += 1;
        Some(inv)
    }

    fn excluded(&self) -> u64 {
        // `rows` counts every row of the trace, `popped` those replayed.
        self.rows.saturating_sub(self.popped)
    }
}

fn replay(mut arrivals: impl Arrivals, cfg: &ValidFleet) -> FleetOutcome {
    let cfg: &FleetConfig = cfg;
    let clip = cfg.horizon.unwrap_or(Micros::MAX);
    let mut f = Fleet {
        cfg,
        heap: BinaryHeap::new(),
        seq: 0,
        servers: Vec::new(),
        free: BTreeSet::new(),
        queue: VecDeque::new(),
        out: FleetOutcome::default(),
        busy_slots: 0,
        busy_cpu: 0,
        throttled: 0,
        credits: cfg.cpu.as_ref().and_then(|c| {
            c.burst.as_ref().map(|b| Credits {
                earn: milli_vcpu(b.baseline_vcpu),
                full: milli_vcpu(c.vcpus),
                max: (b.max_credits * MVCPU_US_PER_CREDIT).round() as i128,
                initial: (b.initial_credits * MVCPU_US_PER_CREDIT).round() as i128,
                unlimited: b.unlimited,
            })
        }),
        capacity_slots: 0,
        alive: 0,
        booting: 0,
        last_t: 0,
        clip,
        busy_at_eval: 0,
        capacity_at_eval: 0,
        cpu_at_eval: 0,
        last_action: None,
    };
    f.out.instances_min = u32::MAX;
    let initial = match &cfg.size {
        FleetSize::Fixed(n) => *n,
        FleetSize::Auto(a) => a.min.max(1),
    };
    for _ in 0..initial {
        f.launch(0, None);
    }
    f.out.launches = 0; // the initial fleet is not a scaling launch
    // The launches above passed through 1..initial; the fleet starts at `initial`.
    f.out.instances_min = f.alive as u32;
    if let FleetSize::Auto(a) = &cfg.size {
        f.push(a.interval, Kind::Evaluate);
    }

    let mut last_event = 0;
    loop {
        let next_timer = f.heap.peek().map(|Reverse((t, p, _, _))| (*t, *p));
        let next_arrival = arrivals.peek().filter(|&t| t < clip);
        // Stop evaluating once nothing else is left to happen.
        // With no request in a slot or queued and nothing booting, no completion, boot, CPU or
        // credit event can be valid: what is left are evaluations and superseded events.
        let only_evaluations = next_arrival.is_none()
            && f.queue.is_empty()
            && f.busy_slots == 0
            && f.booting == 0
            && next_timer.is_some();
        if only_evaluations {
            break;
        }
        let take_timer = match (next_timer, next_arrival) {
            (Some((t, _)), Some(a)) => t <= a,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_timer {
            let Some(Reverse((t, _, _, kind))) = f.heap.pop() else {
                break;
            };
            // A superseded CPU or credit event is no event: it neither advances time nor
            // stretches the window.
            let stale = match kind {
                Kind::CpuDone(id) => f.servers[id as usize].cpu_due != Some(t),
                Kind::CreditOut(id) => f.servers[id as usize]
                    .credit
                    .as_ref()
                    .is_none_or(|c| c.due != Some(t)),
                _ => false,
            };
            if stale {
                continue;
            }
            f.advance(t);
            last_event = last_event.max(t);
            match kind {
                Kind::Completion(id) => f.complete(t, id),
                Kind::CpuDone(id) => f.cpu_done(t, id),
                Kind::CreditOut(id) => f.credit_out(t, id),
                Kind::BootDone(id) => f.boot_done(t, id),
                Kind::Evaluate => {
                    if let FleetSize::Auto(a) = &cfg.size {
                        f.evaluate(t, a);
                        f.push(t + a.interval, Kind::Evaluate);
                    }
                }
            }
        } else {
            let Some(inv) = arrivals.pop() else {
                break;
            };
            let t = inv.arrival;
            f.advance(t);
            last_event = last_event.max(t);
            f.arrive(t, &inv);
        }
    }
    let excluded = arrivals.excluded();
    let window = cfg.horizon.unwrap_or((last_event / MINUTE + 1) * MINUTE);
    f.clip = window;
    // Requests still queued at the end were never served.
    while let Some(w) = f.queue.pop_front() {
        f.reject(w.arrival);
    }
    f.advance(window);
    for id in 0..f.servers.len() {
        let s = &f.servers[id];
        if !s.gone {
            let launched = s.launched;
            f.bill(launched, window);
            f.credit_settle(window, id as u32);
            f.charge_surplus(id as u32);
        }
    }
    if f.out.instances_min == u32::MAX {
        f.out.instances_min = 0;
    }
    f.out.minutes.truncate(window.div_ceil(MINUTE) as usize);
    f.out
        .minutes
        .resize(window.div_ceil(MINUTE) as usize, FleetMinute::default());
    f.out.window_us = window;
    f.out.vcpus = cfg.cpu.as_ref().map_or(0.0, |c| c.vcpus);
    f.out.excluded_after_horizon = excluded;
    f.out
}
