//! The functions whose queue waits for account capacity in a coupled run, and which of them a
//! release of capacity wakes (issue 16, "a faster coupled engine").
//!
//! The eager rule wakes every waiting function at every release; the lazy rule wakes only those
//! whose retry can matter, and gives the same run, event for event that changes anything.
//!
//! Why the lazy rule is exact. In the eager rule a release at time `t` (a timer: completions and
//! provisioned steps are the only events that give capacity back) schedules a queue wake-up at
//! `(t, acquisition, g)` for every waiting `g`, after `g`'s acquisitions already scheduled for
//! `t`. Each retries its queue head there; the driver orders them by function index. A retry
//! that finds no account capacity, no expired head and a queue head that `place` refuses on the
//! account before it changes anything (`FunctionSim::inert_until`: that is a property of the
//! function's state, which only its own steps change, plus the head's deadline) changes nothing
//! but its step's harmless side effects (the clock of its last event, reclaiming instances that
//! expired at their exact times, which the next step or the epoch's end does the same), and it
//! leaves the queue's bookkeeping as it found it. Such a function — *inert* — may be skipped.
//! So the lazy rule wakes, at each release, every waiting function that is not inert (*restless*:
//! its retry may throttle, serve or change why it waits), every inert one whose head expired
//! (`deadline < t`), and enough inert ones, lowest index first, that the capacity left is no
//! more than the functions woken but not yet retried that come before the lowest inert one left
//! (re-checked after every step, since a woken retry may take nothing). An inert function left
//! asleep then finds no capacity at its eager retry's place in the order: every woken function
//! that could take some comes before it, and capacity only comes back at a release, which is
//! handled again. Two details keep the order of a function's own events: a wake-up later than
//! the release is scheduled before the function's next step at `t` (so it precedes any event
//! that step schedules for `t`, as the eager one did), and a function woken but not yet retried
//! that waits again is woken again at a release, as the eager rule does.
//! `tests/it/coupled_wake.rs` compares both rules on random coupled runs.

use std::collections::BTreeSet;

use crate::engine::function::{FunctionSim, Phase};
use crate::time::Micros;

/// Where a function stands with the account (lazy rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Stand {
    /// Not waiting for the account.
    #[default]
    Free,
    /// Waiting; a retry would change nothing while there is no capacity and its head has not
    /// expired.
    Inert,
    /// Waiting; a retry might do something: woken at every release.
    Restless,
    /// Woken by the driver at the current time; its retry has not run.
    Woken,
}

/// The waiting functions of a coupled run (kept across epochs).
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    /// Wake every waiting function at every release (the rule before issue 16, kept for tests).
    eager: bool,
    /// Eager rule: the waiting functions, in the order they began to wait.
    blocked: Vec<u32>,
    /// Lazy rule, per function (grown on first use): its stand, the step at which it began to
    /// wait, its head's deadline while inert.
    stand: Vec<Stand>,
    since: Vec<u64>,
    deadline: Vec<Micros>,
    inert: BTreeSet<u32>,
    by_deadline: BTreeSet<(Micros, u32)>,
    restless: BTreeSet<u32>,
    woken: BTreeSet<u32>,
    /// Steps taken, and the step and time of the last release.
    steps: u64,
    release: Option<(u64, Micros)>,
    /// Scratch: the functions to wake after a step.
    wake: Vec<u32>,
}

impl Waiting {
    pub fn new(eager: bool) -> Waiting {
        Waiting {
            eager,
            ..Waiting::default()
        }
    }

    #[inline]
    fn stand(&self, f: u32) -> Stand {
        self.stand.get(f as usize).copied().unwrap_or_default()
    }

    /// Lazy rule, before function `f` steps at (`now`, `phase`): true if it must be woken first.
    /// An inert function that a release at `now` did not wake, stepping again before its eager
    /// retry's place (its timers, or acquisitions scheduled before the release), is woken now,
    /// so that the wake-up precedes whatever this step schedules for `now`.
    #[inline]
    pub fn wake_before(&self, f: u32, now: Micros, phase: Phase) -> bool {
        !self.inert.is_empty()
            && phase != Phase::Arrival
            && self.stand(f) == Stand::Inert
            && self
                .release
                .is_some_and(|(step, t)| t == now && step > self.since[f as usize])
    }

    /// After function `f` (`sim`) stepped at `now`: `released` if it gave account capacity back,
    /// `headroom` the capacity left. Returns the functions to wake at `now`, each once.
    #[inline]
    pub fn after_step(
        &mut self,
        f: u32,
        sims: &[&mut FunctionSim],
        now: Micros,
        released: bool,
        headroom: u64,
    ) -> &[u32] {
        self.steps += 1;
        // Nothing waits, and `f` does not begin to: no one to wake, and no release to remember
        // (a function that begins to wait later does so after it).
        if self.stand(f) == Stand::Free
            && !sims[f as usize].blocked_on_account()
            && self.blocked.is_empty()
            && self.inert.is_empty()
            && self.restless.is_empty()
            && self.woken.is_empty()
        {
            self.wake.clear();
            return &self.wake;
        }
        self.after_step_waiting(f, sims, now, released, headroom)
    }

    #[inline(never)]
    fn after_step_waiting(
        &mut self,
        f: u32,
        sims: &[&mut FunctionSim],
        now: Micros,
        released: bool,
        headroom: u64,
    ) -> &[u32] {
        let sim: &FunctionSim = sims[f as usize];
        self.wake.clear();
        if self.eager {
            if sim.blocked_on_account() && !self.blocked.contains(&f) {
                self.blocked.push(f);
            }
            if released {
                self.wake.append(&mut self.blocked);
            }
            return &self.wake;
        }
        self.restand(f, sim, now);
        if released {
            self.release = Some((self.steps, now));
            // Woken, not yet retried, waiting again: the eager rule wakes it again (no second
            // wake-up is scheduled; it stops waiting until its retry).
            self.wake.extend(
                self.woken
                    .iter()
                    .copied()
                    .filter(|&w| sims[w as usize].blocked_on_account()),
            );
            self.wake_restless_and_expired(now);
        }
        self.top_up(headroom);
        &self.wake
    }

    /// Lazy rule: `f`'s stand after its step.
    fn restand(&mut self, f: u32, sim: &FunctionSim, now: Micros) {
        let i = f as usize;
        let was = self.stand(f);
        match was {
            Stand::Free => {
                if !sim.blocked_on_account() {
                    return;
                }
            }
            // Its retry has not run yet: it stays woken.
            Stand::Woken if sim.wakes_at(now) => return,
            Stand::Woken => {
                self.woken.remove(&f);
            }
            Stand::Inert => {
                self.inert.remove(&f);
                self.by_deadline.remove(&(self.deadline[i], f));
            }
            Stand::Restless => {
                self.restless.remove(&f);
            }
        }
        if self.stand.len() <= i {
            let n = i + 1;
            self.stand.resize(n, Stand::Free);
            self.since.resize(n, 0);
            self.deadline.resize(n, 0);
        }
        if !sim.blocked_on_account() {
            self.stand[i] = Stand::Free;
            return;
        }
        // A function that was waiting (not woken) still waits since it began to; one that
        // was free or has just retried begins now.
        if matches!(was, Stand::Free | Stand::Woken) {
            self.since[i] = self.steps;
        }
        match sim.inert_until() {
            Some(d) => {
                self.stand[i] = Stand::Inert;
                self.deadline[i] = d;
                self.inert.insert(f);
                self.by_deadline.insert((d, f));
            }
            None => {
                self.stand[i] = Stand::Restless;
                self.restless.insert(f);
            }
        }
    }

    /// Marks `g` woken and adds it to the list to wake.
    fn woke(&mut self, g: u32) {
        self.stand[g as usize] = Stand::Woken;
        self.woken.insert(g);
        self.wake.push(g);
    }

    /// A release at `now`: every restless function, and every inert one whose head expired.
    fn wake_restless_and_expired(&mut self, now: Micros) {
        for g in std::mem::take(&mut self.restless) {
            self.woke(g);
        }
        while let Some(&(d, g)) = self.by_deadline.first()
            && d < now
        {
            self.by_deadline.pop_first();
            self.inert.remove(&g);
            self.woke(g);
        }
    }

    /// Wakes inert functions, lowest index first, until the capacity left is no more than the
    /// woken functions (not yet retried) that come before the lowest inert function left.
    fn top_up(&mut self, headroom: u64) {
        if headroom == 0 || self.inert.is_empty() {
            return;
        }
        let mut covered = 0u64;
        let mut chosen = Vec::new();
        let mut woken = self.woken.iter().copied().peekable();
        for &m in &self.inert {
            while woken.next_if(|&w| w < m).is_some() {
                covered += 1;
            }
            if covered >= headroom {
                break;
            }
            chosen.push(m);
            covered += 1;
        }
        for g in chosen {
            self.inert.remove(&g);
            self.by_deadline.remove(&(self.deadline[g as usize], g));
            self.woke(g);
        }
    }

    /// Lazy rule: `f` is woken before its step (see [`Waiting::wake_before`]).
    pub fn woken_before_step(&mut self, f: u32) {
        let i = f as usize;
        self.inert.remove(&f);
        self.by_deadline.remove(&(self.deadline[i], f));
        self.stand[i] = Stand::Woken;
        self.woken.insert(f);
    }

    /// At an epoch's end every wake-up has run.
    pub fn end_epoch(&self) {
        debug_assert!(self.woken.is_empty(), "a wake-up left for the next epoch");
    }
}
