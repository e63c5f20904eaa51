//! A per-minute row's busy minutes and their counts, packed: what a per-minute trace (Azure
//! 2019) holds of each function and day until its arrivals are made. A streamed replay keeps
//! every row's counts to the end (a cyclic warm-up or a coupled rerun reads them again), so their
//! size is most of its memory: a fortnight of 46,000 functions holds about 230 M busy minutes.
//!
//! Each busy minute is two LEB128 varints: the gap from the previous busy minute less one (the
//! first: its minute of the day), then the count. A row busy every minute with counts below 128
//! takes 2 bytes a minute (8 as `(u16, u32)` pairs).

/// See the module documentation. Never empty: a row without invocations is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteCounts {
    bytes: Box<[u8]>,
    last_minute: u16,
}

/// One busy minute of a [`MinuteCounts`], and where the next one starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// The minute of the day (0-based).
    pub minute: u16,
    /// Invocations in it (at least 1).
    pub count: u32,
    /// The byte after this minute's entry.
    next: u32,
}

impl MinuteCounts {
    /// Packs the busy minutes of `counts` (one count per minute of the day, minute 0 first);
    /// `None` when every count is 0.
    pub fn pack(counts: &[u32]) -> Option<MinuteCounts> {
        assert!(
            counts.len() <= usize::from(u16::MAX),
            "a day has 1,440 minutes"
        );
        let mut bytes = Vec::new();
        let mut prev: Option<usize> = None;
        for (m, &c) in counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let gap = prev.map_or(m, |p| m - p - 1);
            put(&mut bytes, gap as u32);
            put(&mut bytes, c);
            prev = Some(m);
        }
        Some(MinuteCounts {
            bytes: bytes.into_boxed_slice(),
            last_minute: prev? as u16,
        })
    }

    /// The first busy minute.
    pub fn first(&self) -> Busy {
        self.decode(0, None)
    }

    /// The busy minute after `b` (which came from this row), if any.
    pub fn after(&self, b: Busy) -> Option<Busy> {
        ((b.next as usize) < self.bytes.len()).then(|| self.decode(b.next as usize, Some(b.minute)))
    }

    /// The last busy minute of the day.
    pub fn last_minute(&self) -> u16 {
        self.last_minute
    }

    /// Every busy minute, in order.
    pub fn iter(&self) -> impl Iterator<Item = Busy> + '_ {
        std::iter::successors(Some(self.first()), |&b| self.after(b))
    }

    /// A stable hash of the busy minutes and counts.
    pub fn fingerprint(&self) -> u64 {
        crate::seed::hash_bytes(&self.bytes)
    }

    /// Bytes held (for measurements).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }

    fn decode(&self, at: usize, prev: Option<u16>) -> Busy {
        let (gap, at) = get(&self.bytes, at);
        let (count, at) = get(&self.bytes, at);
        let minute = match prev {
            None => gap,
            Some(p) => u32::from(p) + 1 + gap,
        };
        Busy {
            minute: minute as u16,
            count,
            next: at as u32,
        }
    }
}

/// Appends `v` as an LEB128 varint.
fn put(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The LEB128 varint at `at`, and the byte after it. The bytes are only ever [`put`]'s.
#[inline]
fn get(bytes: &[u8], mut at: usize) -> (u32, usize) {
    let mut v = 0u32;
    let mut shift = 0;
    loop {
        let b = bytes[at];
        at += 1;
        v |= u32::from(b & 0x7f) << shift;
        if b < 0x80 {
            return (v, at);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpack(c: &MinuteCounts) -> Vec<(u16, u32)> {
        c.iter().map(|b| (b.minute, b.count)).collect()
    }

    #[test]
    fn packing_keeps_every_busy_minute_and_its_count() {
        let mut day = vec![0u32; 1440];
        let busy = [
            (0usize, 1u32),
            (1, 127),
            (2, 128),
            (300, 60_000_000),
            (301, u32::MAX),
            (1439, 5),
        ];
        for &(m, c) in &busy {
            day[m] = c;
        }
        let c = MinuteCounts::pack(&day).unwrap();
        let want: Vec<(u16, u32)> = busy.iter().map(|&(m, c)| (m as u16, c)).collect();
        assert_eq!(unpack(&c), want);
        assert_eq!(c.last_minute(), 1439);
        assert_eq!(c.first().minute, 0);
        // Minute gaps: 0,0,0,297,0,1137 (1 or 2 bytes); counts 1+1+2+4+5+1 bytes.
        assert_eq!(
            c.heap_bytes(),
            (1 + 1 + 1 + 2 + 1 + 2) + (1 + 1 + 2 + 4 + 5 + 1)
        );
    }

    #[test]
    fn a_row_busy_every_minute_with_small_counts_takes_two_bytes_a_minute() {
        let day: Vec<u32> = (0..1440).map(|m| 1 + m % 100).collect();
        let c = MinuteCounts::pack(&day).unwrap();
        assert_eq!(c.heap_bytes(), 2 * 1440);
        assert_eq!(c.iter().count(), 1440);
        assert!(c.iter().all(|b| b.count == 1 + u32::from(b.minute) % 100));
    }

    #[test]
    fn a_day_without_invocations_packs_to_nothing_and_a_single_minute_to_one_entry() {
        assert_eq!(MinuteCounts::pack(&[0; 1440]), None);
        let mut day = vec![0u32; 1440];
        day[700] = 3;
        let c = MinuteCounts::pack(&day).unwrap();
        assert_eq!(unpack(&c), vec![(700, 3)]);
        assert_eq!(c.after(c.first()), None);
    }
}
