//! One function's execution environments and the events that move them. A [`FunctionSim`] replays
//! its slice of the trace; the driver advances it epoch by epoch (alone, in parallel with the others,
//! or interleaved with them when the account limit couples functions).
//!
//! Event order at equal times: first the function's timers (completions, init done) in the order
//! they were scheduled, then its retries and queue wake-ups, then its trace arrivals in row order.
//! Timers only release capacity or leave it unchanged; retries and arrivals only take it. That
//! split is what lets the driver prove a parallel run equal to a coupled one (see `driver.rs`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

use super::{PlatformConfig, ProvisionedPlan};
use crate::outcome::{EpochBuffer, FunctionStats, MinuteKind};
use crate::time::Micros;
use crate::trace::{Invocation, Trigger};

/// Shared account state. In a parallel run each function gets its own, with no limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Account {
    pub usage: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Initializing,
    Ready,
    Dead,
}

#[derive(Debug, Clone)]
struct Instance {
    birth: Micros,
    ready_at: Micros,
    busy_since: Micros,
    idle_since: Micros,
    /// Start of the current active period (init or busy, until idle).
    active_since: Micros,
    /// When the last active period ended, if it is not yet recorded: a request that reuses the
    /// instance at that same instant continues the period (billing counts one period).
    active_end: Option<Micros>,
    /// Requests assigned (in service, or waiting for this instance's init).
    busy: u32,
    provisioned: bool,
    /// A provisioned instance no longer configured, finishing its requests before it goes.
    retiring: bool,
    state: State,
    /// Position in the partial list (`u32::MAX` when not in it).
    partial_pos: u32,
}

const NOT_LISTED: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Completion,
    InitDone,
    /// The provisioned plan's next step (schedule boundary or target-tracking evaluation).
    ProvisionTick,
}

/// A phase-0 event. Ordered by (time, seq): ties come out in scheduling order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    time: Micros,
    seq: u64,
    instance: u32,
    kind: TimerKind,
}

/// A request that is not (yet) served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Request {
    arrival: Micros,
    duration: Micros,
    memory_mb: u16,
    trigger: Trigger,
    /// Retries so far (async).
    attempt: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RetryKind {
    Async(Request),
    QueueWake,
    /// Raise the provisioned level to this (an acquisition, so it runs in phase 1).
    ProvisionUp(u32),
}

/// A phase-1 event (an async retry or a queue wake-up), ordered by (time, seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Retry {
    time: Micros,
    seq: u64,
    kind: RetryKind,
}

/// An idle on-demand instance and the end of its keep-alive.
#[derive(Debug, Clone, Copy)]
struct Idle {
    id: u32,
    keep_alive_end: Micros,
}

#[derive(Debug, Clone, Copy)]
struct Queued {
    req: Request,
    deadline: Micros,
}

/// Why a request could not get capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blocked {
    Function,
    Account,
    /// Scaling rate: the next token is available at this time.
    Rate(Micros),
}

#[derive(Debug, Clone)]
struct TokenBucket {
    /// Level and capacity in microseconds of refill; one token = `every` units.
    level: u64,
    cap: u64,
    every: Micros,
    last: Micros,
}

impl TokenBucket {
    fn refill(&mut self, now: Micros) {
        if now > self.last {
            self.level = (self.level + (now - self.last)).min(self.cap);
            self.last = now;
        }
    }

    fn try_take(&mut self, now: Micros) -> Result<(), Micros> {
        self.refill(now);
        if self.level >= self.every {
            self.level -= self.every;
            Ok(())
        } else {
            Err(now + (self.every - self.level))
        }
    }
}

/// The provisioned pool's levels and their integrals (clipped at the horizon).
#[derive(Debug, Clone, Default)]
struct Provisioned {
    /// Instances configured now (the plan's level).
    level: u32,
    /// Instances alive: configured ones plus retiring ones still busy.
    alive: u32,
    /// Provisioned instances serving requests now.
    busy: u32,
    since: Micros,
    level_us: u128,
    alive_us: u128,
    busy_us: u128,
    /// Time of day at t = 0, for schedules.
    tod0: Micros,
    /// Target tracking: integrals at the last evaluation, and the streaks of periods above and
    /// below the target.
    busy_mark: u128,
    level_mark: u128,
    above: u32,
    below: u32,
    /// The integrals at the start of the measured window (see `FunctionSim::start_measuring`).
    measured_from: (u128, u128, u128),
}

impl Provisioned {
    fn integrate(&mut self, now: Micros, clip: Micros) {
        let (a, b) = (self.since.min(clip), now.min(clip));
        if b > a {
            let dt = (b - a) as u128;
            self.level_us += self.level as u128 * dt;
            self.alive_us += self.alive as u128 * dt;
            self.busy_us += self.busy as u128 * dt;
        }
        self.since = self.since.max(now);
    }
}

/// The time-ordered levels of one function, for its own peak and integrals.
#[derive(Debug, Clone, Copy, Default)]
struct Level {
    busy: u32,
    /// Time of the last change to `busy`.
    since: Micros,
    peak: u32,
}

pub(crate) struct FunctionSim<'t> {
    cfg: &'t PlatformConfig,
    /// Index of the next arrival: first in `prefix`, then in the slice the driver passes in.
    next_arrival: usize,
    /// Rows replayed before the trace (cyclic warm-up), on the engine's clock.
    prefix: Vec<Invocation>,
    /// Engine time of the trace's t = 0: the driver's rows arrive this much later.
    offset: Micros,
    /// Engine time from which arrivals are counted and time is measured (the warm-up's end).
    lo: Micros,
    /// True once the measured window has begun (the levels' integrals restart there).
    measuring: bool,
    rng: Pcg64Mcg,
    seq: u64,
    timers: BinaryHeap<Reverse<Timer>>,
    retries: BinaryHeap<Reverse<Retry>>,
    queue: VecDeque<Queued>,
    queue_wake_at: Option<Micros>,
    /// True while the queue head waits for account capacity (the coupled driver wakes it).
    pub blocked_on_account: bool,
    /// The limit that last refused the queue head (what a queue throttle is blamed on).
    queue_blocked_by: Option<Blocked>,
    instances: Vec<Instance>,
    free_slots: Vec<u32>,
    /// Idle on-demand instances, ordered by `idle_since` (front: idle longest).
    od_idle: VecDeque<Idle>,
    /// Idle provisioned instances; the top is the most recently used.
    prov_idle: Vec<u32>,
    /// Ready instances serving 0 < busy < k requests (only when k > 1).
    prov_partial: Vec<u32>,
    od_partial: Vec<u32>,
    /// Initializing instances with spare capacity (only when k > 1).
    init_open: Vec<u32>,
    bucket: Option<TokenBucket>,
    k: u32,
    /// On-demand instances initializing or busy (these count against the limits).
    od_active: u32,
    prov: Provisioned,
    /// Instances counted against the function's limit: provisioned + od_active.
    level: Level,
    /// Clip for instance-time statistics (the horizon), microseconds.
    clip: Micros,
    /// The time of the last event processed.
    pub last_event: Micros,
    pub stats: FunctionStats,
    pub out: EpochBuffer,
}

/// What the driver tells a function about the run's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SimClock {
    /// Time of day at t = 0 (for provisioned schedules).
    pub tod0: Micros,
    /// Engine time of the trace's t = 0.
    pub offset: Micros,
    /// Engine time from which the run is measured.
    pub lo: Micros,
    /// Engine-time horizon, if any.
    pub horizon: Option<Micros>,
}

/// Splits the run seed into a per-function stream, so a function's random draws do not depend on
/// which other functions run or in what order.
fn function_seed(seed: u64, f: u32) -> u64 {
    crate::seed::derive(seed, 0, u64::from(f), crate::seed::Purpose::InitTimes)
}

/// The part of `[start, end)` inside the measured window `[lo, clip)`.
fn clipped(start: Micros, end: Micros, lo: Micros, clip: Micros) -> Micros {
    end.min(clip).saturating_sub(start.clamp(lo, clip.max(lo)))
}

impl<'t> FunctionSim<'t> {
    /// `prefix`: rows replayed before the trace (cyclic warm-up), on the engine's clock.
    pub fn new(
        index: u32,
        cfg: &'t PlatformConfig,
        clock: SimClock,
        prefix: Vec<Invocation>,
        account: &mut Account,
    ) -> Self {
        let tod0 = clock.tod0;
        let mut sim = FunctionSim {
            cfg,
            next_arrival: 0,
            prefix,
            offset: clock.offset,
            lo: clock.lo,
            measuring: clock.lo == 0,
            rng: Pcg64Mcg::seed_from_u64(function_seed(cfg.seed, index)),
            seq: 0,
            timers: BinaryHeap::new(),
            retries: BinaryHeap::new(),
            queue: VecDeque::new(),
            queue_wake_at: None,
            blocked_on_account: false,
            queue_blocked_by: None,
            instances: Vec::new(),
            free_slots: Vec::new(),
            od_idle: VecDeque::new(),
            prov_idle: Vec::new(),
            prov_partial: Vec::new(),
            od_partial: Vec::new(),
            init_open: Vec::new(),
            bucket: cfg.scaling.map(|s| TokenBucket {
                level: s.burst as u64 * s.refill_every,
                cap: s.burst as u64 * s.refill_every,
                every: s.refill_every,
                last: 0,
            }),
            k: cfg.per_instance_concurrency,
            od_active: 0,
            prov: Provisioned::default(),
            level: Level::default(),
            clip: clock.horizon.unwrap_or(Micros::MAX),
            last_event: 0,
            stats: FunctionStats::default(),
            out: EpochBuffer::default(),
        };
        let level0 = match &cfg.provisioned_plan {
            None => cfg.provisioned,
            Some(ProvisionedPlan::Schedule(s)) => s.level_at(tod0),
            Some(ProvisionedPlan::Target(t)) => t.min,
        };
        sim.prov.tod0 = tod0;
        for _ in 0..level0 {
            sim.add_provisioned(0, account);
        }
        sim.prov.level = level0;
        if level0 > 0 {
            sim.out.provisioned(0, level0 as i32);
        }
        match &cfg.provisioned_plan {
            None => {}
            Some(ProvisionedPlan::Schedule(s)) => {
                sim.push_timer(s.until_next_boundary(tod0), 0, TimerKind::ProvisionTick);
            }
            Some(ProvisionedPlan::Target(t)) => {
                sim.push_timer(t.interval, 0, TimerKind::ProvisionTick);
            }
        }
        // The stack pops from the top: make instance 0 the first used.
        sim.prov_idle.reverse();
        sim
    }

    fn push_timer(&mut self, time: Micros, instance: u32, kind: TimerKind) {
        let seq = self.next_seq();
        self.timers.push(Reverse(Timer {
            time,
            seq,
            instance,
            kind,
        }));
    }

    /// Adds one ready, idle provisioned instance at `now`.
    fn add_provisioned(&mut self, now: Micros, account: &mut Account) {
        self.prov.integrate(now, self.clip);
        let id = self.alloc(Instance {
            birth: now,
            ready_at: now,
            busy_since: now,
            active_since: now,
            active_end: None,
            idle_since: now,
            busy: 0,
            provisioned: true,
            retiring: false,
            state: State::Ready,
            partial_pos: NOT_LISTED,
        });
        // The stack pops from the top: instances added earlier are used first.
        self.prov_idle.insert(0, id);
        self.prov.alive += 1;
        account.usage += 1;
        self.out.delta(now.min(self.clip), 0, 1, 1);
    }

    /// Removes an idle provisioned instance at `now`.
    fn remove_provisioned(&mut self, now: Micros, id: u32, account: &mut Account) {
        self.close_period(id);
        self.prov.integrate(now, self.clip);
        let inst = &mut self.instances[id as usize];
        debug_assert!(inst.provisioned && inst.busy == 0);
        inst.state = State::Dead;
        self.prov.alive -= 1;
        account.usage -= 1;
        self.out.delta(now.min(self.clip), 0, -1, -1);
        self.free_slots.push(id);
    }

    /// The provisioned plan's step at `now`: a schedule boundary or a target-tracking evaluation.
    fn provision_tick(&mut self, now: Micros, arrivals: &[Invocation], account: &mut Account) {
        let Some(plan) = &self.cfg.provisioned_plan else {
            return;
        };
        self.prov.integrate(now, self.clip);
        let (wanted, next) = match plan {
            ProvisionedPlan::Schedule(s) => {
                let tod = self.prov.tod0 + now;
                (s.level_at(tod), now + s.until_next_boundary(tod))
            }
            ProvisionedPlan::Target(t) => {
                let busy = self.prov.busy_us - self.prov.busy_mark;
                let level = self.prov.level_us - self.prov.level_mark;
                self.prov.busy_mark = self.prov.busy_us;
                self.prov.level_mark = self.prov.level_us;
                let util = if level > 0 {
                    busy as f64 / level as f64
                } else {
                    0.0
                };
                let current = self.prov.level;
                let desired = ((f64::from(current.max(1)) * util / t.target).ceil() as u32)
                    .clamp(t.min, t.max);
                let mut wanted = current;
                if desired > current {
                    self.prov.above += 1;
                    self.prov.below = 0;
                    if self.prov.above >= t.scale_out_after {
                        wanted = desired;
                    }
                } else if desired < current {
                    self.prov.below += 1;
                    self.prov.above = 0;
                    if self.prov.below >= t.scale_in_after {
                        wanted = desired;
                    }
                } else {
                    self.prov.above = 0;
                    self.prov.below = 0;
                }
                if wanted != current {
                    self.prov.above = 0;
                    self.prov.below = 0;
                }
                (wanted, now + t.interval)
            }
        };
        if wanted < self.prov.level {
            self.lower_provisioned(now, wanted, account);
        } else if wanted > self.prov.level {
            let seq = self.next_seq();
            self.retries.push(Reverse(Retry {
                time: now,
                seq,
                kind: RetryKind::ProvisionUp(wanted),
            }));
        }
        // Rescheduled always: `next_event` ignores a tick once nothing else is left.
        let _ = arrivals;
        self.push_timer(next, 0, TimerKind::ProvisionTick);
    }

    /// Lowers the provisioned level: idle instances go at once (least recently used first),
    /// busy ones retire when they finish.
    fn lower_provisioned(&mut self, now: Micros, wanted: u32, account: &mut Account) {
        self.prov.integrate(now, self.clip);
        let mut remove = self.prov.level - wanted;
        self.out
            .provisioned(now.min(self.clip), -((self.prov.level - wanted) as i32));
        self.prov.level = wanted;
        if now >= self.lo {
            self.stats.provisioned_changes += 1;
        }
        while remove > 0 && !self.prov_idle.is_empty() {
            let id = self.prov_idle.remove(0);
            self.remove_provisioned(now, id, account);
            remove -= 1;
        }
        if remove > 0 {
            let busy: Vec<u32> = (0..self.instances.len() as u32)
                .filter(|&i| {
                    let inst = &self.instances[i as usize];
                    inst.provisioned
                        && !inst.retiring
                        && inst.state == State::Ready
                        && inst.busy > 0
                })
                .take(remove as usize)
                .collect();
            for id in busy {
                if self.instances[id as usize].partial_pos != NOT_LISTED {
                    self.unlist_partial(id);
                }
                self.instances[id as usize].retiring = true;
            }
        }
    }

    /// Raises the provisioned level (phase 1): retiring instances stay, then new ones are added
    /// while the account has room.
    fn raise_provisioned(&mut self, now: Micros, wanted: u32, account: &mut Account) {
        if wanted <= self.prov.level {
            return;
        }
        self.prov.integrate(now, self.clip);
        if now >= self.lo {
            self.stats.provisioned_changes += 1;
        }
        let old_level = self.prov.level;
        let mut add = wanted - self.prov.level;
        let retiring: Vec<u32> = (0..self.instances.len() as u32)
            .filter(|&i| {
                let inst = &self.instances[i as usize];
                inst.provisioned && inst.retiring && inst.state == State::Ready
            })
            .take(add as usize)
            .collect();
        for id in retiring {
            self.instances[id as usize].retiring = false;
            if self.k > 1 && self.instances[id as usize].busy < self.k {
                self.list_partial(id);
            }
            self.prov.level += 1;
            add -= 1;
        }
        while add > 0 && account.usage < account.limit {
            self.add_provisioned(now, account);
            self.prov.level += 1;
            add -= 1;
        }
        self.out
            .provisioned(now.min(self.clip), (self.prov.level - old_level) as i32);
        // Capacity appeared: queued requests may take it.
        self.drain_queue(now, account);
    }

    fn alloc(&mut self, inst: Instance) -> u32 {
        match self.free_slots.pop() {
            Some(id) => {
                self.instances[id as usize] = inst;
                id
            }
            None => {
                self.instances.push(inst);
                (self.instances.len() - 1) as u32
            }
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The (time, phase) of the next event, if any. Phase 0: timers; 1: retries; 2: arrivals.
    /// `arrivals` is the function's trace (every call passes the same rows, possibly extended at
    /// the end by a streaming reader).
    pub fn next_event(&self, arrivals: &[Invocation]) -> Option<(Micros, u8)> {
        let mut best: Option<(Micros, u8)> = None;
        if let Some(Reverse(t)) = self.timers.peek() {
            // A provisioned-plan tick alone, with nothing else left to happen, is not an event:
            // the plan's level holds to the end of the window.
            let lone_tick = t.kind == TimerKind::ProvisionTick
                && self.timers.len() == 1
                && self.retries.is_empty()
                && self.queue.is_empty()
                && self.next_arrival >= self.prefix.len() + arrivals.len();
            if !lone_tick {
                best = Some((t.time, 0));
            }
        }
        if let Some(Reverse(r)) = self.retries.peek()
            && best.is_none_or(|b| (r.time, 1) < b)
        {
            best = Some((r.time, 1));
        }
        if let Some(inv) = self.arrival(arrivals, self.next_arrival)
            && best.is_none_or(|b| (inv.arrival, 2) < b)
        {
            best = Some((inv.arrival, 2));
        }
        best
    }

    /// Arrival `i` on the engine's clock: the warm-up prefix first, then the driver's rows.
    #[inline]
    fn arrival(&self, arrivals: &[Invocation], i: usize) -> Option<Invocation> {
        match i.checked_sub(self.prefix.len()) {
            None => Some(self.prefix[i]),
            Some(j) => arrivals.get(j).map(|inv| Invocation {
                arrival: inv.arrival + self.offset,
                ..*inv
            }),
        }
    }

    /// True for a request that arrived in the measured window (after the warm-up).
    #[inline]
    fn measured(&self, arrival: Micros) -> bool {
        arrival >= self.lo
    }

    /// The measured window begins: the levels' integrals and peaks restart at `lo`, with the
    /// levels the warm-up left.
    fn start_measuring(&mut self) {
        self.measuring = true;
        let lo = self.lo;
        debug_assert!(self.level.since <= lo);
        self.stats.busy_integral_us = 0;
        self.level.since = lo;
        self.level.peak = self.level.busy;
        self.prov.integrate(lo, self.clip);
        self.prov.measured_from = (self.prov.level_us, self.prov.alive_us, self.prov.busy_us);
    }

    /// Processes every event before `t_end`, then reclaims instances that expire before it.
    pub fn advance_to(&mut self, t_end: Micros, arrivals: &[Invocation], account: &mut Account) {
        while let Some((t, phase)) = self.next_event(arrivals) {
            if t >= t_end {
                break;
            }
            self.step_event(t, phase, arrivals, account);
        }
        self.end_epoch(t_end);
    }

    /// Reclaims idle instances whose keep-alive or lifetime ends before `t_end`.
    pub fn end_epoch(&mut self, t_end: Micros) {
        self.expire_before(t_end);
        if self.cfg.max_lifetime.is_some() {
            let mut i = 0;
            while i < self.od_idle.len() {
                let idle = self.od_idle[i];
                let death = self.death(idle);
                if death < t_end {
                    self.od_idle.remove(i);
                    self.reclaim(idle.id, death);
                } else {
                    i += 1;
                }
            }
        }
    }

    /// When an idle on-demand instance dies if nothing uses it: at the end of its keep-alive, or
    /// of its lifetime if that comes first.
    fn death(&self, idle: Idle) -> Micros {
        match self.cfg.max_lifetime {
            None => idle.keep_alive_end,
            Some(life) => {
                let inst = &self.instances[idle.id as usize];
                idle.keep_alive_end
                    .min((inst.birth + life).max(inst.idle_since))
            }
        }
    }

    /// Reclaims from the front of the idle deque every instance whose keep-alive ends before `t`.
    #[inline]
    fn expire_before(&mut self, t: Micros) {
        while let Some(&idle) = self.od_idle.front() {
            if idle.keep_alive_end >= t {
                break;
            }
            self.od_idle.pop_front();
            let death = self.death(idle);
            self.reclaim(idle.id, death);
        }
    }

    /// Records instance `id`'s finished active period, if one is pending.
    fn close_period(&mut self, id: u32) {
        let inst = &mut self.instances[id as usize];
        if let Some(end) = inst.active_end.take() {
            // Only the part in the measured window is billed.
            if end <= self.lo && self.lo > 0 {
                return;
            }
            let length = end - inst.active_since.max(self.lo);
            let provisioned = inst.provisioned;
            self.stats.bill_active(length, provisioned, &self.cfg.usage);
        }
    }

    /// An idle on-demand instance dies at `death`.
    fn reclaim(&mut self, id: u32, death: Micros) {
        self.close_period(id);
        let inst = &mut self.instances[id as usize];
        debug_assert!(inst.busy == 0 && !inst.provisioned && inst.state == State::Ready);
        let idle = clipped(inst.idle_since, death, self.lo, self.clip);
        self.stats.on_demand_idle_us += idle;
        inst.state = State::Dead;
        self.out.delta(death.min(self.clip), 0, -1, 0);
        self.free_slots.push(id);
    }

    /// Processes the single next event.
    /// Processes the next event, which the caller found at (`now`, `phase`) with `next_event`.
    pub fn step_event(
        &mut self,
        now: Micros,
        phase: u8,
        arrivals: &[Invocation],
        account: &mut Account,
    ) {
        self.last_event = self.last_event.max(now);
        if !self.measuring && now >= self.lo {
            self.start_measuring();
        }
        self.expire_before(now + 1);
        match phase {
            0 => {
                let Some(Reverse(timer)) = self.timers.pop() else {
                    return;
                };
                match timer.kind {
                    TimerKind::Completion => self.complete(now, timer.instance, account),
                    TimerKind::InitDone => self.init_done(now, timer.instance),
                    TimerKind::ProvisionTick => self.provision_tick(now, arrivals, account),
                }
            }
            1 => {
                let Some(Reverse(retry)) = self.retries.pop() else {
                    return;
                };
                match retry.kind {
                    RetryKind::Async(req) => {
                        if self.measured(req.arrival) {
                            self.stats.retries += 1;
                        }
                        self.admit(now, req, account);
                    }
                    RetryKind::QueueWake => {
                        if self.queue_wake_at == Some(now) {
                            self.queue_wake_at = None;
                        }
                        self.drain_queue(now, account);
                    }
                    RetryKind::ProvisionUp(wanted) => self.raise_provisioned(now, wanted, account),
                }
            }
            _ => {
                let Some(inv) = self.arrival(arrivals, self.next_arrival) else {
                    return;
                };
                self.next_arrival += 1;
                if self.measured(inv.arrival) {
                    self.stats.invocations += 1;
                    self.out.count(inv.arrival, MinuteKind::Invocation);
                } else {
                    self.stats.warmup_invocations += 1;
                }
                let memory_mb = if inv.memory_mb == 0 || self.cfg.memory_override {
                    self.cfg.memory_mb
                } else {
                    inv.memory_mb
                };
                let duration = match &self.cfg.cpu {
                    None => inv.duration,
                    Some(cpu) => cpu.scale(inv.duration, memory_mb, inv.memory_mb),
                };
                let req = Request {
                    arrival: inv.arrival,
                    duration,
                    memory_mb,
                    trigger: inv.trigger,
                    attempt: 0,
                };
                if req.trigger == Trigger::Queue && !self.queue.is_empty() {
                    // FIFO: a queue request does not overtake the ones already waiting.
                    self.enqueue(now, req);
                    self.drain_queue(now, account);
                } else {
                    self.admit(now, req, account);
                }
            }
        }
    }

    /// Wakes a queue that waits for account capacity (coupled runs).
    pub fn wake(&mut self, now: Micros) {
        self.blocked_on_account = false;
        if self.queue_wake_at != Some(now) {
            self.schedule_queue_wake(now);
        }
    }

    fn schedule_queue_wake(&mut self, at: Micros) {
        let seq = self.next_seq();
        self.retries.push(Reverse(Retry {
            time: at,
            seq,
            kind: RetryKind::QueueWake,
        }));
        self.queue_wake_at = Some(self.queue_wake_at.map_or(at, |w| w.min(at)));
    }

    fn enqueue(&mut self, now: Micros, req: Request) {
        let _ = now;
        self.queue.push_back(Queued {
            req,
            deadline: req.arrival.saturating_add(self.cfg.queue_max_wait),
        });
    }

    /// Tries to place `req` at `now`; over the limit the trigger decides.
    fn admit(&mut self, now: Micros, req: Request, account: &mut Account) {
        match self.place(now, req, account) {
            Ok(()) => {}
            Err(blocked) => match req.trigger {
                Trigger::Sync => self.refuse(req.arrival, blocked, MinuteKind::Throttled),
                Trigger::Queue => {
                    self.enqueue(now, req);
                    self.on_blocked(blocked);
                }
                Trigger::Async => {
                    let backoff = self
                        .cfg
                        .retry
                        .initial
                        .saturating_mul(1u64 << req.attempt.min(40))
                        .min(self.cfg.retry.max);
                    let at = now.saturating_add(backoff);
                    if at > req.arrival.saturating_add(self.cfg.retry.max_age) {
                        self.refuse(req.arrival, blocked, MinuteKind::DeadLettered);
                    } else {
                        let seq = self.next_seq();
                        self.retries.push(Reverse(Retry {
                            time: at,
                            seq,
                            kind: RetryKind::Async(Request {
                                attempt: req.attempt + 1,
                                ..req
                            }),
                        }));
                    }
                }
            },
        }
    }

    fn on_blocked(&mut self, blocked: Blocked) {
        self.queue_blocked_by = Some(blocked);
        match blocked {
            Blocked::Function => {} // a completion of this function wakes the queue
            Blocked::Account => self.blocked_on_account = true,
            Blocked::Rate(at) => {
                if self.queue_wake_at.is_none_or(|w| w > at) {
                    self.schedule_queue_wake(at);
                }
            }
        }
    }

    /// The first queued request still within its maximum wait at `now`; those past it are
    /// throttled on the way.
    fn queue_head(&mut self, now: Micros) -> Option<Queued> {
        while let Some(head) = self.queue.front().copied() {
            if head.deadline >= now {
                return Some(head);
            }
            self.queue.pop_front();
            let cause = self.queue_blocked_by.unwrap_or(Blocked::Function);
            self.refuse(head.req.arrival, cause, MinuteKind::Throttled);
        }
        None
    }

    /// Counts a request refused for good (throttled or dead-lettered) by the limit `cause`.
    fn refuse(&mut self, arrival: Micros, cause: Blocked, kind: MinuteKind) {
        if !self.measured(arrival) {
            return;
        }
        match kind {
            MinuteKind::DeadLettered => self.stats.dead_lettered += 1,
            _ => self.stats.throttled += 1,
        }
        match cause {
            Blocked::Account => self.stats.throttled_account += 1,
            Blocked::Function => self.stats.throttled_function += 1,
            Blocked::Rate(_) => self.stats.throttled_rate += 1,
        }
        self.out.count(arrival, kind);
    }

    /// Serves queued requests while capacity lasts; throttles those past their maximum wait.
    fn drain_queue(&mut self, now: Micros, account: &mut Account) {
        while let Some(head) = self.queue_head(now) {
            match self.place(now, head.req, account) {
                Ok(()) => {
                    self.queue.pop_front();
                }
                Err(blocked) => {
                    self.on_blocked(blocked);
                    break;
                }
            }
        }
    }

    /// Finds capacity for `req` at `now`: a provisioned instance, a warm on-demand instance, an
    /// initializing instance with a free slot, or a new instance if the limits allow.
    fn place(&mut self, now: Micros, req: Request, account: &mut Account) -> Result<(), Blocked> {
        // 1. Warm capacity, provisioned first. Among on-demand instances, those already serving
        //    come first (k > 1), then the most recently idle (MRU).
        //    Waking an idle on-demand instance adds one to the account's usage (Lambda counts
        //    concurrent executions), so it needs account headroom like a new instance does.
        let warm = if let Some(&id) = self.prov_partial.last() {
            Some(id)
        } else if let Some(&id) = self.prov_idle.last() {
            Some(id)
        } else if let Some(&id) = self.od_partial.last() {
            Some(id)
        } else if self.od_idle.is_empty() {
            None
        } else if account.usage >= account.limit {
            return Err(Blocked::Account);
        } else {
            self.pop_mru_idle(now)
        };
        if let Some(id) = warm {
            self.start_on_ready(now, id, req, account);
            return Ok(());
        }
        // 2. An initializing instance with a free slot (k > 1): wait for its init.
        if !self.init_open.is_empty() {
            let (pos, &id) = self
                .init_open
                .iter()
                .enumerate()
                .min_by_key(|&(_, &id)| (self.instances[id as usize].ready_at, id))
                .expect("non-empty");
            let ready_at = self.instances[id as usize].ready_at;
            let inst = &mut self.instances[id as usize];
            inst.busy += 1;
            if inst.busy == self.k {
                self.init_open.swap_remove(pos);
            }
            self.record_served(now, req, ready_at, true, ready_at - now, id);
            return Ok(());
        }
        // 3. A new instance, if the limits allow.
        let in_use = self.prov.alive + self.od_active;
        if self.cfg.max_concurrency.is_some_and(|m| in_use >= m) {
            return Err(Blocked::Function);
        }
        if account.usage >= account.limit {
            return Err(Blocked::Account);
        }
        if let Some(bucket) = &mut self.bucket {
            bucket.try_take(now).map_err(Blocked::Rate)?;
        }
        let init = self.cfg.init.sample(&mut self.rng);
        let ready_at = now + init;
        let id = self.alloc(Instance {
            birth: now,
            ready_at,
            busy_since: ready_at,
            active_since: now,
            active_end: None,
            idle_since: now,
            busy: 1,
            provisioned: false,
            retiring: false,
            state: State::Initializing,
            partial_pos: NOT_LISTED,
        });
        self.od_active += 1;
        account.usage += 1;
        if self.measured(req.arrival) {
            self.stats.instances_started += 1;
            self.stats.bill_init(req.memory_mb, init, &self.cfg.usage);
        }
        self.stats.on_demand_init_us += clipped(now, ready_at, self.lo, self.clip);
        self.out.delta(now, 0, 1, 1);
        if self.k > 1 {
            self.init_open.push(id);
        }
        let seq = self.next_seq();
        self.timers.push(Reverse(Timer {
            time: ready_at,
            seq,
            instance: id,
            kind: TimerKind::InitDone,
        }));
        self.record_served(now, req, ready_at, true, init, id);
        Ok(())
    }

    /// Pops the most recently idle on-demand instance that is still alive at `now`.
    fn pop_mru_idle(&mut self, now: Micros) -> Option<u32> {
        while let Some(idle) = self.od_idle.pop_back() {
            // Keep-alive expiries were reclaimed before this event; only a lifetime can have ended.
            if self.cfg.max_lifetime.is_some() {
                let death = self.death(idle);
                if death <= now {
                    self.reclaim(idle.id, death);
                    continue;
                }
            }
            return Some(idle.id);
        }
        None
    }

    /// Assigns `req` to ready instance `id` at `now` (a warm start).
    fn start_on_ready(&mut self, now: Micros, id: u32, req: Request, account: &mut Account) {
        let k = self.k;
        let inst = &mut self.instances[id as usize];
        let was_idle = inst.busy == 0;
        inst.busy += 1;
        let provisioned = inst.provisioned;
        let full = inst.busy == k;
        if was_idle {
            inst.busy_since = now;
            if inst.active_end != Some(now) {
                self.close_period(id);
                self.instances[id as usize].active_since = now;
            }
            let inst = &mut self.instances[id as usize];
            inst.active_end = None;
            if provisioned {
                self.prov_idle.pop();
                self.prov.integrate(now, self.clip);
                self.prov.busy += 1;
            } else {
                self.stats.on_demand_idle_us += clipped(inst.idle_since, now, self.lo, self.clip);
                self.od_active += 1;
                account.usage += 1;
            }
            self.busy_change(now, 1, if provisioned { 0 } else { 1 });
            if !full {
                self.list_partial(id);
            }
        } else if full {
            self.unlist_partial(id);
        }
        self.record_served(now, req, now, false, 0, id);
    }

    fn partial_list(&mut self, provisioned: bool) -> &mut Vec<u32> {
        if provisioned {
            &mut self.prov_partial
        } else {
            &mut self.od_partial
        }
    }

    fn list_partial(&mut self, id: u32) {
        let provisioned = self.instances[id as usize].provisioned;
        let list = self.partial_list(provisioned);
        let pos = list.len() as u32;
        list.push(id);
        self.instances[id as usize].partial_pos = pos;
    }

    fn unlist_partial(&mut self, id: u32) {
        let inst = &self.instances[id as usize];
        let (provisioned, pos) = (inst.provisioned, inst.partial_pos as usize);
        debug_assert!(pos != NOT_LISTED as usize);
        let list = self.partial_list(provisioned);
        list.swap_remove(pos);
        let moved = list.get(pos).copied();
        if let Some(moved) = moved {
            self.instances[moved as usize].partial_pos = pos as u32;
        }
        self.instances[id as usize].partial_pos = NOT_LISTED;
    }

    /// Records a served request that starts at `start` and schedules its completion.
    fn record_served(
        &mut self,
        now: Micros,
        req: Request,
        start: Micros,
        cold: bool,
        init_wait: Micros,
        id: u32,
    ) {
        // An execution past the function's timeout is cut there (and billed up to it).
        let (exec, timed_out) = match self.cfg.timeout {
            Some(limit) if req.duration > limit => (limit, true),
            _ => (req.duration, false),
        };
        let end = start + exec;
        if self.measured(req.arrival) {
            let latency = end - req.arrival;
            if now > req.arrival {
                self.stats.waited += 1;
            }
            if cold {
                self.stats.cold_starts += 1;
                self.out.count(req.arrival, MinuteKind::ColdStart);
                self.out.init(init_wait);
            } else {
                self.stats.warm_starts += 1;
            }
            if timed_out {
                self.stats.timed_out += 1;
                self.out.count(req.arrival, MinuteKind::TimedOut);
            }
            self.out.latency(latency, cold);
            let provisioned = self.instances[id as usize].provisioned;
            self.stats
                .bill(req.memory_mb, exec, provisioned, &self.cfg.usage);
        } else if cold {
            self.stats.warmup_cold_starts += 1;
        }
        let seq = self.next_seq();
        self.timers.push(Reverse(Timer {
            time: end,
            seq,
            instance: id,
            kind: TimerKind::Completion,
        }));
    }

    /// Changes the function's busy-instance count at `now` (time-ordered).
    fn busy_change(&mut self, now: Micros, delta: i32, usage_delta: i32) {
        let level = &mut self.level;
        self.stats.busy_integral_us += level.busy as u128 * (now - level.since) as u128;
        level.since = now;
        level.busy = (level.busy as i64 + delta as i64) as u32;
        // Peak of the level after all changes at one time: a completion and a start at the
        // same microsecond do not count as two busy instances.
        if delta > 0 {
            level.peak = level.peak.max(level.busy);
        }
        self.out.delta(now, delta, 0, usage_delta);
    }

    fn init_done(&mut self, now: Micros, id: u32) {
        let k = self.k;
        let inst = &mut self.instances[id as usize];
        if inst.state != State::Initializing {
            return;
        }
        inst.state = State::Ready;
        inst.busy_since = now;
        let spare = inst.busy < k;
        if spare && let Some(pos) = self.init_open.iter().position(|&x| x == id) {
            self.init_open.swap_remove(pos);
        }
        // It starts serving the request(s) that waited for it: busy, no usage change.
        self.busy_change(now, 1, 0);
        if spare {
            self.list_partial(id);
        }
    }

    fn complete(&mut self, now: Micros, id: u32, account: &mut Account) {
        let k = self.k;
        let inst = &mut self.instances[id as usize];
        let was_full = inst.busy == k;
        let retiring = inst.retiring;
        inst.busy -= 1;
        // A queued request takes the freed slot at once (not on a retiring instance).
        if !retiring && let Some(head) = self.queue_head(now) {
            self.queue.pop_front();
            self.instances[id as usize].busy += 1;
            self.record_served(now, head.req, now, false, 0, id);
            return;
        }
        let inst = &mut self.instances[id as usize];
        if inst.busy > 0 {
            if was_full && !retiring {
                self.list_partial(id);
            }
            return;
        }
        // The instance goes idle.
        let provisioned = inst.provisioned;
        let busy = clipped(inst.busy_since, now, self.lo, self.clip);
        inst.active_end = Some(now);
        inst.idle_since = now;
        if inst.partial_pos != NOT_LISTED {
            self.unlist_partial(id);
        }
        if provisioned {
            self.stats.provisioned_busy_us += busy;
            self.busy_change(now, -1, 0);
            self.prov.integrate(now, self.clip);
            self.prov.busy -= 1;
            if self.instances[id as usize].retiring {
                self.remove_provisioned(now, id, account);
            } else {
                self.prov_idle.push(id);
            }
        } else {
            self.stats.on_demand_busy_us += busy;
            self.od_active -= 1;
            account.usage -= 1;
            self.busy_change(now, -1, -1);
            let inst = &self.instances[id as usize];
            if self
                .cfg
                .max_lifetime
                .is_some_and(|life| now >= inst.birth + life)
            {
                self.reclaim(id, now);
            } else {
                let keep_alive_end = now + self.cfg.keep_alive.keep_alive(now);
                self.od_idle.push_back(Idle { id, keep_alive_end });
            }
        }
    }

    /// Ends the run at `window_end`: idle instances die at the window end at the latest; queued
    /// requests left over are throttled. Fills in the function's summary statistics.
    pub fn finish(&mut self, window_end: Micros) {
        let clip = self.clip.min(window_end);
        if !self.measuring {
            self.start_measuring();
        }
        let cause = self.queue_blocked_by.unwrap_or(Blocked::Function);
        while let Some(Queued { req, .. }) = self.queue.pop_front() {
            self.refuse(req.arrival, cause, MinuteKind::Throttled);
        }
        while let Some(idle) = self.od_idle.pop_front() {
            let death = self.death(idle).min(clip);
            self.reclaim(idle.id, death);
        }
        // Provisioned instances still alive end their last active period here.
        for id in 0..self.instances.len() as u32 {
            if self.instances[id as usize].state != State::Dead {
                self.close_period(id);
            }
        }
        self.stats.peak_busy = self.level.peak;
        self.stats.busy_integral_us +=
            self.level.busy as u128 * (clip.saturating_sub(self.level.since.min(clip))) as u128;
        self.prov.integrate(clip, clip);
        let (level0, alive0, _) = self.prov.measured_from;
        self.stats.provisioned_configured_us = (self.prov.level_us - level0) as u64;
        self.stats.provisioned_idle_us =
            ((self.prov.alive_us - alive0) as u64).saturating_sub(self.stats.provisioned_busy_us);
        // Only a provisioned plan's last tick may be left.
        debug_assert!(
            self.retries.is_empty()
                && self
                    .timers
                    .iter()
                    .all(|Reverse(t)| t.kind == TimerKind::ProvisionTick)
        );
        self.timers.clear();
    }
}
