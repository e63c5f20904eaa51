//! Requests that share an instance's CPU (issue 12 part 4). With a CPU profile and more than one
//! request per instance, the CPU-bound parts of the requests an instance serves share its vCPUs
//! by processor sharing ([`crate::engine::ps::Ps`], the same primitive fleets use): each request
//! first does its CPU work (vCPU-microseconds, each request on at most `min(vCPU, threads)`),
//! then the rest of its duration (I/O, waiting) as a plain delay. Alone on the instance a request
//! takes exactly its scaled duration; with n others it is stretched.
//!
//! Event-driven: each instance has at most one live "next CPU event" (its next PS completion or
//! its next timeout, whichever comes first), scheduled by the function as a timer and superseded,
//! lazily, when the instance's set of requests changes (a stale timer is recognised because its
//! time no longer equals the instance's `due`). No event loops over the active requests, except
//! a timeout that cuts a request in its CPU phase (O(n) removal, rare).
//!
//! Timeouts: a request started at `s` is cut at `s + limit`. All the requests of an instance have
//! the same limit and start in time order, so their deadlines sit in a FIFO per instance.

use std::collections::VecDeque;

use crate::engine::cpu::CpuModel;
use crate::engine::ps::{Ps, milli_vcpu};
use crate::time::Micros;

/// True if requests of a function with this profile share an instance's CPU: more than one per
/// instance, and a profile that says which part of a duration is CPU work.
pub(crate) fn shares(cpu: Option<&CpuModel>, per_instance: u32) -> bool {
    per_instance > 1 && cpu.is_some_and(|c| c.measured.is_some() || c.bound > 0.0)
}

/// A request's CPU work (vCPU-µs) and the rest of its duration (µs). `traced`: its duration as
/// traced, for a row of `row_mb` (0: none); `scaled`: as it runs alone at `memory_mb`.
///
/// Amdahl form: the work is `traced × bound × min(c_ref, threads)` and the rest
/// `traced × (1 − bound)`, so alone on `c` vCPUs it takes `work / min(c, threads) + rest`, the
/// scaled duration (to the microsecond). A row with no known reference ran as traced: its
/// reference is the instance. A measured curve: the share of the scaled duration that keeps all
/// `c` vCPUs busy ([`crate::engine::cpu::MeasuredCurve::cpu_share`]) is the work; none with a
/// single measured size.
pub(crate) fn split(
    cpu: &CpuModel,
    traced: Micros,
    scaled: Micros,
    memory_mb: u16,
    row_mb: u16,
) -> (Micros, Micros) {
    let c = cpu.platform.vcpu(memory_mb);
    if let Some(m) = &cpu.measured {
        return match m.cpu_share(c) {
            Some(share) => {
                let work = (scaled as f64 * share * c).round() as Micros;
                let rest = (scaled as f64 * (1.0 - share)).round() as Micros;
                (work, rest)
            }
            None => (0, scaled),
        };
    }
    let c_ref = match cpu.reference_vcpu(row_mb) {
        Some(v) if v > 0.0 => v,
        _ => c,
    };
    let d = traced as f64;
    let work = (d * cpu.bound * c_ref.min(cpu.threads)).round() as Micros;
    let rest = (d * (1.0 - cpu.bound)).round() as Micros;
    (work, rest)
}

/// An instance's CPU for processor sharing: (capacity, per-request cap), milli-vCPU.
pub(crate) fn instance_cpu(cpu: &CpuModel, memory_mb: u16) -> (u64, u64) {
    let c = cpu.platform.vcpu(memory_mb);
    let cap = if cpu.measured.is_some() {
        c
    } else {
        cpu.threads
    };
    (milli_vcpu(c), milli_vcpu(cap))
}

/// A request on a CPU-sharing instance, from its assignment to the end of its CPU phase.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    pub arrival: Micros,
    /// When it starts executing (the instance's ready time for a cold start).
    pub start: Micros,
    /// vCPU-microseconds of CPU work.
    pub work: Micros,
    /// Microseconds after the CPU work (no CPU).
    pub rest: Micros,
    pub memory_mb: u16,
    pub cold: bool,
    /// Unique and non-zero while the job is live (0: its slot is free).
    seq: u64,
}

impl Job {
    pub fn new(arrival: Micros, start: Micros, work: Micros, rest: Micros, memory_mb: u16) -> Job {
        Job {
            arrival,
            start,
            work,
            rest,
            memory_mb,
            cold: false,
            seq: 0,
        }
    }
}

/// A job whose CPU phase is over: it executes until `end` (maybe cut there by its timeout).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Finished {
    pub job: Job,
    pub end: Micros,
    pub timed_out: bool,
    /// The CPU work it did, vCPU-microseconds: all of `job.work`, unless its timeout cut it in
    /// its CPU phase.
    pub work_done: Micros,
}

#[derive(Debug, Clone)]
struct InstanceCpu {
    ps: Ps<u32>,
    /// The time of the instance's one live CPU event.
    due: Option<Micros>,
    /// `(deadline, job slot, job seq)` in start order.
    deadlines: VecDeque<(Micros, u32, u64)>,
    /// Jobs waiting for the instance's init.
    pending: Vec<u32>,
}

/// The CPU-sharing state of one function's instances, by instance id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shared {
    instances: Vec<Option<InstanceCpu>>,
    jobs: Vec<Job>,
    free: Vec<u32>,
    seq: u64,
    timeout: Option<Micros>,
}

impl Shared {
    pub fn new(timeout: Option<Micros>) -> Shared {
        Shared {
            timeout,
            ..Shared::default()
        }
    }

    /// Assigns `job` to instance `id` (of `capacity` milli-vCPU, each job at most `cap`) at
    /// `now`: it enters the CPU share at once, or when the instance's init is done
    /// ([`Shared::start_pending`]) if it starts later.
    pub fn assign(&mut self, now: Micros, id: u32, capacity: u64, cap: u64, mut job: Job) {
        self.seq += 1;
        job.seq = self.seq;
        let slot = match self.free.pop() {
            Some(s) => {
                self.jobs[s as usize] = job;
                s
            }
            None => {
                self.jobs.push(job);
                (self.jobs.len() - 1) as u32
            }
        };
        let i = id as usize;
        if self.instances.len() <= i {
            self.instances.resize(i + 1, None);
        }
        // A fresh state for an instance that has none in service (its id may be a reused slot).
        let inst = self.instances[i].get_or_insert_with(|| InstanceCpu {
            ps: Ps::new(capacity, cap),
            due: None,
            deadlines: VecDeque::new(),
            pending: Vec::new(),
        });
        if inst.ps.is_empty() && inst.pending.is_empty() {
            // Nothing in service: every deadline left is stale.
            inst.ps = Ps::new(capacity, cap);
            inst.deadlines.clear();
        }
        if job.start > now {
            inst.pending.push(slot);
        } else {
            self.run(now, id, slot);
        }
    }

    fn run(&mut self, now: Micros, id: u32, slot: u32) {
        let job = self.jobs[slot as usize];
        let inst = self.instances[id as usize]
            .as_mut()
            .expect("a CPU-sharing instance has state");
        inst.ps.add(now, job.work, slot);
        if let Some(limit) = self.timeout {
            inst.deadlines
                .push_back((job.start.saturating_add(limit), slot, job.seq));
        }
    }

    /// Instance `id`'s init is done at `now`: the jobs that waited for it start.
    pub fn start_pending(&mut self, now: Micros, id: u32) {
        let Some(Some(inst)) = self.instances.get_mut(id as usize) else {
            return;
        };
        for slot in std::mem::take(&mut inst.pending) {
            self.run(now, id, slot);
        }
    }

    /// The instance's next CPU event if it differs from the one already scheduled (the caller
    /// schedules it); the old one goes stale.
    pub fn reschedule(&mut self, id: u32) -> Option<Micros> {
        let Some(Some(inst)) = self.instances.get_mut(id as usize) else {
            return None;
        };
        while let Some(&(_, slot, seq)) = inst.deadlines.front() {
            if self.jobs[slot as usize].seq == seq {
                break;
            }
            inst.deadlines.pop_front();
        }
        let next = match (inst.ps.next_completion(), inst.deadlines.front()) {
            (Some(c), Some(&(d, _, _))) => Some(c.min(d)),
            (c, d) => c.or(d.map(|d| d.0)),
        };
        if next == inst.due {
            return None;
        }
        inst.due = next;
        next
    }

    /// True if a CPU event of instance `id` at `now` is its live one.
    pub fn is_due(&self, id: u32, now: Micros) -> bool {
        matches!(self.instances.get(id as usize), Some(Some(i)) if i.due == Some(now))
    }

    /// Instance `id`'s live CPU event at `now`: the jobs whose CPU work is done, then those cut
    /// by their timeout in their CPU phase, go into `out` (in that order; each group FIFO).
    pub fn fire(&mut self, now: Micros, id: u32, out: &mut Vec<Finished>) {
        let timeout = self.timeout;
        let Some(Some(inst)) = self.instances.get_mut(id as usize) else {
            return;
        };
        inst.due = None;
        while let Some(slot) = inst.ps.pop_done(now) {
            let job = &mut self.jobs[slot as usize];
            let mut end = now.saturating_add(job.rest);
            let mut timed_out = false;
            if let Some(limit) = timeout {
                let cut = job.start.saturating_add(limit);
                if end > cut {
                    (end, timed_out) = (cut, true);
                }
            }
            out.push(Finished {
                job: *job,
                end,
                timed_out,
                work_done: job.work,
            });
            job.seq = 0;
            self.free.push(slot);
        }
        while let Some(&(deadline, slot, seq)) = inst.deadlines.front() {
            if self.jobs[slot as usize].seq != seq {
                inst.deadlines.pop_front();
                continue;
            }
            if deadline > now {
                break;
            }
            inst.deadlines.pop_front();
            let left = inst.ps.remove(now, &slot).unwrap_or(0);
            let job = &mut self.jobs[slot as usize];
            out.push(Finished {
                job: *job,
                end: now,
                timed_out: true,
                work_done: job.work.saturating_sub(left),
            });
            job.seq = 0;
            self.free.push(slot);
        }
    }

    /// Jobs in instance `id`'s CPU phase (for tests and checks).
    #[cfg(test)]
    pub fn in_service(&self, id: u32) -> usize {
        match self.instances.get(id as usize) {
            Some(Some(i)) => i.ps.len(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(s: &mut Shared, id: u32) -> Vec<(Micros, Micros, bool)> {
        drain_work(s, id)
            .into_iter()
            .map(|(a, e, t, _)| (a, e, t))
            .collect()
    }

    /// As [`drain`], with each request's CPU work done.
    fn drain_work(s: &mut Shared, id: u32) -> Vec<(Micros, Micros, bool, Micros)> {
        let mut done = Vec::new();
        let mut out = Vec::new();
        while let Some(t) = s.reschedule(id) {
            assert!(s.is_due(id, t));
            s.fire(t, id, &mut out);
            done.extend(
                out.drain(..)
                    .map(|f| (f.job.arrival, f.end, f.timed_out, f.work_done)),
            );
        }
        done
    }

    #[test]
    fn two_requests_on_one_vcpu_then_their_rest() {
        // 1 vCPU: two requests of 100 ms CPU work at 0, the second with 30 ms of I/O after.
        let mut s = Shared::new(None);
        s.assign(0, 0, 1000, 1000, Job::new(0, 0, 100_000, 0, 1769));
        s.assign(0, 0, 1000, 1000, Job::new(1, 0, 100_000, 30_000, 1769));
        assert_eq!(s.in_service(0), 2);
        assert_eq!(drain(&mut s, 0), [(0, 200_000, false), (1, 230_000, false)]);
    }

    #[test]
    fn a_timeout_cuts_a_request_in_its_cpu_phase_and_frees_its_share() {
        // Limit 120 ms. A (100 ms) and B (100 ms) at 0 share 1 vCPU: at 120 ms each has had
        // 60 ms; both are cut (FIFO). C (100 ms work, 50 ms rest) alone ends its CPU at 100 ms,
        // its rest would end at 150 ms: cut at 120 ms.
        let mut s = Shared::new(Some(120_000));
        // Each did 60 ms of its 100 ms of CPU work.
        s.assign(0, 0, 1000, 1000, Job::new(0, 0, 100_000, 0, 1769));
        s.assign(0, 0, 1000, 1000, Job::new(1, 0, 100_000, 0, 1769));
        assert_eq!(
            drain_work(&mut s, 0),
            [(0, 120_000, true, 60_000), (1, 120_000, true, 60_000)]
        );
        s.assign(
            200_000,
            1,
            1000,
            1000,
            Job::new(2, 200_000, 100_000, 50_000, 1769),
        );
        // Cut in its rest: all its CPU work was done.
        assert_eq!(drain_work(&mut s, 1), [(2, 320_000, true, 100_000)]);
    }

    #[test]
    fn jobs_waiting_for_init_start_together_when_it_is_done() {
        let mut s = Shared::new(None);
        s.assign(0, 3, 1000, 1000, Job::new(0, 50_000, 10_000, 0, 1769));
        s.assign(10, 3, 1000, 1000, Job::new(10, 50_000, 10_000, 0, 1769));
        assert_eq!(s.reschedule(3), None);
        s.start_pending(50_000, 3);
        assert_eq!(drain(&mut s, 3), [(0, 70_000, false), (10, 70_000, false)]);
    }
}
