//! One function's execution environments and the events that move them. A [`FunctionSim`] replays
//! its slice of the trace; the driver advances it epoch by epoch (alone, in parallel with the others,
//! or interleaved with them when the account limit couples functions). This file orchestrates;
//! the parts live beside it: `events` (phases, event queues), `pool` (instances and which one
//! serves), `provisioned` (the provisioned level and its plan), `limits` (concurrency limits, the
//! scaling-rate bucket, what blocks the queue).
//!
//! Event order at equal times ([`Phase`]): first the function's timers (completions, init done,
//! plan steps) in the order they were scheduled, then its acquisitions (async retries, queue
//! wake-ups, provisioned raises) in the order they were scheduled, then its trace arrivals in row
//! order. Timers only release capacity or leave it unchanged; acquisitions and arrivals only take
//! it. That split is what lets the driver prove a parallel run equal to a coupled one (see
//! `driver.rs`).

mod events;
mod limits;
mod pool;
mod provisioned;
pub(crate) mod share;

use std::collections::VecDeque;

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

pub(crate) use events::Phase;
use events::{Acquisition, EventQueue, LaneQueue, Request, Sequence, Timer};
pub(crate) use limits::Account;
use limits::{Blocked, Limits, QueueBlock};
use pool::{Instance, Pool, Popped, State, Warm};
use provisioned::Provisioned;
use share::{Finished, Job, Shared};

use super::PlatformConfig;
use super::keepalive::{AppState, Signal};
use crate::outcome::{EpochBuffer, FunctionStats, MinuteKind};
use crate::time::Micros;
use crate::trace::{Invocation, Trigger};

/// A queue-trigger request waiting for capacity until its deadline.
#[derive(Debug, Clone, Copy)]
struct Queued {
    req: Request,
    deadline: Micros,
}

/// An instance that died after the function's last counted event, counted at the end.
#[derive(Debug, Clone, Copy)]
struct Late {
    idle_since: Micros,
    birth: Micros,
    death: Micros,
    memory_mb: u16,
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
    /// Rows beyond the driver's slice are still to come (a streamed replay gives them later).
    rows_to_come: bool,
    /// Rows replayed before the trace (cyclic warm-up), on the engine's clock.
    prefix: Vec<Invocation>,
    /// Engine time of the trace's t = 0: the driver's rows arrive this much later.
    offset: Micros,
    /// Engine time from which arrivals are counted and time is measured (the warm-up's end).
    lo: Micros,
    /// True once the measured window has begun (the levels' integrals restart there).
    measuring: bool,
    rng: Pcg64Mcg,
    /// Numbers every scheduled event, so that equal times keep scheduling order.
    seq: Sequence,
    /// Phase-0 events: completions, inits done, provisioned-plan steps.
    timers: EventQueue<Timer>,
    /// Phase-1 events: async retries, queue wake-ups, provisioned raises.
    acquisitions: LaneQueue<Acquisition>,
    /// Queue-trigger requests waiting for capacity, in arrival order.
    queue: VecDeque<Queued>,
    /// What the queue head waits for, and its wake-ups.
    queue_block: QueueBlock,
    pool: Pool,
    limits: Limits,
    /// On-demand instances initializing or busy (these count against the limits).
    od_active: u32,
    prov: Provisioned,
    /// The function's busy instances over time.
    level: Level,
    /// Clip for instance-time statistics (the horizon), microseconds.
    clip: Micros,
    /// The keep-alive state of the function's application: its own when it is alone in it;
    /// otherwise lent by the driver for each step (see `keepalive::AppState`).
    pub app: AppState,
    /// True if the policy learns: idle periods are tracked only then.
    learns: bool,
    /// True once a request was served (a pre-warm of its application loads an instance then).
    invoked: bool,
    /// True in an application of several functions under a learning policy (set by the driver).
    pub in_shared_app: bool,
    /// When the pending pre-warm falls due (at most one; an arrival cancels it). Pre-warm events
    /// live here, not in `timers`, so that a cancelled one leaves nothing behind.
    prewarm_at: Option<Micros>,
    /// The keep-alive window of the pending pre-warm, microseconds.
    prewarm_keep: Micros,
    /// A pre-warmed instance still initializing (its readiness is a pre-warm event).
    prewarming: Option<u32>,
    /// When the last counted pre-warm started (one past the window's end is not counted).
    last_prewarm: Option<Micros>,
    /// Memory of the last request, MB (a pre-warmed instance loads this much).
    last_memory: u16,
    /// Instances that died after `last_event`, counted by `finish` (clipped to the window).
    late: Vec<Late>,
    /// Requests sharing their instances' CPU (a CPU profile and more than one request per
    /// instance); `None`: each request runs for its duration, as traced or scaled.
    share: Option<Box<Shared>>,
    /// Scratch for the requests one CPU event finishes.
    finished: Vec<Finished>,
    /// The time of the last event processed (pre-warms excluded: they do not extend the window).
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

/// Memory-time of `us` microseconds at `mb`, MB·µs.
#[inline]
fn mb_us(us: Micros, mb: u16) -> u128 {
    u128::from(us) * u128::from(mb)
}

/// The part of `[start, end)` inside the measured window `[lo, clip)`.
/// Adds an on-demand instance's idle time and loaded time, clipped to `[lo, clip)`, to `stats`.
fn count_idle_life(stats: &mut FunctionStats, l: &Late, lo: Micros, clip: Micros) {
    let idle = clipped(l.idle_since, l.death, lo, clip);
    let life = clipped(l.birth, l.death, lo, clip);
    stats.on_demand_idle_us += idle;
    stats.idle_mb_us += mb_us(idle, l.memory_mb);
    stats.loaded_mb_us += mb_us(life, l.memory_mb);
}

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
        let mut sim = FunctionSim {
            cfg,
            next_arrival: 0,
            rows_to_come: false,
            prefix,
            offset: clock.offset,
            lo: clock.lo,
            measuring: clock.lo == 0,
            rng: Pcg64Mcg::seed_from_u64(function_seed(cfg.seed, index)),
            seq: Sequence::default(),
            timers: EventQueue::default(),
            acquisitions: LaneQueue::default(),
            queue: VecDeque::new(),
            queue_block: QueueBlock::default(),
            pool: Pool::new(
                cfg.per_instance_concurrency,
                cfg.max_lifetime,
                cfg.keep_alive.monotone(),
            ),
            limits: Limits::new(cfg.max_concurrency, cfg.scaling),
            od_active: 0,
            prov: Provisioned::new(clock.tod0),
            level: Level::default(),
            clip: clock.horizon.unwrap_or(Micros::MAX),
            app: AppState::new(cfg.keep_alive.app(crate::seed::derive(
                cfg.seed,
                0,
                u64::from(index),
                crate::seed::Purpose::KeepAlive,
            ))),
            learns: false,
            invoked: false,
            in_shared_app: false,
            prewarm_at: None,
            prewarm_keep: 0,
            prewarming: None,
            last_prewarm: None,
            late: Vec::new(),
            last_memory: cfg.memory_mb,
            share: share::shares(cfg.cpu.as_ref(), cfg.per_instance_concurrency)
                .then(|| Box::new(Shared::new(cfg.timeout))),
            finished: Vec::new(),
            last_event: 0,
            stats: FunctionStats::default(),
            out: EpochBuffer::default(),
        };
        sim.learns = sim.app.ka.learns();
        sim.start_provisioned(account);
        sim
    }

    /// The (time, phase) of the next event, if any. `arrivals` is the function's trace (every
    /// call passes the same rows, possibly extended at the end by a streaming reader).
    #[inline]
    pub fn next_event(&self, arrivals: &[Invocation]) -> Option<(Micros, Phase)> {
        self.next_event_with(arrivals, self.in_shared_app)
    }

    /// As [`FunctionSim::next_event`], but without a pre-warm that is an event only because the
    /// function is in an application of several: what keeps the run going (the driver's epochs
    /// end with the minute of the last event, and pre-warms do not extend the window).
    #[inline]
    pub fn next_event_for_run(&self, arrivals: &[Invocation]) -> Option<(Micros, Phase)> {
        self.next_event_with(arrivals, false)
    }

    #[inline]
    fn next_event_with(
        &self,
        arrivals: &[Invocation],
        app_prewarms: bool,
    ) -> Option<(Micros, Phase)> {
        let mut best: Option<(Micros, Phase)> = None;
        if let Some((time, kind)) = self.timers.peek() {
            // A provisioned-plan tick alone, with nothing else left to happen, is not an event:
            // the plan's level holds to the end of the window.
            let lone_tick = kind == Timer::ProvisionTick
                && self.timers.len() == 1
                && self.acquisitions.is_empty()
                && self.queue.is_empty()
                && !self.arrivals_left(arrivals);
            if !lone_tick {
                best = Some((time, Phase::Timer));
            }
        }
        // A pre-warm (or a pre-warmed instance's readiness) with nothing else left to happen is
        // not an event either: the run does not go on for it (`finish` plays it to the window's
        // end). In an application of several functions it is one while the run goes on (another
        // function's request may follow it, and cancels only what is still pending).
        if (self.prewarm_at.is_some() || self.prewarming.is_some())
            && let Some(time) = self.prewarm_due(arrivals, app_prewarms)
            && best.is_none_or(|b| (time, Phase::Timer) < b)
        {
            best = Some((time, Phase::Timer));
        }
        if let Some(time) = self.acquisitions.peek_time()
            && best.is_none_or(|b| (time, Phase::Acquisition) < b)
        {
            best = Some((time, Phase::Acquisition));
        }
        if let Some(inv) = self.arrival(arrivals, self.next_arrival)
            && best.is_none_or(|b| (inv.arrival, Phase::Arrival) < b)
        {
            best = Some((inv.arrival, Phase::Arrival));
        }
        best
    }

    /// True while an arrival is still to come: in the slice, or (streaming) not given yet.
    #[inline]
    fn arrivals_left(&self, arrivals: &[Invocation]) -> bool {
        self.next_arrival < self.prefix.len() + arrivals.len() || self.rows_to_come
    }

    /// A streaming driver says whether rows of this function are still to be given beyond the
    /// slice it passes.
    pub(crate) fn set_rows_to_come(&mut self, more: bool) {
        self.rows_to_come = more;
    }

    /// Appends rows to the warm-up prefix (engine clock, after the rows there): a streaming
    /// driver gives the replayed end of the trace piecewise too, before any row of its slice.
    pub(crate) fn extend_prefix(&mut self, rows: &mut Vec<Invocation>) {
        debug_assert!(self.next_arrival <= self.prefix.len());
        self.prefix.append(rows);
    }

    /// Drops the prefix rows already replayed.
    pub(crate) fn drop_taken_prefix(&mut self) {
        let n = self.next_arrival.min(self.prefix.len());
        if n > 0 {
            self.prefix.drain(..n);
            self.next_arrival -= n;
            if self.prefix.capacity() > 4 * self.prefix.len() + 1024 {
                self.prefix.shrink_to(2 * self.prefix.len());
            }
        }
    }

    /// How many rows of the driver's slice this function has taken (a streaming driver drops
    /// them and calls [`FunctionSim::rebase_arrivals`]).
    pub(crate) fn arrivals_taken(&self) -> usize {
        self.next_arrival.saturating_sub(self.prefix.len())
    }

    /// The driver dropped the first `n` rows of its slice, all taken already: later calls pass
    /// the slice without them.
    pub(crate) fn rebase_arrivals(&mut self, n: usize) {
        debug_assert!(n <= self.arrivals_taken());
        self.next_arrival -= n;
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

    /// [`FunctionSim::advance_to`] with an end at or before this changes nothing: no event, and
    /// no idle instance whose keep-alive ends, comes before it. With a pre-warm pending or a
    /// lifetime limit it is 0 (those are not followed here). `arrivals` as `advance_to` gets it;
    /// a driver that gives the function more rows, or changes whether more are to come, must
    /// not rely on it.
    pub(crate) fn quiet_until(&self, arrivals: &[Invocation]) -> Micros {
        if self.prewarm_at.is_some() || self.prewarming.is_some() || self.cfg.max_lifetime.is_some()
        {
            return 0;
        }
        let event = self.next_event(arrivals).map_or(Micros::MAX, |(t, _)| t);
        event.min(self.pool.keep_alive_floor().unwrap_or(Micros::MAX))
    }

    /// Processes every event before `t_end`, then reclaims instances that expire before it.
    pub fn advance_to(&mut self, t_end: Micros, arrivals: &[Invocation], account: &mut Account) {
        self.out.set_epoch_end(t_end);
        while let Some((t, phase)) = self.next_event(arrivals) {
            if t >= t_end {
                break;
            }
            self.step_event(t, phase, arrivals, account);
        }
        self.end_epoch(t_end);
    }

    /// Gives back the space its queues and lists do not use. The driver calls it after an epoch
    /// in which the function did nothing, so a function that has finished keeps its numbers and
    /// not the room its busiest minute needed (issue 14, D10). Changes no state.
    pub fn shrink_to_fit(&mut self) {
        self.timers.shrink_to_fit();
        self.acquisitions.shrink_to_fit();
        self.queue.shrink_to_fit();
        self.pool.shrink_to_fit();
        self.late.shrink_to_fit();
        self.finished.shrink_to_fit();
        self.stats.usage.shrink_to_fit();
    }

    /// Heap bytes held by the engine state and the statistics (capacity, not length), for the
    /// memory tests.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.timers.heap_bytes()
            + self.acquisitions.heap_bytes()
            + self.queue.capacity() * size_of::<Queued>()
            + self.pool.heap_bytes()
            + self.late.capacity() * size_of::<Late>()
            + self.finished.capacity() * size_of::<Finished>()
            + self.prefix.capacity() * size_of::<Invocation>()
            + self.stats.usage.capacity() * size_of::<crate::outcome::MemoryUsage>()
            + self.out.heap_bytes()
    }

    /// Plays the pre-warms before `t_end` that were not events, then reclaims idle instances
    /// whose keep-alive or lifetime ends before `t_end`.
    pub fn end_epoch(&mut self, t_end: Micros) {
        if self.prewarm_at.is_some() || self.prewarming.is_some() {
            self.play_prewarms(t_end);
        }
        self.expire_before(t_end);
        if self.cfg.max_lifetime.is_some() {
            let mut cursor = 0;
            while let Some((id, death)) = self.pool.pop_dying(t_end, &mut cursor) {
                self.reclaim(id, death);
            }
        }
    }

    /// Reclaims every idle instance whose keep-alive ends before `t`, idle longest first.
    #[inline]
    fn expire_before(&mut self, t: Micros) {
        while let Some((id, death)) = self.pool.pop_expired(t) {
            self.reclaim(id, death);
        }
    }

    /// Records instance `id`'s finished active period, if one is pending.
    fn close_period(&mut self, id: u32) {
        let inst = &mut self.pool[id];
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
        let inst = &self.pool[id];
        debug_assert!(inst.busy == 0 && !inst.provisioned && inst.state == State::Ready);
        let late = Late {
            idle_since: inst.idle_since,
            birth: inst.birth,
            death,
            memory_mb: inst.memory_mb,
        };
        if death > self.last_event {
            // The window may end before it (pre-warm events run past the last counted event):
            // `finish` clips it to the window.
            self.late.push(late);
        } else {
            self.count_idle_life(late, self.clip);
        }
        self.pool.kill(id);
        self.out.delta(death.min(self.clip), 0, -1, 0);
    }

    /// Counts a dead instance's last idle period and whole life, clipped to `[lo, clip)`.
    fn count_idle_life(&mut self, l: Late, clip: Micros) {
        count_idle_life(&mut self.stats, &l, self.lo, clip);
    }

    /// Counts the instances that died after the function's last event but no later than it is
    /// now: the window reaches past their deaths, so they are counted as `finish` would count
    /// them. Without this, a function whose every instance outlives its last request (one
    /// invoked less often than its keep-alive) would hold one record per cold start until the
    /// end of the run.
    fn count_late(&mut self) {
        let (t, lo, clip) = (self.last_event, self.lo, self.clip);
        let stats = &mut self.stats;
        self.late.retain(|l| {
            let due = l.death <= t;
            if due {
                count_idle_life(stats, l, lo, clip);
            }
            !due
        });
    }

    /// Processes the next event, which the caller found at (`now`, `phase`) with `next_event`.
    pub fn step_event(
        &mut self,
        now: Micros,
        phase: Phase,
        arrivals: &[Invocation],
        account: &mut Account,
    ) {
        // A pre-warm event is the timer-phase event at `now` when no timer is due then (timers
        // at the same instant go first). It does not extend the function's last event.
        let prewarm = self.learns
            && phase == Phase::Timer
            && self.prewarm_event() == Some(now)
            && self.timers.peek().is_none_or(|(t, _)| t != now);
        // A superseded CPU event does not extend the window either.
        let stale = phase == Phase::Timer
            && !prewarm
            && matches!(self.timers.peek(), Some((t, Timer::CpuDue(id)))
                if !self.share.as_ref().is_some_and(|s| s.is_due(id, t)));
        if !prewarm && !stale {
            self.last_event = self.last_event.max(now);
            if self
                .late
                .first()
                .is_some_and(|l| l.death <= self.last_event)
            {
                self.count_late();
            }
        }
        if !self.measuring && now >= self.lo {
            self.start_measuring();
        }
        self.expire_before(now + 1);
        match phase {
            Phase::Timer if prewarm => match self.prewarming {
                Some(id) => self.prewarm_ready(now, id),
                None => self.prewarm(now),
            },
            Phase::Timer => match self.timers.pop() {
                Some((_, Timer::Completion(id))) => self.complete(now, id, account),
                Some((_, Timer::InitDone(id))) => self.init_done(now, id),
                Some((_, Timer::CpuDue(id))) if !stale => self.cpu_due(now, id),
                Some((_, Timer::CpuDue(_))) => {}
                Some((_, Timer::ProvisionTick)) => self.provision_tick(now, account),
                None => {}
            },
            Phase::Acquisition => match self.acquisitions.pop() {
                Some((_, Acquisition::AsyncRetry(req))) => {
                    if self.measured(req.arrival) {
                        self.stats.retries += 1;
                    }
                    self.admit(now, req, account);
                }
                Some((_, Acquisition::QueueWake)) => {
                    self.queue_block.woke(now);
                    self.drain_queue(now, account);
                }
                Some((_, Acquisition::ProvisionUp(wanted))) => {
                    self.raise_provisioned(now, wanted, account)
                }
                None => {}
            },
            Phase::Arrival => {
                let Some(inv) = self.arrival(arrivals, self.next_arrival) else {
                    return;
                };
                self.next_arrival += 1;
                self.arrive(now, inv, account);
            }
        }
    }

    /// A trace row arrives at `now`.
    fn arrive(&mut self, now: Micros, inv: Invocation, account: &mut Account) {
        if self.learns {
            // An idle period of the application ends; a pending pre-warm is moot, for each of
            // the application's functions (the policy decides again when an instance next goes
            // idle).
            if let Some(since) = self.app.idle_since.take() {
                self.app.ka.observe(now - since);
            }
            self.prewarm_at = None;
            if self.app.shared {
                self.app.signal = Some(Signal::Cancel);
            }
        }
        if self.measured(inv.arrival) {
            self.stats.invocations += 1;
            if inv.trigger != Trigger::Sync {
                self.stats.event_invocations += 1;
            }
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
        let (work, rest) = match (&self.share, &self.cfg.cpu) {
            (Some(_), Some(cpu)) => {
                share::split(cpu, inv.duration, duration, memory_mb, inv.memory_mb)
            }
            _ => (0, 0),
        };
        let req = Request {
            arrival: inv.arrival,
            duration,
            memory_mb,
            trigger: inv.trigger,
            attempt: 0,
            work,
            rest,
        };
        if req.trigger == Trigger::Queue && !self.queue.is_empty() {
            // FIFO: a queue request does not overtake the ones already waiting.
            self.enqueue(req);
            self.drain_queue(now, account);
        } else {
            self.admit(now, req, account);
        }
    }

    /// True while the queue head waits for account capacity (the coupled driver wakes it).
    pub fn blocked_on_account(&self) -> bool {
        self.queue_block.on_account()
    }

    /// When a wake-up by the driver may be skipped (issue 16): `Some(deadline)` if, at any time
    /// up to the queue head's `deadline` and with no account capacity left, the queue head's
    /// retry would change nothing but bookkeeping that it leaves as it is: it waits for account
    /// capacity (`QueueBlock::settled_on_account`), no head has expired (so none is throttled),
    /// and `place` would be refused by the account before it changes anything, whatever
    /// instances go idle, expire or are pre-warmed in the meantime: no warm instance that needs
    /// no account capacity (provisioned, or on-demand with a free slot), no initializing
    /// instance with a free slot, no pre-warmed instance already serving with a free slot, and
    /// room under the function's own limit (checked before the account's). `None`: a retry might
    /// do something, so every release must wake it, as the eager driver does.
    pub fn inert_until(&self) -> Option<Micros> {
        let head = self.queue.front()?;
        if !self.queue_block.settled_on_account()
            || matches!(self.pool.warm(), Warm::Ready(_))
            || self.pool.can_join_init()
            || self
                .prewarming
                .is_some_and(|id| (1..self.pool.k()).contains(&self.pool[id].busy))
            || self
                .cfg
                .max_concurrency
                .is_some_and(|m| self.prov.alive + self.od_active >= m)
        {
            return None;
        }
        Some(head.deadline)
    }

    /// True while a queue wake-up at `now` is scheduled and has not run.
    pub fn wakes_at(&self, now: Micros) -> bool {
        self.queue_block.wakes_at(now)
    }

    /// Wakes a queue that waits for account capacity (coupled runs).
    pub fn wake(&mut self, now: Micros) {
        if let Some(at) = self.queue_block.account_freed(now) {
            self.schedule_queue_wake(at);
        }
    }

    fn schedule_queue_wake(&mut self, at: Micros) {
        self.acquisitions
            .push(&mut self.seq, at, Acquisition::QueueWake);
        self.queue_block.scheduled(at);
    }

    fn enqueue(&mut self, req: Request) {
        self.queue.push_back(Queued {
            req,
            deadline: req.arrival.saturating_add(self.cfg.queue_max_wait),
        });
    }

    /// Tries to place `req` at `now`; over the limit the trigger decides.
    fn admit(&mut self, now: Micros, req: Request, account: &mut Account) {
        let Err(blocked) = self.place(now, req, account) else {
            return;
        };
        match req.trigger {
            Trigger::Sync => self.refuse(req.arrival, blocked, MinuteKind::Throttled),
            Trigger::Queue => {
                self.enqueue(req);
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
                    let retry = Request {
                        attempt: req.attempt + 1,
                        ..req
                    };
                    self.acquisitions
                        .push(&mut self.seq, at, Acquisition::AsyncRetry(retry));
                }
            }
        }
    }

    /// The queue head was refused by `blocked`: remember why, and arrange to try again.
    fn on_blocked(&mut self, blocked: Blocked) {
        if let Some(at) = self.queue_block.refused(blocked) {
            self.schedule_queue_wake(at);
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
            let cause = self.queue_block.cause();
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
        let warm = match self.pool.warm() {
            Warm::Ready(id) => Some(id),
            Warm::IdleOnDemand => {
                // Instances are started within the function's limit, so an idle one can wake
                // without exceeding it, unless pre-warms (which start none for a request) loaded
                // it: under a learning policy the limit is checked too.
                if self.learns {
                    self.limits
                        .activate(self.prov.alive + self.od_active, account)?;
                } else {
                    account.check()?;
                }
                self.pick_mru_idle(now)
            }
            Warm::None => None,
        };
        if let Some(id) = warm {
            self.start_on_ready(now, id, req, account);
            return Ok(());
        }
        // 2. An initializing instance with a free slot (k > 1): wait for its init.
        if let Some(id) = self.pool.join_init() {
            let ready_at = self.pool[id].ready_at;
            self.record_served(now, req, ready_at, true, ready_at - now, id);
            return Ok(());
        }
        // 2b. A pre-warmed instance still initializing: wait for the rest of its init (a cold
        //     start, as for joining any initializing instance).
        if let Some(id) = self.prewarming
            && self.pool[id].busy < self.pool.k()
        {
            if self.pool[id].busy == 0 {
                self.limits
                    .activate(self.prov.alive + self.od_active, account)?;
                self.wake_prewarming(now, id, account);
            }
            self.pool[id].busy += 1;
            let ready_at = self.pool[id].ready_at;
            self.record_served(now, req, ready_at, true, ready_at - now, id);
            return Ok(());
        }
        // 3. A new instance, if the limits allow.
        self.limits
            .start_new(now, self.prov.alive + self.od_active, account)?;
        let init = self.cfg.init.sample(&mut self.rng);
        let ready_at = now + init;
        let mut inst = Instance::starting(now, ready_at);
        inst.memory_mb = req.memory_mb;
        let id = self.pool.alloc(inst);
        self.od_active += 1;
        account.usage += 1;
        if self.measured(req.arrival) {
            self.stats.instances_started += 1;
            self.stats.bill_init(req.memory_mb, init, &self.cfg.usage);
        }
        let init_us = clipped(now, ready_at, self.lo, self.clip);
        self.stats.on_demand_init_us += init_us;
        self.stats.init_mb_us += mb_us(init_us, req.memory_mb);
        self.out.delta(now, 0, 1, 1);
        if self.pool.k() > 1 {
            self.pool.open_init(id);
        }
        self.timers
            .push(&mut self.seq, ready_at, Timer::InitDone(id));
        self.record_served(now, req, ready_at, true, init, id);
        Ok(())
    }

    /// Takes the most recently idle on-demand instance still alive at `now`, reclaiming those
    /// whose lifetime ended.
    fn pick_mru_idle(&mut self, now: Micros) -> Option<u32> {
        loop {
            match self.pool.pop_mru_idle(now)? {
                Popped::Alive(id) => return Some(id),
                Popped::Dead(id, death) => self.reclaim(id, death),
            }
        }
    }

    /// Assigns `req` to ready instance `id` at `now` (a warm start).
    fn start_on_ready(&mut self, now: Micros, id: u32, req: Request, account: &mut Account) {
        let k = self.pool.k();
        let inst = &mut self.pool[id];
        let was_idle = inst.busy == 0;
        inst.busy += 1;
        let provisioned = inst.provisioned;
        let full = inst.busy == k;
        if was_idle {
            inst.busy_since = now;
            if inst.active_end != Some(now) {
                self.close_period(id);
                self.pool[id].active_since = now;
            }
            let inst = &mut self.pool[id];
            inst.active_end = None;
            let idle_since = inst.idle_since;
            if provisioned {
                self.pool.pop_prov_idle();
                self.prov.integrate(now, self.clip);
                self.prov.busy += 1;
            } else {
                let idle = clipped(idle_since, now, self.lo, self.clip);
                self.stats.on_demand_idle_us += idle;
                self.stats.idle_mb_us += mb_us(idle, self.pool[id].memory_mb);
                self.od_active += 1;
                account.usage += 1;
            }
            self.busy_change(now, 1, if provisioned { 0 } else { 1 });
            if !full {
                self.pool.list_partial(id);
            }
        } else if full {
            self.pool.unlist_partial(id);
        }
        self.record_served(now, req, now, false, 0, id);
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
        if self.learns {
            self.app.in_flight += 1;
            self.app.idle_since = None;
            self.last_memory = req.memory_mb;
            self.invoked = true;
        }
        if self.measured(req.arrival) {
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
        } else if cold {
            self.stats.warmup_cold_starts += 1;
        }
        if let (Some(share), Some(cpu)) = (&mut self.share, &self.cfg.cpu) {
            // CPU sharing: the execution ends when its CPU work is done (`cpu_due`).
            let inst_mb = match self.pool[id].memory_mb {
                0 => self.cfg.memory_mb,
                mb => mb,
            };
            let (capacity, cap) = share::instance_cpu(cpu, inst_mb);
            let mut job = Job::new(req.arrival, start, req.work, req.rest, req.memory_mb);
            job.cold = cold;
            share.assign(now, id, capacity, cap, job);
            self.schedule_cpu(id);
            return;
        }
        // An execution past the function's timeout is cut there (and billed up to it).
        let (exec, timed_out) = match self.cfg.timeout {
            Some(limit) if req.duration > limit => (limit, true),
            _ => (req.duration, false),
        };
        let end = start + exec;
        self.record_execution(req.arrival, req.memory_mb, start, end, timed_out, cold, id);
    }

    /// Records a request's execution on instance `id` from `start` to `end` (its latency, bill
    /// and timeout) and schedules its completion.
    #[allow(clippy::too_many_arguments)]
    fn record_execution(
        &mut self,
        arrival: Micros,
        memory_mb: u16,
        start: Micros,
        end: Micros,
        timed_out: bool,
        cold: bool,
        id: u32,
    ) {
        if self.measured(arrival) {
            if timed_out {
                self.stats.timed_out += 1;
                self.out.count(arrival, MinuteKind::TimedOut);
            }
            self.out.latency(end - arrival, cold);
            let provisioned = self.pool[id].provisioned;
            self.stats
                .bill(memory_mb, end - start, provisioned, &self.cfg.usage);
        }
        self.timers.push(&mut self.seq, end, Timer::Completion(id));
    }

    /// Schedules CPU-sharing instance `id`'s next CPU event if it changed.
    fn schedule_cpu(&mut self, id: u32) {
        if let Some(t) = self.share.as_mut().and_then(|s| s.reschedule(id)) {
            self.timers.push(&mut self.seq, t, Timer::CpuDue(id));
        }
    }

    /// Instance `id`'s live CPU event at `now`: the requests whose CPU work is done (or that
    /// timed out in it) execute to their end (the platform bills the whole stretched time).
    fn cpu_due(&mut self, now: Micros, id: u32) {
        let Some(share) = self.share.as_mut() else {
            return;
        };
        let mut finished = std::mem::take(&mut self.finished);
        share.fire(now, id, &mut finished);
        for f in finished.drain(..) {
            let j = f.job;
            if self.measured(j.arrival) {
                self.stats.cpu_work_us += f.work_done;
            }
            self.record_execution(
                j.arrival,
                j.memory_mb,
                j.start,
                f.end,
                f.timed_out,
                j.cold,
                id,
            );
        }
        self.finished = finished;
        self.schedule_cpu(id);
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
        let k = self.pool.k();
        let inst = &mut self.pool[id];
        if inst.state != State::Initializing {
            return;
        }
        inst.state = State::Ready;
        inst.busy_since = now;
        let spare = inst.busy < k;
        if let Some(share) = self.share.as_mut() {
            share.start_pending(now, id);
            self.schedule_cpu(id);
        }
        if spare {
            self.pool.close_init(id);
        }
        // It starts serving the request(s) that waited for it: busy, no usage change.
        self.busy_change(now, 1, 0);
        if spare {
            self.pool.list_partial(id);
        }
    }

    fn complete(&mut self, now: Micros, id: u32, account: &mut Account) {
        let k = self.pool.k();
        let inst = &mut self.pool[id];
        let was_full = inst.busy == k;
        let retiring = inst.retiring;
        inst.busy -= 1;
        if self.learns {
            self.app.in_flight -= 1;
            if self.app.in_flight == 0 {
                self.app.idle_since = Some(now);
            }
        }
        // A queued request takes the freed slot at once (not on a retiring instance).
        if !retiring && let Some(head) = self.queue_head(now) {
            self.queue.pop_front();
            self.pool[id].busy += 1;
            self.record_served(now, head.req, now, false, 0, id);
            return;
        }
        let inst = &mut self.pool[id];
        if inst.busy > 0 {
            if was_full && !retiring {
                self.pool.list_partial(id);
            }
            return;
        }
        // The instance goes idle.
        let provisioned = inst.provisioned;
        let busy = clipped(inst.busy_since, now, self.lo, self.clip);
        inst.active_end = Some(now);
        inst.idle_since = now;
        if inst.is_partial() {
            self.pool.unlist_partial(id);
        }
        if provisioned {
            self.stats.provisioned_busy_us += busy;
            self.busy_change(now, -1, 0);
            self.prov.integrate(now, self.clip);
            self.prov.busy -= 1;
            if self.pool[id].retiring {
                self.remove_provisioned(now, id, account);
            } else {
                self.pool.push_prov_idle(id);
            }
        } else {
            self.stats.on_demand_busy_us += busy;
            self.stats.busy_mb_us += mb_us(busy, self.pool[id].memory_mb);
            self.od_active -= 1;
            account.usage -= 1;
            self.busy_change(now, -1, -1);
            if self.pool.outlived(id, now) {
                self.reclaim(id, now);
            } else {
                self.went_idle(now, id);
            }
        }
    }

    /// On-demand instance `id` goes idle at `now`: the policy decides how long it stays loaded,
    /// or unloads it and pre-warms one later.
    #[inline]
    fn went_idle(&mut self, now: Micros, id: u32) {
        let (w, mode) = self.app.ka.decide();
        if now >= self.lo {
            self.stats.keep_alive_decisions[mode as usize] += 1;
        }
        if w.prewarm == 0 {
            self.pool.push_idle(id, now.saturating_add(w.keep_alive));
        } else {
            self.reclaim(id, now);
            let at = now.saturating_add(w.prewarm);
            self.prewarm_keep = w.keep_alive;
            self.prewarm_at = Some(at);
            if self.app.shared {
                self.app.signal = Some(Signal::Prewarm {
                    at,
                    keep: w.keep_alive,
                });
            }
        }
    }

    /// Another function of the application decided for it (see [`Signal`]): a pre-warm loads
    /// one instance of this function too if it was ever invoked (at the memory of its last
    /// request); an arrival cancels this function's pending pre-warm too.
    pub fn app_signal(&mut self, signal: Signal) {
        match signal {
            Signal::Cancel => self.prewarm_at = None,
            Signal::Prewarm { at, keep } => {
                if self.invoked {
                    self.prewarm_at = Some(at);
                    self.prewarm_keep = keep;
                }
            }
        }
    }

    /// The next pre-warm event's time, if it is an event: something else is left to happen, or
    /// `always`.
    #[cold]
    #[inline(never)]
    fn prewarm_due(&self, arrivals: &[Invocation], always: bool) -> Option<Micros> {
        let time = self.prewarm_event()?;
        let others = always
            || !self.timers.is_empty()
            || !self.acquisitions.is_empty()
            || !self.queue.is_empty()
            || self.arrivals_left(arrivals);
        others.then_some(time)
    }

    /// The time of the next pre-warm event: a pre-warmed instance's readiness, else the pending
    /// pre-warm.
    #[inline]
    fn prewarm_event(&self) -> Option<Micros> {
        match self.prewarming {
            Some(id) => Some(self.pool[id].ready_at),
            None => self.prewarm_at,
        }
    }

    /// Pre-warm steps before `t_end` still pending when the epoch's events are done: they were
    /// not events (nothing else was left in the function; any event after them comes at
    /// `t_end` or later), but happen all the same, in time order, as the step would have
    /// played them (expiries first; the window is not extended).
    #[cold]
    #[inline(never)]
    fn play_prewarms(&mut self, t_end: Micros) {
        while let Some(t) = self.prewarm_event().filter(|&t| t < t_end) {
            if !self.measuring && t >= self.lo {
                self.start_measuring();
            }
            self.expire_before(t + 1);
            match self.prewarming {
                Some(id) => self.prewarm_ready(t, id),
                None => self.prewarm(t),
            }
        }
    }

    /// The pending pre-warm falls due: an instance starts its init with no request; it is
    /// loaded memory that does not execute (idle) from now on.
    fn prewarm(&mut self, now: Micros) {
        self.prewarm_at = None;
        if now >= self.clip {
            return;
        }
        let init = self.cfg.init.sample(&mut self.rng);
        let ready_at = now + init;
        let mut inst = Instance::starting(now, ready_at);
        inst.busy = 0;
        inst.idle_since = now;
        inst.memory_mb = self.last_memory;
        let id = self.pool.alloc(inst);
        self.prewarming = Some(id);
        if now >= self.lo {
            self.stats.prewarms += 1;
            self.last_prewarm = Some(now);
        }
        self.out.delta(now, 0, 1, 0);
    }

    /// A pre-warmed instance is ready: it waits, loaded, for its keep-alive window (or serves
    /// the requests that joined it during its init).
    fn prewarm_ready(&mut self, now: Micros, id: u32) {
        if self.prewarming == Some(id) {
            self.prewarming = None;
        }
        // A pre-warm decided during this one's init, due before it was ready, falls due now
        // (events never go back in time).
        if let Some(at) = self.prewarm_at
            && at < now
        {
            self.prewarm_at = Some(now);
        }
        if self.pool[id].busy > 0 {
            self.init_done(now, id);
            return;
        }
        self.pool[id].state = State::Ready;
        self.pool
            .push_idle(id, now.saturating_add(self.prewarm_keep));
    }

    /// The first request joins pre-warming instance `id` at `now`: its time so far was idle,
    /// the rest of its init now serves a request.
    fn wake_prewarming(&mut self, now: Micros, id: u32, account: &mut Account) {
        let inst = &mut self.pool[id];
        let (birth, ready_at, mb) = (inst.birth, inst.ready_at, inst.memory_mb);
        inst.active_since = now;
        let idle = clipped(birth, now, self.lo, self.clip);
        let init = clipped(now, ready_at, self.lo, self.clip);
        self.stats.on_demand_idle_us += idle;
        self.stats.idle_mb_us += mb_us(idle, mb);
        self.stats.on_demand_init_us += init;
        self.stats.init_mb_us += mb_us(init, mb);
        self.od_active += 1;
        account.usage += 1;
        self.out.delta(now, 0, 0, 1);
    }

    /// Ends the run at `window_end`: idle instances die at the window end at the latest; queued
    /// requests left over are throttled. Fills in the function's summary statistics.
    pub fn finish(&mut self, window_end: Micros) {
        let clip = self.clip.min(window_end);
        if !self.measuring {
            self.start_measuring();
        }
        let cause = self.queue_block.cause();
        while let Some(Queued { req, .. }) = self.queue.pop_front() {
            self.refuse(req.arrival, cause, MinuteKind::Throttled);
        }
        // Pre-warms after the function's last event are not events (the run does not go on for
        // them), but they happen within the window: a pending one starts, one initializing
        // becomes ready, and each stays loaded for its keep-alive, clipped to the window's end
        // (idle memory-time: wasted, and billed as idle where idle is billed).
        if self.prewarming.is_none()
            && let Some(at) = self.prewarm_at
            && at < clip
        {
            self.prewarm(at);
        }
        if let Some(id) = self.prewarming.take() {
            let inst = &mut self.pool[id];
            inst.state = State::Ready;
            let (ready, birth) = (inst.ready_at, inst.birth);
            if ready < clip && inst.busy == 0 {
                self.pool
                    .push_idle(id, ready.saturating_add(self.prewarm_keep));
            } else {
                self.reclaim(id, clip.max(birth));
            }
        }
        while let Some((id, death)) = self.pool.pop_oldest_idle() {
            self.reclaim(id, death.min(clip));
        }
        // A pre-warm after the window's end (the last decision's) is not counted.
        if self.last_prewarm.is_some_and(|t| t >= clip) {
            self.stats.prewarms -= 1;
        }
        for l in std::mem::take(&mut self.late) {
            self.count_idle_life(l, clip);
        }
        // Provisioned instances still alive end their last active period here.
        for id in self.pool.ids() {
            if self.pool[id].state != State::Dead {
                self.close_period(id);
            }
        }
        self.stats.peak_busy = self.level.peak;
        self.stats.busy_integral_us +=
            self.level.busy as u128 * (clip.saturating_sub(self.level.since.min(clip))) as u128;
        let (configured_us, alive_us) = self.provisioned_totals(clip);
        self.stats.provisioned_configured_us = configured_us;
        self.stats.provisioned_idle_us = alive_us.saturating_sub(self.stats.provisioned_busy_us);
        // Only a provisioned plan's last tick may be left.
        debug_assert!(
            self.acquisitions.is_empty() && self.timers.kinds().all(|t| t == Timer::ProvisionTick)
        );
        self.timers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FixedKeepAlive, InitDist, ProvisionedPlan, Schedule};
    use crate::time::{MINUTE, SECOND};
    use std::sync::Arc;

    const MS: Micros = 1_000;

    /// No account limit, no scaling rate, a constant init of 50 ms, keep-alive 10 s.
    fn config() -> PlatformConfig {
        PlatformConfig {
            account_concurrency: None,
            scaling: None,
            keep_alive: Arc::new(FixedKeepAlive(10 * SECOND)),
            ..PlatformConfig::lambda_defaults(InitDist::Constant(50 * MS))
        }
    }

    fn row(arrival: Micros, duration: Micros, trigger: Trigger) -> Invocation {
        Invocation {
            arrival,
            duration,
            function: 0,
            memory_mb: 0,
            trigger,
        }
    }

    /// Runs one function alone over `rows` and ends the window at `window_end`.
    fn run_with<'c>(
        cfg: &'c PlatformConfig,
        limit: u64,
        rows: &[Invocation],
        window_end: Micros,
    ) -> FunctionSim<'c> {
        let clock = SimClock {
            tod0: 0,
            offset: 0,
            lo: 0,
            horizon: None,
        };
        let mut account = Account { usage: 0, limit };
        let mut sim = FunctionSim::new(0, cfg, clock, Vec::new(), &mut account);
        sim.advance_to(Micros::MAX, rows, &mut account);
        sim.finish(window_end);
        assert_eq!(account.usage, u64::from(sim.prov.alive), "usage returned");
        sim
    }

    fn run<'c>(cfg: &'c PlatformConfig, rows: &[Invocation]) -> FunctionSim<'c> {
        run_with(cfg, u64::MAX, rows, 10 * MINUTE)
    }

    #[test]
    fn a_function_limit_refuses_the_request_past_it() {
        let cfg = PlatformConfig {
            max_concurrency: Some(2),
            ..config()
        };
        // Three at once, each busy 1 s: the third finds both instances in use. After the
        // first completes (at 1.05 s) a fourth is served warm.
        let rows = [
            row(0, SECOND, Trigger::Sync),
            row(1, SECOND, Trigger::Sync),
            row(2, SECOND, Trigger::Sync),
            row(2 * SECOND, SECOND, Trigger::Sync),
        ];
        let s = run(&cfg, &rows).stats;
        assert_eq!((s.cold_starts, s.warm_starts), (2, 1));
        assert_eq!((s.throttled, s.throttled_function), (1, 1));
        assert_eq!((s.throttled_account, s.throttled_rate), (0, 0));
        assert_eq!(s.invocations, 4);
    }

    #[test]
    fn an_account_limit_refuses_the_request_past_it_and_counts_it_there() {
        let rows = [row(0, SECOND, Trigger::Sync), row(5, SECOND, Trigger::Sync)];
        let s = run_with(&config(), 1, &rows, MINUTE).stats;
        assert_eq!((s.cold_starts, s.throttled, s.throttled_account), (1, 1, 1));
    }

    #[test]
    fn keep_alive_ends_at_exactly_last_use_plus_keep_alive() {
        let cfg = config();
        // Init 50 ms + 1 s busy: idle from 1.05 s, keep-alive 10 s, so warm up to 11.05 s
        // exclusive.
        let last_warm = 11_050 * MS - 1;
        let s = run(
            &cfg,
            &[
                row(0, SECOND, Trigger::Sync),
                row(last_warm, MS, Trigger::Sync),
            ],
        )
        .stats;
        assert_eq!((s.cold_starts, s.warm_starts), (1, 1));
        let s = run(
            &cfg,
            &[
                row(0, SECOND, Trigger::Sync),
                row(last_warm + 1, MS, Trigger::Sync),
            ],
        )
        .stats;
        assert_eq!((s.cold_starts, s.warm_starts), (2, 0));
        // The first instance was idle exactly the keep-alive; the second idles 10 s too.
        assert_eq!(s.on_demand_idle_us, 2 * 10 * SECOND);
        assert_eq!(s.on_demand_init_us, 2 * 50 * MS);
        assert_eq!(s.on_demand_busy_us, SECOND + MS);
    }

    #[test]
    fn equal_arrivals_are_served_in_row_order_and_a_queue_is_fifo() {
        let cfg = PlatformConfig {
            max_concurrency: Some(1),
            init: InitDist::Constant(0),
            ..config()
        };
        // One instance, three queue requests at t = 0 with different durations: served one
        // after another in row order (ends at 1 s, 3 s, 6 s).
        let rows = [
            row(0, SECOND, Trigger::Queue),
            row(0, 2 * SECOND, Trigger::Queue),
            row(0, 3 * SECOND, Trigger::Queue),
        ];
        let sim = run(&cfg, &rows);
        assert_eq!(
            sim.out.latencies(),
            vec![(SECOND, true), (3 * SECOND, false), (6 * SECOND, false)]
        );
        assert_eq!((sim.stats.waited, sim.stats.throttled), (2, 0));
    }

    #[test]
    fn an_async_request_over_the_limit_retries_after_its_backoff() {
        let cfg = PlatformConfig {
            max_concurrency: Some(1),
            init: InitDist::Constant(0),
            ..config()
        };
        // The second is refused at 0, retries at 1 s (still busy until 1.5 s), then at 3 s.
        let rows = [
            row(0, 1_500 * MS, Trigger::Async),
            row(0, SECOND, Trigger::Async),
        ];
        let sim = run(&cfg, &rows);
        assert_eq!(sim.stats.retries, 2);
        assert_eq!(
            sim.out.latencies(),
            vec![(1_500 * MS, true), (4 * SECOND, false)]
        );
    }

    #[test]
    fn a_provisioned_schedule_step_releases_idle_instances_at_its_boundary() {
        let cfg = PlatformConfig {
            provisioned_plan: Some(ProvisionedPlan::Schedule(
                Schedule::parse("00:00-00:05=2,else=1").unwrap(),
            )),
            ..config()
        };
        // An arrival after the boundary keeps the run going past it; it runs on the
        // provisioned instance left.
        let sim = run_with(
            &cfg,
            u64::MAX,
            &[row(6 * MINUTE, SECOND, Trigger::Sync)],
            7 * MINUTE,
        );
        let s = &sim.stats;
        assert_eq!((s.warm_starts, s.cold_starts), (1, 0));
        assert_eq!(s.provisioned_changes, 1);
        // 2 instances for 5 minutes, then 1 for 2 minutes.
        assert_eq!(s.provisioned_configured_us, (2 * 5 + 2) * MINUTE);
        assert_eq!(s.provisioned_busy_us, SECOND);
        assert_eq!(s.provisioned_idle_us, (2 * 5 + 2) * MINUTE - SECOND);
        assert_eq!(sim.prov.alive, 1);
    }

    #[test]
    fn at_one_instant_releases_come_before_retries_and_retries_before_arrivals() {
        let cfg = PlatformConfig {
            max_concurrency: Some(1),
            init: InitDist::Constant(0),
            ..config()
        };
        // A (0 to 0.5 s) holds the one instance; B, refused at 0, retries at 1 s; C arrives at
        // 1 s too. The retry goes first and takes the instance, so C is throttled.
        let rows = [
            row(0, 500 * MS, Trigger::Async),
            row(0, SECOND, Trigger::Async),
            row(SECOND, SECOND, Trigger::Sync),
        ];
        let sim = run(&cfg, &rows);
        assert_eq!((sim.stats.retries, sim.stats.throttled), (1, 1));
        assert_eq!(
            sim.out.latencies(),
            vec![(500 * MS, true), (2 * SECOND, false)]
        );
        // A completion at the instant of an arrival frees the instance first: D arrives as A
        // ends and is served warm, not refused.
        let rows = [
            row(0, 500 * MS, Trigger::Sync),
            row(500 * MS, SECOND, Trigger::Sync),
        ];
        let s = run(&cfg, &rows).stats;
        assert_eq!((s.warm_starts, s.throttled), (1, 0));
    }

    /// The hybrid policy with its defaults (4 h range, p5/p99).
    fn hybrid() -> PlatformConfig {
        PlatformConfig {
            keep_alive: crate::engine::KeepAliveSpec::parse("hybrid")
                .unwrap()
                .policy(),
            ..config()
        }
    }

    fn assert_memory_adds_up(s: &FunctionStats) {
        assert_eq!(s.idle_mb_us + s.busy_mb_us + s.init_mb_us, s.loaded_mb_us);
    }

    #[test]
    fn a_30_minute_periodic_function_is_pre_warmed_and_wastes_only_the_wait() {
        let cfg = hybrid();
        // 10 requests of 1 s, every 30 min; init 50 ms; memory 128 MB.
        let rows: Vec<Invocation> = (0..10)
            .map(|i| row(i * 30 * MINUTE, SECOND, Trigger::Sync))
            .collect();
        let s = run_with(&cfg, u64::MAX, &rows, 300 * MINUTE).stats;
        // Only the first is cold: before any idle time the policy keeps the instance for its
        // whole range (4 h), so the second is warm; from then on the histogram (one bin, 29 min)
        // unloads each instance when it goes idle and pre-warms one 26.1 min later (29 min −
        // 10 %), which waits 30 min − 1 s − 26.1 min = 233 s for the next request.
        assert_eq!((s.cold_starts, s.warm_starts), (1, 9));
        assert_eq!(s.keep_alive_decisions, [0, 9, 1, 0, 0]);
        // The pre-warm after the last request (due at 17,767 s) has nothing left to precede,
        // but falls within the window (to 18,000 s): it is simulated to the window's end.
        assert_eq!(s.prewarms, 9);
        // Idle: the first instance from 1.05 s to 1,800 s, then 233 s per pre-warm, each shorter
        // than the 414 s keep-alive; the last one's 233 s to the window's end (its keep-alive,
        // to 18,181.05 s, is clipped there).
        let idle_us = 1_798_950 * MS + 9 * 233 * SECOND;
        assert_eq!(s.on_demand_idle_us, idle_us);
        assert_eq!(s.idle_mb_us, u128::from(idle_us) * 128);
        assert_eq!(s.busy_mb_us, u128::from(10 * SECOND) * 128);
        assert_memory_adds_up(&s);
    }

    /// Function limit 1, hybrid policy: r0 (0 s) and r1 (1,800 s) teach the policy a 29-minute
    /// idle time, so r1's instance, going idle at 1,801 s, is unloaded and one is pre-warmed at
    /// 3,367 s (1,566 s later). An async request refused at 1,800.5 s (r1 holds the one slot)
    /// retries at 1,801.5 s without cancelling the pre-warm (only arrivals do) and runs for
    /// 3,000 s on a new instance. A request at `late` then finds the pre-warmed instance
    /// (initializing until 3,367.05 s, or idle after) while the limit's one slot is in use.
    fn pre_warm_beyond_the_limit(late: Micros) -> FunctionStats {
        let cfg = PlatformConfig {
            max_concurrency: Some(1),
            ..hybrid()
        };
        let rows = [
            row(0, SECOND, Trigger::Sync),
            row(1_800 * SECOND, SECOND, Trigger::Sync),
            row(1_800 * SECOND + 500 * MS, 3_000 * SECOND, Trigger::Async),
            row(late, SECOND, Trigger::Sync),
        ];
        run_with(&cfg, u64::MAX, &rows, 90 * MINUTE).stats
    }

    #[test]
    fn a_request_joining_a_pre_warmed_instance_is_held_to_the_function_limit() {
        // During the pre-warm's init, and once it is ready and idle: refused by the function's
        // limit either way (before, it was served on the pre-warmed instance, 2 busy of 1).
        for late in [3_367 * SECOND + 10 * MS, 3_400 * SECOND] {
            let s = pre_warm_beyond_the_limit(late);
            assert_eq!(s.prewarms, 1, "{late}");
            assert_eq!((s.throttled, s.throttled_function), (1, 1), "{late}");
            assert_eq!(
                (s.cold_starts, s.warm_starts, s.retries),
                (2, 1, 1),
                "{late}"
            );
            assert_eq!(s.peak_busy, 1, "{late}");
        }
        // After the long request ends (4,801.55 s) the limit has room: served warm by the
        // pre-warmed instance if it is still kept (ready 3,367.05 s + 414 s: not at 4,900 s),
        // so it is a cold start on a new one.
        let s = pre_warm_beyond_the_limit(4_900 * SECOND);
        assert_eq!((s.throttled, s.cold_starts), (0, 3));
    }

    #[test]
    fn an_arrival_during_a_pre_warm_init_waits_for_it_and_cancels_nothing_else() {
        // Init 2 min: the pre-warm at 26.1 min after idle is not ready until 28.1 min. Requests
        // that come 27 min after the last one ended (bin 26 once learned at 30 min) are made to
        // arrive while it initializes.
        let cfg = PlatformConfig {
            init: InitDist::Constant(2 * MINUTE),
            ..hybrid()
        };
        // r0 at 0 (cold, ends 2 min + 1 s); r1 at 32 min + 1 s: idle 30 min exactly (bin 30);
        // r1 ends at 32 min + 2 s; the histogram says pre-warm 27 min later (30 min − 10 %),
        // ready 2 min after that: 61 min + 2 s. r2 arrives at 60 min: during the init.
        let rows = [
            row(0, SECOND, Trigger::Sync),
            row(32 * MINUTE + SECOND, SECOND, Trigger::Sync),
            row(60 * MINUTE, SECOND, Trigger::Sync),
        ];
        let s = run_with(&cfg, u64::MAX, &rows, 70 * MINUTE).stats;
        assert_eq!((s.cold_starts, s.warm_starts, s.prewarms), (2, 1, 1));
        assert_eq!(s.instances_started, 1);
        // r2 waited for the rest of the pre-warm's init: 61 min + 2 s − 60 min.
        let sim = run_with(&cfg, u64::MAX, &rows, 70 * MINUTE);
        assert_eq!(sim.out.latencies()[2], (MINUTE + 2 * SECOND + SECOND, true));
        assert_memory_adds_up(&s);
    }
}
