//! How a traced duration changes with the CPU an instance gets.
//!
//! A duration in a trace was measured at some CPU: the row's memory size on the platform it came
//! from, or a vCPU count the user names. With a CPU profile, the part `bound` of it is CPU work
//! that runs on `min(vCPU, threads)` and the rest (I/O, waiting) does not change (an Amdahl form):
//!
//! `d(c) = d_ref × (bound × min(c_ref, threads) / min(c, threads) + (1 − bound))`
//!
//! Without a profile durations are replayed as traced.

/// vCPUs of an instance as a function of the function's memory, in reference-vCPU units (an
/// architecture's speed factor is folded in). Built from an offering's `[cpu]` data.
#[derive(Debug, Clone, PartialEq)]
pub enum VcpuRule {
    /// `memory / mb_per_vcpu`, at most `max_vcpu`, times `speed` (Lambda).
    PerMemory {
        mb_per_vcpu: f64,
        max_vcpu: f64,
        speed: f64,
    },
    /// The smallest listed `(memory MB, vCPU)` size holding the memory (the largest if none does),
    /// times `speed`.
    Sizes { sizes: Vec<(u32, f64)>, speed: f64 },
    /// The same whatever the memory.
    Fixed(f64),
}

impl VcpuRule {
    pub fn vcpu(&self, memory_mb: u16) -> f64 {
        match self {
            VcpuRule::PerMemory {
                mb_per_vcpu,
                max_vcpu,
                speed,
            } => (f64::from(memory_mb) / mb_per_vcpu).min(*max_vcpu) * speed,
            VcpuRule::Sizes { sizes, speed } => {
                let mb = u32::from(memory_mb);
                sizes
                    .iter()
                    .find(|(m, _)| *m >= mb)
                    .or(sizes.last())
                    .map_or(1.0, |(_, v)| *v)
                    * speed
            }
            VcpuRule::Fixed(v) => *v,
        }
    }
}

/// Where the traced durations were measured.
#[derive(Debug, Clone, PartialEq)]
pub enum CpuReference {
    /// At this many reference vCPUs, for every row.
    Vcpu(f64),
    /// At the row's own `memory_mb`, on a platform with this rule.
    RowMemory(VcpuRule),
}

/// A function's CPU profile and the platform's CPU: how durations scale.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuModel {
    /// The CPU-bound fraction of a traced duration, in [0, 1].
    pub bound: f64,
    /// Threads the CPU-bound part can use, at least 1.
    pub threads: f64,
    /// The simulated platform's vCPUs by memory.
    pub platform: VcpuRule,
    pub reference: CpuReference,
}

impl CpuModel {
    /// One sentence for output.
    pub fn describe(&self) -> String {
        let reference = match &self.reference {
            CpuReference::Vcpu(v) => format!("measured at {v:.3} vCPU"),
            CpuReference::RowMemory(_) => {
                "measured at each row's memory_mb on the simulated platform".to_string()
            }
        };
        format!(
            "durations scale with CPU: {:.0} % CPU-bound on up to {} thread{}, {reference}",
            self.bound * 100.0,
            self.threads,
            if self.threads == 1.0 { "" } else { "s" }
        )
    }

    /// The factor a duration measured for a row of `row_mb` (0: none) is multiplied by when it
    /// runs with `memory_mb` on the simulated platform. 1 when the reference is unknown.
    pub fn factor(&self, memory_mb: u16, row_mb: u16) -> f64 {
        let c_ref = match &self.reference {
            CpuReference::Vcpu(v) => *v,
            CpuReference::RowMemory(_) if row_mb == 0 => return 1.0,
            CpuReference::RowMemory(rule) => rule.vcpu(row_mb),
        };
        let c = self.platform.vcpu(memory_mb);
        if c <= 0.0 || c_ref <= 0.0 {
            return 1.0;
        }
        self.bound * c_ref.min(self.threads) / c.min(self.threads) + (1.0 - self.bound)
    }

    /// The duration, microseconds, of a traced one of `us`.
    #[inline]
    pub fn scale(&self, us: u64, memory_mb: u16, row_mb: u16) -> u64 {
        let f = self.factor(memory_mb, row_mb);
        if f == 1.0 {
            us
        } else {
            (us as f64 * f).round().min(u64::MAX as f64 / 2.0) as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda() -> VcpuRule {
        VcpuRule::PerMemory {
            mb_per_vcpu: 1769.0,
            max_vcpu: 6.0,
            speed: 1.0,
        }
    }

    #[test]
    fn amdahl_by_hand() {
        let m = CpuModel {
            bound: 1.0,
            threads: 1.0,
            platform: lambda(),
            reference: CpuReference::Vcpu(1.0),
        };
        // Fully CPU-bound, measured at 1 vCPU: 4x longer at a quarter of 1,769 MB, no faster above.
        assert!((m.factor(442, 0) - 1769.0 / 442.0).abs() < 1e-12);
        assert_eq!(m.factor(1769, 0), 1.0);
        assert_eq!(m.factor(3538, 0), 1.0);
        // Half CPU-bound, two threads, measured at the row's 512 MB on Lambda, run at 3,538 MB
        // (2 vCPU): 0.5 × (512/1769) / 2 + 0.5.
        let m = CpuModel {
            bound: 0.5,
            threads: 2.0,
            platform: lambda(),
            reference: CpuReference::RowMemory(lambda()),
        };
        let want = 0.5 * (512.0 / 1769.0) / 2.0 + 0.5;
        assert!((m.factor(3538, 512) - want).abs() < 1e-12);
        // No reference for a row without memory: as traced.
        assert_eq!(m.factor(3538, 0), 1.0);
        // Sizes: the smallest size holding the memory, else the largest.
        let sizes = VcpuRule::Sizes {
            sizes: vec![(512, 0.25), (2048, 1.0)],
            speed: 1.0,
        };
        assert_eq!(sizes.vcpu(100), 0.25);
        assert_eq!(sizes.vcpu(600), 1.0);
        assert_eq!(sizes.vcpu(9000), 1.0);
    }
}
