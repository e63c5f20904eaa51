//! Provisioned concurrency: the configured level over time (fixed, a time-of-day schedule, or
//! target tracking on utilisation), its integrals, and how a change of level moves instances in
//! the pool. Lowering is a release (a timer: idle instances go at once, busy ones retire when
//! they finish); raising is an acquisition (it takes account capacity, like an arrival).

use super::FunctionSim;
use super::events::{Acquisition, Timer};
use super::limits::Account;
use super::pool::{Instance, State};
use crate::engine::{PlatformConfig, ProvisionedPlan};
use crate::time::Micros;

/// The provisioned pool's levels and their integrals (clipped at the horizon).
#[derive(Debug, Clone, Default)]
pub(crate) struct Provisioned {
    /// Instances configured now (the plan's level).
    pub level: u32,
    /// Instances alive: configured ones plus retiring ones still busy.
    pub alive: u32,
    /// Provisioned instances serving requests now.
    pub busy: u32,
    since: Micros,
    pub level_us: u128,
    pub alive_us: u128,
    pub busy_us: u128,
    /// Time of day at t = 0, for schedules.
    tod0: Micros,
    /// Target tracking: integrals at the last evaluation, and the streaks of periods above and
    /// below the target.
    busy_mark: u128,
    level_mark: u128,
    above: u32,
    below: u32,
    /// The integrals at the start of the measured window (see `FunctionSim::start_measuring`).
    pub measured_from: (u128, u128, u128),
}

impl Provisioned {
    /// The plan's state at t = 0 (time of day `tod0`), with nothing configured yet.
    pub fn new(tod0: Micros) -> Provisioned {
        Provisioned {
            tod0,
            ..Provisioned::default()
        }
    }

    /// The level configured at t = 0, and when the plan's first step comes (if it has steps).
    pub fn start(&self, cfg: &PlatformConfig) -> (u32, Option<Micros>) {
        match &cfg.provisioned_plan {
            None => (cfg.provisioned, None),
            Some(ProvisionedPlan::Schedule(s)) => (
                s.level_at(self.tod0),
                Some(s.until_next_boundary(self.tod0)),
            ),
            Some(ProvisionedPlan::Target(t)) => (t.min, Some(t.interval)),
        }
    }

    /// Adds the levels held since the last call up to `now` to the integrals, clipped at `clip`.
    pub fn integrate(&mut self, now: Micros, clip: Micros) {
        let (a, b) = (self.since.min(clip), now.min(clip));
        if b > a {
            let dt = (b - a) as u128;
            self.level_us += self.level as u128 * dt;
            self.alive_us += self.alive as u128 * dt;
            self.busy_us += self.busy as u128 * dt;
        }
        self.since = self.since.max(now);
    }

    /// The plan's step at `now` (integrals up to date): the level it wants and when its next
    /// step comes. A schedule wants its level at the time of day; target tracking wants
    /// ceil(level × utilisation / target), clamped, once the utilisation of the periods since the
    /// last evaluation has been above (or below) it for enough periods in a row.
    pub fn step(&mut self, plan: &ProvisionedPlan, now: Micros) -> (u32, Micros) {
        match plan {
            ProvisionedPlan::Schedule(s) => {
                let tod = self.tod0 + now;
                (s.level_at(tod), now + s.until_next_boundary(tod))
            }
            ProvisionedPlan::Target(t) => {
                let busy = self.busy_us - self.busy_mark;
                let level = self.level_us - self.level_mark;
                self.busy_mark = self.busy_us;
                self.level_mark = self.level_us;
                let util = if level > 0 {
                    busy as f64 / level as f64
                } else {
                    0.0
                };
                let current = self.level;
                let desired = ((f64::from(current.max(1)) * util / t.target).ceil() as u32)
                    .clamp(t.min, t.max);
                let mut wanted = current;
                if desired > current {
                    self.above += 1;
                    self.below = 0;
                    if self.above >= t.scale_out_after {
                        wanted = desired;
                    }
                } else if desired < current {
                    self.below += 1;
                    self.above = 0;
                    if self.below >= t.scale_in_after {
                        wanted = desired;
                    }
                } else {
                    self.above = 0;
                    self.below = 0;
                }
                if wanted != current {
                    self.above = 0;
                    self.below = 0;
                }
                (wanted, now + t.interval)
            }
        }
    }
}

impl FunctionSim<'_> {
    /// Configures the level at t = 0 and schedules the plan's first step.
    pub(super) fn start_provisioned(&mut self, account: &mut Account) {
        let (level0, first_step) = self.prov.start(self.cfg);
        for _ in 0..level0 {
            self.add_provisioned(0, account);
        }
        self.prov.level = level0;
        if level0 > 0 {
            self.out.provisioned(0, level0 as i32);
        }
        if let Some(at) = first_step {
            self.timers.push(&mut self.seq, at, Timer::ProvisionTick);
        }
        // At t = 0 the stack is reversed, so the instance added last is used first. The
        // instances are alike then; this only fixes which ids serve (kept as it was).
        self.pool.reverse_prov_idle();
    }

    /// Adds one ready, idle provisioned instance at `now`.
    fn add_provisioned(&mut self, now: Micros, account: &mut Account) {
        self.prov.integrate(now, self.clip);
        let id = self.pool.alloc(Instance::provisioned(now));
        // The stack pops from the top: instances added earlier are used first.
        self.pool.push_prov_idle_bottom(id);
        self.prov.alive += 1;
        account.usage += 1;
        self.out.delta(now.min(self.clip), 0, 1, 1);
    }

    /// Removes an idle provisioned instance at `now`.
    pub(super) fn remove_provisioned(&mut self, now: Micros, id: u32, account: &mut Account) {
        self.close_period(id);
        self.prov.integrate(now, self.clip);
        debug_assert!(self.pool[id].provisioned && self.pool[id].busy == 0);
        self.pool.kill(id);
        self.prov.alive -= 1;
        account.usage -= 1;
        self.out.delta(now.min(self.clip), 0, -1, -1);
    }

    /// The provisioned plan's step at `now`: a schedule boundary or a target-tracking evaluation.
    /// Lowering happens now; raising is queued as an acquisition at `now`.
    pub(super) fn provision_tick(&mut self, now: Micros, account: &mut Account) {
        let Some(plan) = &self.cfg.provisioned_plan else {
            return;
        };
        self.prov.integrate(now, self.clip);
        let (wanted, next) = self.prov.step(plan, now);
        if wanted < self.prov.level {
            self.lower_provisioned(now, wanted, account);
        } else if wanted > self.prov.level {
            self.acquisitions
                .push(&mut self.seq, now, Acquisition::ProvisionUp(wanted));
        }
        // Rescheduled always: `next_event` ignores a tick once nothing else is left.
        self.timers.push(&mut self.seq, next, Timer::ProvisionTick);
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
        while remove > 0
            && let Some(id) = self.pool.pop_prov_idle_lru()
        {
            self.remove_provisioned(now, id, account);
            remove -= 1;
        }
        if remove > 0 {
            let busy: Vec<u32> = self
                .pool
                .ids()
                .filter(|&i| {
                    let inst = &self.pool[i];
                    inst.provisioned
                        && !inst.retiring
                        && inst.state == State::Ready
                        && inst.busy > 0
                })
                .take(remove as usize)
                .collect();
            for id in busy {
                if self.pool[id].is_partial() {
                    self.pool.unlist_partial(id);
                }
                self.pool[id].retiring = true;
            }
        }
    }

    /// Raises the provisioned level (an acquisition): retiring instances stay, then new ones are
    /// added while the account has room.
    pub(super) fn raise_provisioned(&mut self, now: Micros, wanted: u32, account: &mut Account) {
        if wanted <= self.prov.level {
            return;
        }
        self.prov.integrate(now, self.clip);
        if now >= self.lo {
            self.stats.provisioned_changes += 1;
        }
        let old_level = self.prov.level;
        let mut add = wanted - self.prov.level;
        let retiring: Vec<u32> = self
            .pool
            .ids()
            .filter(|&i| {
                let inst = &self.pool[i];
                inst.provisioned && inst.retiring && inst.state == State::Ready
            })
            .take(add as usize)
            .collect();
        let k = self.pool.k();
        for id in retiring {
            self.pool[id].retiring = false;
            if k > 1 && self.pool[id].busy < k {
                self.pool.list_partial(id);
            }
            self.prov.level += 1;
            add -= 1;
        }
        while add > 0 && account.check().is_ok() {
            self.add_provisioned(now, account);
            self.prov.level += 1;
            add -= 1;
        }
        self.out
            .provisioned(now.min(self.clip), (self.prov.level - old_level) as i32);
        // Capacity appeared: queued requests may take it.
        self.drain_queue(now, account);
    }

    /// The provisioned integrals at the end of the window `clip`, measured part only:
    /// (configured level, alive) instance-microseconds.
    pub(super) fn provisioned_totals(&mut self, clip: Micros) -> (u64, u64) {
        self.prov.integrate(clip, clip);
        let (level0, alive0, _) = self.prov.measured_from;
        (
            (self.prov.level_us - level0) as u64,
            (self.prov.alive_us - alive0) as u64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{DAY, Schedule, TargetTracking};
    use crate::time::MINUTE;

    #[test]
    fn a_schedule_step_takes_effect_at_its_boundary() {
        let plan = ProvisionedPlan::Schedule(Schedule::parse("00:00-00:05=3,else=1").unwrap());
        let mut p = Provisioned::new(0);
        let cfg = PlatformConfig {
            provisioned_plan: Some(plan.clone()),
            ..PlatformConfig::lambda_defaults(crate::engine::InitDist::Constant(0))
        };
        // At t = 0 the first step holds, and the next step is its end.
        assert_eq!(p.start(&cfg), (3, Some(5 * MINUTE)));
        // A microsecond before the boundary the step still holds...
        assert_eq!(p.step(&plan, 5 * MINUTE - 1).0, 3);
        // ...at the boundary `else` does, until the step starts again the next day.
        assert_eq!(p.step(&plan, 5 * MINUTE), (1, DAY));
        assert_eq!(p.step(&plan, DAY), (3, DAY + 5 * MINUTE));
    }

    #[test]
    fn a_schedule_reads_the_time_of_day_of_the_trace_clock() {
        // The trace starts at 23:58; a step 00:00-01:00 begins 2 minutes in.
        let plan = ProvisionedPlan::Schedule(Schedule::parse("00:00-01:00=4").unwrap());
        let mut p = Provisioned::new(DAY - 2 * MINUTE);
        assert_eq!(p.step(&plan, 0), (0, 2 * MINUTE));
        assert_eq!(p.step(&plan, 2 * MINUTE), (4, 62 * MINUTE));
    }

    #[test]
    fn integrals_are_level_times_time_and_stop_at_the_clip() {
        let mut p = Provisioned::new(0);
        p.level = 2;
        p.alive = 3;
        p.busy = 1;
        p.integrate(10, 100);
        assert_eq!((p.level_us, p.alive_us, p.busy_us), (20, 30, 10));
        p.level = 1;
        // 10..100 counts, 100..150 is past the clip.
        p.integrate(150, 100);
        assert_eq!(p.level_us, 20 + 90);
        p.integrate(200, 100);
        assert_eq!(p.level_us, 110);
    }

    fn tracking(scale_out_after: u32, scale_in_after: u32) -> ProvisionedPlan {
        ProvisionedPlan::Target(TargetTracking {
            target: 0.5,
            min: 1,
            max: 10,
            interval: MINUTE,
            scale_out_after,
            scale_in_after,
        })
    }

    /// One evaluation period at `level` with `busy` instances busy throughout.
    fn period(p: &mut Provisioned, plan: &ProvisionedPlan, now: &mut Micros, busy: u32) -> u32 {
        p.busy = busy;
        *now += MINUTE;
        p.integrate(*now, Micros::MAX);
        let (wanted, next) = p.step(plan, *now);
        assert_eq!(next, *now + MINUTE);
        wanted
    }

    #[test]
    fn target_tracking_scales_out_after_enough_periods_above_the_target() {
        let plan = tracking(3, 15);
        let mut p = Provisioned::new(0);
        (p.level, p.alive) = (2, 2);
        let mut now = 0;
        // 2 of 2 busy: utilisation 1, target 0.5, so 4 wanted, on the third period in a row.
        assert_eq!(period(&mut p, &plan, &mut now, 2), 2);
        assert_eq!(period(&mut p, &plan, &mut now, 2), 2);
        assert_eq!(period(&mut p, &plan, &mut now, 2), 4);
        // A period on target breaks the streak.
        assert_eq!(period(&mut p, &plan, &mut now, 1), 2);
        assert_eq!(period(&mut p, &plan, &mut now, 2), 2);
    }

    #[test]
    fn target_tracking_scales_in_to_at_least_its_minimum() {
        let plan = tracking(3, 2);
        let mut p = Provisioned::new(0);
        (p.level, p.alive) = (4, 4);
        let mut now = 0;
        // Idle: desired ceil(4 × 0 / 0.5) = 0, clamped to the minimum 1.
        assert_eq!(period(&mut p, &plan, &mut now, 0), 4);
        assert_eq!(period(&mut p, &plan, &mut now, 0), 1);
    }
}
