//! Processor sharing on one server: the jobs in service share its vCPUs equally, each at most
//! `cap` vCPUs (the threads it can use), so with n jobs each runs at `min(cap, capacity / n)`.
//!
//! Exact and event-driven: all jobs run at the same rate, so one *virtual clock* (the service
//! every job in the system has attained since it arrived, counted from a common origin) says
//! where each stands. A job arriving at virtual time V with work w finishes when the clock
//! reaches its tag V + w; the jobs sit in a min-heap of tags, and an arrival or a departure only
//! changes the clock's rate. No event touches the other jobs: O(log n) per arrival and departure.
//!
//! Everything is an integer: capacities in milli-vCPU, work in vCPU-microseconds, the virtual
//! clock in 2^-20 vCPU-microseconds (u128), and completion times rounded up to the engine's
//! microsecond. The clock is rebased (origin, rate) only when the number of jobs changes, so
//! reading it between changes loses nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::Micros;

/// Fraction bits of the virtual clock.
const FRAC: u32 = 20;
/// Milli-vCPU per vCPU.
const MILLI: u128 = 1000;

/// A vCPU count as whole milli-vCPU (at least 1).
pub fn milli_vcpu(vcpus: f64) -> u64 {
    (vcpus * 1000.0).round().max(1.0) as u64
}

/// `a × b / d`, rounded down or up: in 64 bits when the product fits (the usual case; a 128-bit
/// division is several times slower), else in 128.
#[inline]
fn mul_div(a: u128, b: u128, d: u128, up: bool) -> u128 {
    if let (Ok(a), Ok(b), Ok(d)) = (u64::try_from(a), u64::try_from(b), u64::try_from(d))
        && let Some(p) = a.checked_mul(b)
    {
        return u128::from(if up { p.div_ceil(d) } else { p / d });
    }
    if up { (a * b).div_ceil(d) } else { a * b / d }
}

/// One server's processor-sharing CPU, holding jobs that carry a `T` (returned when they finish).
#[derive(Debug, Clone)]
pub struct Ps<T: Ord> {
    /// The server's vCPUs, milli-vCPU.
    capacity: u64,
    /// The most one job can use, milli-vCPU.
    cap: u64,
    /// The virtual clock is `v0 + (t − t0) × num / den` until the number of jobs changes.
    v0: u128,
    t0: Micros,
    num: u128,
    den: u128,
    /// (tag, arrival sequence, payload): the smallest tag finishes first, ties FIFO.
    jobs: BinaryHeap<Reverse<(u128, u64, T)>>,
    seq: u64,
}

impl<T: Ord> Ps<T> {
    /// A server of `capacity` milli-vCPU whose jobs each use at most `cap` milli-vCPU.
    pub fn new(capacity: u64, cap: u64) -> Self {
        Ps {
            capacity: capacity.max(1),
            cap: cap.max(1),
            v0: 0,
            t0: 0,
            num: 0,
            den: 1,
            jobs: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Jobs in service.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The milli-vCPU in use now: `min(n × cap, capacity)`.
    pub fn busy_milli(&self) -> u64 {
        (self.jobs.len() as u64)
            .saturating_mul(self.cap)
            .min(self.capacity)
    }

    /// The milli-vCPU the jobs would use with no capacity limit: `n × cap`.
    pub fn demand_milli(&self) -> u64 {
        (self.jobs.len() as u64).saturating_mul(self.cap)
    }

    /// The server's capacity changes at `now` (a burstable server out of credits, or back).
    pub fn set_capacity(&mut self, now: Micros, capacity: u64) {
        self.rebase(now);
        self.capacity = capacity.max(1);
        self.set_rate();
    }

    fn virtual_at(&self, t: Micros) -> u128 {
        self.v0
            + mul_div(
                u128::from(t.saturating_sub(self.t0)),
                self.num,
                self.den,
                false,
            )
    }

    /// Moves the clock's origin to `now` (at the current rate).
    fn rebase(&mut self, now: Micros) {
        self.v0 = self.virtual_at(now);
        self.t0 = now;
    }

    /// The per-job rate for the current number of jobs, in clock units per microsecond.
    fn set_rate(&mut self) {
        let n = self.jobs.len() as u128;
        if n == 0 {
            (self.num, self.den) = (0, 1);
        } else {
            let per_all = (u128::from(self.cap) * n).min(u128::from(self.capacity));
            (self.num, self.den) = (per_all << FRAC, MILLI * n);
        }
    }

    /// A job of `work` vCPU-microseconds arrives at `now` (not before the last change).
    pub fn add(&mut self, now: Micros, work: Micros, item: T) {
        self.rebase(now);
        let tag = self.v0 + (u128::from(work) << FRAC);
        self.seq += 1;
        self.jobs.push(Reverse((tag, self.seq, item)));
        self.set_rate();
    }

    /// When the next job finishes if nothing arrives meanwhile, microseconds (rounded up).
    pub fn next_completion(&self) -> Option<Micros> {
        let Reverse((tag, _, _)) = self.jobs.peek()?;
        let rem = tag.saturating_sub(self.v0);
        // num > 0 whenever a job is in service.
        let dt = mul_div(rem, self.den, self.num, true);
        Some(
            self.t0
                .saturating_add(dt.min(u128::from(Micros::MAX)) as Micros),
        )
    }

    /// A job that has finished by `now`, if any (smallest tag first, ties in arrival order).
    pub fn pop_done(&mut self, now: Micros) -> Option<T> {
        let v = self.virtual_at(now);
        match self.jobs.peek() {
            Some(Reverse((tag, _, _))) if *tag <= v => {}
            _ => return None,
        }
        (self.v0, self.t0) = (v, now);
        let Reverse((_, _, item)) = self.jobs.pop()?;
        self.set_rate();
        Some(item)
    }

    /// Takes the job carrying `item` out of service at `now` (a request cut by its timeout),
    /// whatever its progress; its remaining work (vCPU-microseconds, rounded down), or `None` if
    /// it was not there. O(n) in the jobs in service: meant for rare events, not for every
    /// arrival or departure.
    pub fn remove(&mut self, now: Micros, item: &T) -> Option<Micros> {
        self.rebase(now);
        let mut remaining = None;
        let v0 = self.v0;
        self.jobs.retain(|Reverse((tag, _, x))| {
            if x == item && remaining.is_none() {
                let left = tag.saturating_sub(v0) >> FRAC;
                remaining = Some(Micros::try_from(left).unwrap_or(Micros::MAX));
                false
            } else {
                true
            }
        });
        self.set_rate();
        remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs jobs `(arrival µs, work vCPU-µs)` to the end; returns each one's finish time.
    fn run(capacity: f64, cap: f64, jobs: &[(Micros, Micros)]) -> Vec<Micros> {
        let mut ps: Ps<usize> = Ps::new(milli_vcpu(capacity), milli_vcpu(cap));
        let mut done = vec![0; jobs.len()];
        let mut next = 0;
        loop {
            let arrival = jobs.get(next).map(|j| j.0);
            match (ps.next_completion(), arrival) {
                (None, None) => return done,
                (Some(c), a) if a.is_none_or(|a| c < a) => {
                    while let Some(i) = ps.pop_done(c) {
                        done[i] = c;
                    }
                }
                (_, a) => {
                    ps.add(a.unwrap_or_default(), jobs[next].1, next);
                    next += 1;
                }
            }
        }
    }

    #[test]
    fn one_job_runs_at_its_cap_or_the_capacity() {
        // 100 ms of 1-vCPU work, one thread, on 2 vCPUs: 100 ms.
        assert_eq!(run(2.0, 1.0, &[(0, 100_000)]), [100_000]);
        // Four threads on 2 vCPUs: the job takes both, 50 ms.
        assert_eq!(run(2.0, 4.0, &[(0, 100_000)]), [50_000]);
        // Half a vCPU: 200 ms.
        assert_eq!(run(0.5, 1.0, &[(0, 100_000)]), [200_000]);
    }

    #[test]
    fn two_jobs_share_one_vcpu_by_hand() {
        // 1 vCPU. A: 0 ms, 100 ms of work; B: 50 ms, 100 ms of work.
        // 0–50: A alone, 50 done. 50–150: both at 1/2, A's last 50 by 150. B has 50 left,
        // alone: done at 200.
        assert_eq!(
            run(1.0, 1.0, &[(0, 100_000), (50_000, 100_000)]),
            [150_000, 200_000]
        );
    }

    #[test]
    fn the_per_job_cap_leaves_cpu_idle() {
        // 4 vCPUs, one thread each: two jobs run at full speed side by side.
        assert_eq!(run(4.0, 1.0, &[(0, 30_000), (0, 60_000)]), [30_000, 60_000]);
        // Three jobs on 2 vCPUs, one thread each: each at 2/3 until the first (work 20 ms)
        // finishes at 30 ms; the other two then have 40 ms and 70 ms left at 1 vCPU each.
        assert_eq!(
            run(2.0, 1.0, &[(0, 20_000), (0, 60_000), (0, 90_000)]),
            [30_000, 70_000, 100_000]
        );
    }

    #[test]
    fn equal_tags_finish_together_in_arrival_order() {
        let mut ps: Ps<u32> = Ps::new(1000, 1000);
        ps.add(0, 10_000, 7);
        ps.add(0, 10_000, 3);
        assert_eq!(ps.busy_milli(), 1000);
        // Each at half a vCPU: both at 20 ms.
        assert_eq!(ps.next_completion(), Some(20_000));
        assert_eq!(ps.pop_done(19_999), None);
        assert_eq!(ps.pop_done(20_000), Some(7));
        assert_eq!(ps.pop_done(20_000), Some(3));
        assert!(ps.is_empty() && ps.busy_milli() == 0);
    }

    #[test]
    fn a_third_of_a_vcpu_rounds_up_to_the_microsecond() {
        // Three jobs of 1 µs on 1 vCPU: each at 1/3, all done at 3 µs (not 2.999...).
        assert_eq!(run(1.0, 1.0, &[(0, 1), (0, 1), (0, 1)]), [3, 3, 3]);
        // 0.3 vCPU, 1 µs: 3.33 µs, rounded up to 4.
        assert_eq!(run(0.3, 1.0, &[(0, 1)]), [4]);
    }

    #[test]
    fn mul_div_agrees_in_64_and_128_bits() {
        for (a, b, d) in [
            (7u128, 3u128, 2u128),
            (1 << 40, 1 << 30, 3),
            (u128::from(u64::MAX), 5, 7),
        ] {
            assert_eq!(mul_div(a, b, d, false), a * b / d);
            assert_eq!(mul_div(a, b, d, true), (a * b).div_ceil(d));
        }
    }

    #[test]
    fn a_removed_job_gives_its_share_back() {
        // 1 vCPU, A and B (100 ms each) at 0; B is cut at 100 ms, when each has had 50 ms.
        // B had 50 ms of work left. A then runs alone: its last 50 ms end at 150 ms.
        let mut ps: Ps<u32> = Ps::new(1000, 1000);
        ps.add(0, 100_000, 1);
        ps.add(0, 100_000, 2);
        assert_eq!(ps.remove(100_000, &2), Some(50_000));
        assert_eq!(ps.remove(100_000, &2), None);
        assert_eq!(ps.next_completion(), Some(150_000));
        assert_eq!(ps.pop_done(150_000), Some(1));
        assert!(ps.is_empty());
    }

    #[test]
    fn zero_work_finishes_at_once() {
        assert_eq!(run(1.0, 1.0, &[(5, 0)]), [5]);
    }
}
