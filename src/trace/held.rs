//! How many invocations a read may hold in memory.
//!
//! A trace is held whole before (or while) it is replayed, at about 24 bytes per invocation plus
//! what reading and the run add (26 to 37 bytes each measured end to end, BENCHMARKS.md). For
//! most formats that is proportional to the input file. Two formats are not: an Azure 2019
//! per-minute count (up to 60,000,000 in one cell) and a workload spec (a rate times a duration)
//! describe many invocations in a few bytes. Those readers check what they are asked to hold
//! against a [`HeldLimit`] *before* taking the memory, and refuse with exit 2 and the row (or
//! function) that crosses it, where the machine would otherwise abort on a failed allocation.

/// Bytes one held invocation is counted as: the 24-byte row, the reader's own buffers and the
/// run's per-request state (measured 26 to 37 bytes per invocation, BENCHMARKS.md).
pub const BYTES_PER_INVOCATION: u64 = 40;

/// The most invocations faasplan holds, whatever the memory (about 80 GB at
/// [`BYTES_PER_INVOCATION`]); also the largest `--max-invocations`.
pub const CEILING: u64 = 2_000_000_000;

/// The bound on held invocations, and where it comes from (for the message that refuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldLimit {
    pub max: u64,
    source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `--max-invocations` (or a library caller) set it.
    Given,
    /// The memory left to this process, in bytes, and what limits it, at
    /// [`BYTES_PER_INVOCATION`].
    Memory(u64, Room),
    /// [`CEILING`].
    Ceiling,
}

/// What bounds the memory a process may still take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// The system's available memory (`MemAvailable`).
    Machine,
    /// The control group's memory limit (a container's, a Kubernetes pod's, a Slurm job's).
    Group,
    /// The process's address-space limit (`ulimit -v`).
    AddressSpace,
}

impl HeldLimit {
    /// `given` (`--max-invocations`), else what fits in the memory left to this process, never
    /// above [`CEILING`].
    pub fn resolve(given: Option<u64>) -> HeldLimit {
        if let Some(max) = given {
            return HeldLimit {
                max: max.min(CEILING),
                source: Source::Given,
            };
        }
        match available_memory() {
            Some((bytes, room)) if bytes / BYTES_PER_INVOCATION < CEILING => HeldLimit {
                max: bytes / BYTES_PER_INVOCATION,
                source: Source::Memory(bytes, room),
            },
            _ => HeldLimit {
                max: CEILING,
                source: Source::Ceiling,
            },
        }
    }

    /// Where the bound comes from, for a message that says "more than the N invocations a run
    /// may hold (this)".
    pub fn explain(&self) -> String {
        match self.source {
            Source::Given => "the bound --max-invocations set".into(),
            Source::Memory(bytes, room) => format!(
                "what fits in {}, {:.1} GB at {BYTES_PER_INVOCATION} bytes each; \
                 --max-invocations overrides it",
                match room {
                    Room::Machine => "this machine's available memory",
                    Room::Group => "the memory its control group (container or job) has left",
                    Room::AddressSpace => "the address space `ulimit -v` leaves it",
                },
                bytes as f64 / 1e9
            ),
            Source::Ceiling => "the most faasplan holds in memory".into(),
        }
    }
}

/// The memory this process may still take, bytes, and what bounds it: the least of the
/// system's available memory (`MemAvailable` in `/proc/meminfo`), its control group's limit
/// less its usage (cgroup v2 `memory.max`, or v1 `memory.limit_in_bytes`), and its address-space
/// limit less its size. `None` where none of these can be read (other systems).
pub fn available_memory() -> Option<(u64, Room)> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let machine = read("/proc/meminfo")
        .and_then(|t| meminfo_available(&t))
        .map(|b| (b, Room::Machine));
    let group = read("/proc/self/cgroup")
        .and_then(|t| group_room(&t, |p| read(p)))
        .map(|b| (b, Room::Group));
    let address = read("/proc/self/limits")
        .zip(read("/proc/self/status"))
        .and_then(|(limits, status)| address_room(&limits, &status))
        .map(|b| (b, Room::AddressSpace));
    [machine, group, address]
        .into_iter()
        .flatten()
        .min_by_key(|&(b, _)| b)
}

/// `MemAvailable`, bytes.
fn meminfo_available(text: &str) -> Option<u64> {
    kib_field(text, "MemAvailable:")
}

/// A `/proc` field given in kB, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let mut words = line[name.len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        _ => None,
    }
}

/// The control group's memory limit less its usage, bytes; `None` without a limit. `cgroup` is
/// `/proc/self/cgroup`; the group's own directory is tried, then the mount's root (inside a
/// container the group is usually the root of its namespace).
fn group_room(cgroup: &str, read: impl Fn(&str) -> Option<String>) -> Option<u64> {
    let number = |p: &str| read(p)?.trim().parse::<u64>().ok();
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_end_matches('/');
        let (dirs, limit, usage) = if id == "0" && controllers.is_empty() {
            (
                [format!("/sys/fs/cgroup{path}"), "/sys/fs/cgroup".into()],
                "memory.max",
                "memory.current",
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                [
                    format!("/sys/fs/cgroup/memory{path}"),
                    "/sys/fs/cgroup/memory".into(),
                ],
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            continue;
        };
        for dir in dirs {
            // v2 says `max` for no limit; v1 a number near 2^63.
            if let Some(max) = number(&format!("{dir}/{limit}")).filter(|&m| m < 1 << 60) {
                let used = number(&format!("{dir}/{usage}")).unwrap_or(0);
                return Some(max.saturating_sub(used));
            }
        }
    }
    None
}

/// The address-space limit (`Max address space` in `/proc/self/limits`, the soft one) less the
/// process's size (`VmSize`), bytes; `None` when unlimited.
fn address_room(limits: &str, status: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft: u64 = line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let size = kib_field(status, "VmSize:").unwrap_or(0);
    Some(soft.saturating_sub(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_gives_available_bytes_or_nothing() {
        let text = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(meminfo_available(text), Some(20_000_000 * 1024));
        assert_eq!(meminfo_available("MemTotal: 5 kB\n"), None);
        assert_eq!(meminfo_available("MemAvailable: x kB\n"), None);
        assert_eq!(meminfo_available("MemAvailable: 5 MB\n"), None);
    }

    #[test]
    fn a_control_groups_limit_less_its_usage_is_the_room() {
        let files = |entries: &'static [(&'static str, &'static str)]| {
            move |p: &str| {
                entries
                    .iter()
                    .find(|(path, _)| *path == p)
                    .map(|(_, v)| v.to_string())
            }
        };
        // v2, the group's own directory.
        let v2 = files(&[
            ("/sys/fs/cgroup/job/memory.max", "4000000000\n"),
            ("/sys/fs/cgroup/job/memory.current", "1000000000\n"),
        ]);
        assert_eq!(group_room("0::/job\n", v2), Some(3_000_000_000));
        // v2 without a limit; a container's root.
        let unlimited = files(&[("/sys/fs/cgroup/memory.max", "max\n")]);
        assert_eq!(group_room("0::/\n", unlimited), None);
        let root = files(&[("/sys/fs/cgroup/memory.max", "2000000000")]);
        assert_eq!(group_room("0::/kubepods/pod1\n", root), Some(2_000_000_000));
        // v1: the memory controller's line; its "no limit" is near 2^63.
        let v1 = files(&[
            (
                "/sys/fs/cgroup/memory/a/memory.limit_in_bytes",
                "9223372036854771712",
            ),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "8000000000"),
            ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "500"),
        ]);
        assert_eq!(
            group_room("4:memory:/a\n0::/\n", v1),
            Some(8_000_000_000 - 500)
        );
    }

    #[test]
    fn the_address_space_limit_less_the_size_is_the_room() {
        let status = "Name: x\nVmSize:\t    4000 kB\n";
        let limited = "Limit Soft Hard Units\nMax address space         4096000000           unlimited            bytes\n";
        assert_eq!(
            address_room(limited, status),
            Some(4_096_000_000 - 4000 * 1024)
        );
        let unlimited =
            "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(address_room(unlimited, status), None);
    }

    #[test]
    fn a_given_bound_wins_and_the_automatic_one_fits_the_memory() {
        let given = HeldLimit::resolve(Some(1000));
        assert_eq!(given.max, 1000);
        assert!(given.explain().contains("--max-invocations"));
        assert_eq!(HeldLimit::resolve(Some(u64::MAX)).max, CEILING);
        let auto = HeldLimit::resolve(None);
        assert!(auto.max <= CEILING);
        if let Some((bytes, _)) = available_memory() {
            assert!(auto.max <= bytes / BYTES_PER_INVOCATION);
        }
    }
}
