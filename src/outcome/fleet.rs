//! What a fleet run produced: counters, latency and queue-wait histograms, instance-time for the
//! bill, scaling events and a per-minute series. Times are microseconds unless named otherwise.

use serde::Serialize;

use super::Latency;
use crate::time::Micros;

/// One autoscaler decision that changed the desired size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleEvent {
    /// Seconds since the trace origin.
    pub time_s: f64,
    /// Instances in service or booting before the decision.
    pub from: u32,
    /// The new desired count.
    pub to: u32,
    /// The mean slot utilisation over the interval that led to it, 0..1.
    pub utilisation: f64,
}

/// One server instance from launch (booting is billed) to termination, clipped to the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InstanceLife {
    /// Microseconds.
    pub launched_us: Micros,
    /// Microseconds; at least `launched_us`.
    pub end_us: Micros,
}

impl InstanceLife {
    /// Microseconds.
    pub fn length_us(&self) -> Micros {
        self.end_us - self.launched_us
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetMinute {
    pub invocations: u64,
    pub rejected: u64,
    /// Served requests that arrived in this minute and had to queue.
    pub waited: u64,
    pub peak_instances: u32,
    /// ∫ busy slots dt over the minute, slot-microseconds.
    pub busy_slot_us: u128,
    /// ∫ instances alive (booting or serving) dt over the minute, instance-microseconds.
    pub instance_us: u128,
    /// ∫ vCPUs in use dt over the minute, milli-vCPU-microseconds (0 without a CPU model).
    pub busy_cpu_mvcpu_us: u128,
}

#[derive(Debug, Clone, Default)]
pub struct FleetOutcome {
    pub window_us: Micros,
    pub invocations: u64,
    pub served: u64,
    /// Rejected: the queue was full, the request waited past the maximum wait, or it was still
    /// queued at the end of the run.
    pub rejected: u64,
    /// Served requests that had to queue.
    pub waited: u64,
    pub peak_queue: u64,
    /// End-to-end latency of served requests (queue wait + service).
    pub latency: Latency,
    /// Queue wait of served requests (0 for those that did not queue).
    pub queue_wait: Latency,
    pub busy_slot_us: u128,
    /// ∫ slots in service (booted, not draining) dt.
    pub capacity_slot_us: u128,
    /// ∫ instances alive dt.
    pub instance_us: u128,
    /// ∫ vCPUs in use dt over all servers, milli-vCPU-microseconds (0 without a CPU model).
    pub busy_cpu_mvcpu_us: u128,
    /// vCPUs of one server when the run modelled CPU, else 0.
    pub vcpus: f64,
    /// Burstable servers in unlimited mode: surplus CPU credits to bill (spent beyond the
    /// balance and not paid back by earned credits by the end of each server's life or the
    /// window), milli-vCPU-microseconds.
    pub surplus_mvcpu_us: u128,
    /// Burstable servers in standard mode: ∫ servers held to their baseline dt (out of
    /// credits), server-microseconds.
    pub throttled_us: u128,
    pub instances_min: u32,
    pub instances_max: u32,
    /// Instances launched by the autoscaler (the initial fleet is not counted).
    pub launches: u64,
    /// Launched instances that finished booting.
    pub boot_events: u64,
    /// Every instance's life, in the order they ended (the window's end for those still up):
    /// what the bill rounds under its catalogue's rule. One entry per instance, not per request.
    pub lives: Vec<InstanceLife>,
    pub scale_events: Vec<ScaleEvent>,
    pub minutes: Vec<FleetMinute>,
    pub excluded_after_horizon: u64,
}

impl FleetOutcome {
    /// Mean busy slots / mean slots in service, 0..1.
    pub fn utilisation(&self) -> f64 {
        if self.capacity_slot_us == 0 {
            0.0
        } else {
            self.busy_slot_us as f64 / self.capacity_slot_us as f64
        }
    }

    /// Mean vCPUs in use / vCPUs of the instances alive (booting included), 0..1; `None`
    /// without a CPU model.
    pub fn cpu_utilisation(&self) -> Option<f64> {
        (self.vcpus > 0.0).then(|| {
            let cap = self.instance_us as f64 * self.vcpus * 1000.0;
            if cap > 0.0 {
                self.busy_cpu_mvcpu_us as f64 / cap
            } else {
                0.0
            }
        })
    }

    /// Mean vCPUs in use over the window.
    pub fn mean_busy_vcpus(&self) -> f64 {
        self.busy_cpu_mvcpu_us as f64 / 1000.0 / self.window_us.max(1) as f64
    }

    /// Time-weighted mean of instances alive.
    pub fn mean_instances(&self) -> f64 {
        self.instance_us as f64 / self.window_us.max(1) as f64
    }
}
