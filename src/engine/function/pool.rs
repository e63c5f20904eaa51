//! One function's instances: the arena they live in, and the lists that say which can take a
//! request (idle provisioned, idle on-demand by keep-alive, partly busy, initializing with a free
//! slot). The pool only moves instances between lists and answers "which one"; the function
//! counts what happened (statistics, account usage, output).
//!
//! Idle on-demand instances sit in a deque by the time they went idle (the back is the most
//! recently used). With a fixed keep-alive their expiries come in that order, so they expire from
//! the front. A learning policy gives each idle period its own window, so expiries can come in
//! any order. Its windows change rarely, though (a histogram's percentiles move only now and
//! then), so the pool keeps using the deque while its entries happen to be sorted by
//! `(keep-alive end, id)` too, and only when an entry breaks that order moves them all into a
//! min-heap of `(keep-alive end, id)`, until no instance is idle. In heap mode both hold copies of
//! an entry stamped with the instance's idle count; taking an instance through one makes the
//! other's copy stale, and stale copies are skipped when met (lazy deletion). Either way the
//! instance that expires next is the one with the least `(keep-alive end, id)`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::ops::{Index, IndexMut};

use crate::time::Micros;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Initializing,
    Ready,
    Dead,
}

#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub birth: Micros,
    pub ready_at: Micros,
    pub busy_since: Micros,
    pub idle_since: Micros,
    /// Start of the current active period (init or busy, until idle).
    pub active_since: Micros,
    /// When the last active period ended, if it is not yet recorded: a request that reuses the
    /// instance at that same instant continues the period (billing counts one period).
    pub active_end: Option<Micros>,
    /// Requests assigned (in service, or waiting for this instance's init).
    pub busy: u32,
    pub provisioned: bool,
    /// A provisioned instance no longer configured, finishing its requests before it goes.
    pub retiring: bool,
    pub state: State,
    /// Memory the instance was started with, MB (its loaded memory).
    pub memory_mb: u16,
    /// Position in the partial list (`NOT_LISTED` when not in it).
    partial_pos: u32,
}

const NOT_LISTED: u32 = u32::MAX;

impl Instance {
    /// A provisioned instance added at `now`: ready and idle.
    pub fn provisioned(now: Micros) -> Instance {
        Instance {
            birth: now,
            ready_at: now,
            busy_since: now,
            idle_since: now,
            active_since: now,
            active_end: None,
            busy: 0,
            provisioned: true,
            retiring: false,
            state: State::Ready,
            memory_mb: 0,
            partial_pos: NOT_LISTED,
        }
    }

    /// An on-demand instance started at `now` for one request, initializing until `ready_at`.
    pub fn starting(now: Micros, ready_at: Micros) -> Instance {
        Instance {
            birth: now,
            ready_at,
            busy_since: ready_at,
            idle_since: now,
            active_since: now,
            active_end: None,
            busy: 1,
            provisioned: false,
            retiring: false,
            state: State::Initializing,
            memory_mb: 0,
            partial_pos: NOT_LISTED,
        }
    }

    /// True while the instance is in its provisioned or on-demand partial list.
    pub fn is_partial(&self) -> bool {
        self.partial_pos != NOT_LISTED
    }
}

/// An idle on-demand instance and the end of its keep-alive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Idle {
    pub id: u32,
    pub keep_alive_end: Micros,
    /// The instance's idle count when it was listed: the entry is live while they agree.
    stamp: u32,
}

/// Where the next warm request goes, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Warm {
    /// A ready instance: partly busy provisioned, idle provisioned, partly busy on-demand.
    Ready(u32),
    /// Only idle on-demand instances are left ([`Pool::pop_mru_idle`] wakes one).
    IdleOnDemand,
    None,
}

/// What [`Pool::pop_mru_idle`] and the expiry scans took off the idle list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Popped {
    /// Still alive: use it.
    Alive(u32),
    /// Died at this time (keep-alive or lifetime ended): reclaim it.
    Dead(u32, Micros),
}

#[derive(Debug, Clone)]
pub(crate) struct Pool {
    instances: Vec<Instance>,
    free_slots: Vec<u32>,
    /// Idle on-demand instances, ordered by `idle_since` (front: idle longest); may hold stale
    /// entries when `monotone` is false.
    od_idle: VecDeque<Idle>,
    /// Live entries in `od_idle`.
    live_idle: u32,
    /// Each slot's idle count (not reset when a slot is reused).
    stamps: Vec<u32>,
    /// Keep-alive ends in any order (only when `monotone` is false).
    expiries: BinaryHeap<Reverse<(Micros, u32, u32)>>,
    /// True when keep-alive ends never decrease with idle time (a fixed window).
    monotone: bool,
    /// Not `monotone`, but `od_idle` is sorted by `(keep-alive end, id)` and has no stale entry
    /// (the heap is empty): expiries come from its front.
    sorted: bool,
    /// Idle provisioned instances; the top is the next used.
    prov_idle: VecDeque<u32>,
    /// Ready instances serving 0 < busy < k requests (only when k > 1).
    prov_partial: Vec<u32>,
    od_partial: Vec<u32>,
    /// Initializing instances with spare capacity (only when k > 1).
    init_open: Vec<u32>,
    /// Requests one instance serves at once.
    k: u32,
    max_lifetime: Option<Micros>,
}

impl Index<u32> for Pool {
    type Output = Instance;
    #[inline]
    fn index(&self, id: u32) -> &Instance {
        &self.instances[id as usize]
    }
}

impl IndexMut<u32> for Pool {
    #[inline]
    fn index_mut(&mut self, id: u32) -> &mut Instance {
        &mut self.instances[id as usize]
    }
}

impl Pool {
    /// `monotone`: keep-alive ends never decrease with idle time (see the module doc).
    pub fn new(k: u32, max_lifetime: Option<Micros>, monotone: bool) -> Pool {
        Pool {
            instances: Vec::new(),
            free_slots: Vec::new(),
            od_idle: VecDeque::new(),
            live_idle: 0,
            stamps: Vec::new(),
            expiries: BinaryHeap::new(),
            monotone,
            sorted: true,
            prov_idle: VecDeque::new(),
            prov_partial: Vec::new(),
            od_partial: Vec::new(),
            init_open: Vec::new(),
            k,
            max_lifetime,
        }
    }

    /// Gives back the space its lists do not use (issue 14, D10: a function with one instance
    /// kept room for four in several lists).
    pub fn shrink_to_fit(&mut self) {
        self.instances.shrink_to_fit();
        self.free_slots.shrink_to_fit();
        self.od_idle.shrink_to_fit();
        self.stamps.shrink_to_fit();
        self.expiries.shrink_to_fit();
        self.prov_idle.shrink_to_fit();
        self.prov_partial.shrink_to_fit();
        self.od_partial.shrink_to_fit();
        self.init_open.shrink_to_fit();
    }

    /// Heap bytes held (capacity, not length).
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.instances.capacity() * size_of::<Instance>()
            + self.free_slots.capacity() * 4
            + self.od_idle.capacity() * size_of::<Idle>()
            + self.stamps.capacity() * 4
            + self.expiries.capacity() * size_of::<Reverse<(Micros, u32, u32)>>()
            + self.prov_idle.capacity() * 4
            + (self.prov_partial.capacity() + self.od_partial.capacity()) * 4
            + self.init_open.capacity() * 4
    }

    #[inline]
    pub fn k(&self) -> u32 {
        self.k
    }

    /// Every id ever allocated, dead ones included, lowest first.
    pub fn ids(&self) -> std::ops::Range<u32> {
        0..self.instances.len() as u32
    }

    /// Stores `inst` in a free slot (the most recently freed) or a new one.
    #[inline]
    pub fn alloc(&mut self, inst: Instance) -> u32 {
        match self.free_slots.pop() {
            Some(id) => {
                self.instances[id as usize] = inst;
                id
            }
            None => {
                self.instances.push(inst);
                self.stamps.push(0);
                (self.instances.len() - 1) as u32
            }
        }
    }

    /// Marks `id` dead and frees its slot.
    #[inline]
    pub fn kill(&mut self, id: u32) {
        self[id].state = State::Dead;
        self.free_slots.push(id);
    }

    /// Where the next warm request goes: provisioned first, then on-demand instances already
    /// serving (k > 1), then idle on-demand ones.
    #[inline]
    pub fn warm(&self) -> Warm {
        if let Some(&id) = self.prov_partial.last() {
            Warm::Ready(id)
        } else if let Some(&id) = self.prov_idle.back() {
            Warm::Ready(id)
        } else if let Some(&id) = self.od_partial.last() {
            Warm::Ready(id)
        } else if self.live_idle == 0 {
            Warm::None
        } else {
            Warm::IdleOnDemand
        }
    }

    // Idle provisioned instances: a stack, the top used first.

    /// Adds an idle provisioned instance below the others (used after them).
    pub fn push_prov_idle_bottom(&mut self, id: u32) {
        self.prov_idle.push_front(id);
    }

    /// Puts an idle provisioned instance on top (used next).
    #[inline]
    pub fn push_prov_idle(&mut self, id: u32) {
        self.prov_idle.push_back(id);
    }

    /// Takes the top idle provisioned instance (the one [`Pool::warm`] names).
    #[inline]
    pub fn pop_prov_idle(&mut self) -> Option<u32> {
        self.prov_idle.pop_back()
    }

    /// Takes the bottom idle provisioned instance (the least recently used).
    pub fn pop_prov_idle_lru(&mut self) -> Option<u32> {
        self.prov_idle.pop_front()
    }

    /// Reverses the idle provisioned stack.
    pub fn reverse_prov_idle(&mut self) {
        self.prov_idle.make_contiguous().reverse();
    }

    // Idle on-demand instances: a deque by idle time (and a heap of expiries).

    /// An on-demand instance goes idle at `now` (not before the last one) until `keep_alive_end`.
    #[inline]
    pub fn push_idle(&mut self, id: u32, keep_alive_end: Micros) {
        let stamp = &mut self.stamps[id as usize];
        *stamp = stamp.wrapping_add(1);
        let stamp = *stamp;
        if !self.monotone {
            if !self.sorted {
                self.expiries.push(Reverse((keep_alive_end, id, stamp)));
            } else if self
                .od_idle
                .back()
                .is_some_and(|b| (keep_alive_end, id) < (b.keep_alive_end, b.id))
            {
                self.move_to_heap(Idle {
                    id,
                    keep_alive_end,
                    stamp,
                });
            }
        }
        self.od_idle.push_back(Idle {
            id,
            keep_alive_end,
            stamp,
        });
        self.live_idle += 1;
    }

    /// `new` breaks the deque's expiry order: every entry (all live) goes into the heap.
    #[cold]
    #[inline(never)]
    fn move_to_heap(&mut self, new: Idle) {
        self.sorted = false;
        let all = self.od_idle.iter().chain([&new]);
        self.expiries
            .extend(all.map(|e| Reverse((e.keep_alive_end, e.id, e.stamp))));
    }

    #[inline]
    fn is_live(&self, id: u32, stamp: u32) -> bool {
        self.stamps[id as usize] == stamp
    }

    /// Instance `id` leaves the idle set: every copy of its entry goes stale. The last one to
    /// leave ends heap mode (what is left is stale).
    #[inline]
    fn take(&mut self, id: u32) {
        let stamp = &mut self.stamps[id as usize];
        *stamp = stamp.wrapping_add(1);
        self.live_idle -= 1;
        if self.live_idle == 0 && !self.sorted {
            self.od_idle.clear();
            self.expiries.clear();
            self.sorted = true;
        }
    }

    /// When an idle on-demand instance dies if nothing uses it: at the end of its keep-alive, or
    /// of its lifetime if that comes first.
    #[inline]
    pub fn death(&self, idle: Idle) -> Micros {
        match self.max_lifetime {
            None => idle.keep_alive_end,
            Some(life) => {
                let inst = &self[idle.id];
                idle.keep_alive_end
                    .min((inst.birth + life).max(inst.idle_since))
            }
        }
    }

    /// True if instance `id` has lived its maximum lifetime at `now`.
    #[inline]
    pub fn outlived(&self, id: u32, now: Micros) -> bool {
        self.max_lifetime
            .is_some_and(|life| now >= self[id].birth + life)
    }

    /// Takes the most recently idle on-demand instance. Keep-alive expiries before `now` must
    /// have been taken already (`pop_expired`); only a lifetime can have ended.
    #[inline]
    pub fn pop_mru_idle(&mut self, now: Micros) -> Option<Popped> {
        let idle = loop {
            let idle = self.od_idle.pop_back()?;
            if self.is_live(idle.id, idle.stamp) {
                break idle;
            }
        };
        self.take(idle.id);
        if self.max_lifetime.is_some() {
            let death = self.death(idle);
            if death <= now {
                return Some(Popped::Dead(idle.id, death));
            }
        }
        Some(Popped::Alive(idle.id))
    }

    /// No idle instance's keep-alive ends before this (`None`: no idle instance):
    /// [`Pool::pop_expired`] at any `t` up to it gives nothing. A stale entry may make it early.
    pub fn keep_alive_floor(&self) -> Option<Micros> {
        if self.sorted {
            self.od_idle.front().map(|i| i.keep_alive_end)
        } else {
            self.expiries.peek().map(|&Reverse((end, _, _))| end)
        }
    }

    /// Takes the idle instance whose keep-alive ends first if it ends before `t`, with its death.
    #[inline]
    pub fn pop_expired(&mut self, t: Micros) -> Option<(u32, Micros)> {
        if !self.sorted {
            return self.pop_expired_any_order(t);
        }
        let &idle = self.od_idle.front()?;
        if idle.keep_alive_end >= t {
            return None;
        }
        self.od_idle.pop_front();
        self.take(idle.id);
        Some((idle.id, self.death(idle)))
    }

    /// [`Pool::pop_expired`] through the heap, for windows that end in any order.
    #[inline(never)]
    fn pop_expired_any_order(&mut self, t: Micros) -> Option<(u32, Micros)> {
        loop {
            let &Reverse((end, id, stamp)) = self.expiries.peek()?;
            if !self.is_live(id, stamp) {
                self.expiries.pop();
                continue;
            }
            if end >= t {
                // Stale entries at the deque's front go too, so it does not grow.
                while let Some(&f) = self.od_idle.front() {
                    if self.is_live(f.id, f.stamp) {
                        break;
                    }
                    self.od_idle.pop_front();
                }
                return None;
            }
            self.expiries.pop();
            self.take(id);
            let idle = Idle {
                id,
                keep_alive_end: end,
                stamp,
            };
            return Some((id, self.death(idle)));
        }
    }

    /// Takes the next idle instance, from position `*cursor` on, whose lifetime (or keep-alive)
    /// ends before `t`, with its death; `cursor` carries the scan between calls.
    pub fn pop_dying(&mut self, t: Micros, cursor: &mut usize) -> Option<(u32, Micros)> {
        while let Some(&idle) = self.od_idle.get(*cursor) {
            if !self.is_live(idle.id, idle.stamp) {
                self.od_idle.remove(*cursor);
                continue;
            }
            let death = self.death(idle);
            if death < t {
                self.od_idle.remove(*cursor);
                self.take(idle.id);
                return Some((idle.id, death));
            }
            *cursor += 1;
        }
        None
    }

    /// Takes the idle instance idle longest, whenever it dies.
    pub fn pop_oldest_idle(&mut self) -> Option<(u32, Micros)> {
        loop {
            let idle = self.od_idle.pop_front()?;
            if self.is_live(idle.id, idle.stamp) {
                self.take(idle.id);
                return Some((idle.id, self.death(idle)));
            }
        }
    }

    // Partly busy ready instances (k > 1).

    #[inline]
    fn partial_list(&mut self, provisioned: bool) -> &mut Vec<u32> {
        if provisioned {
            &mut self.prov_partial
        } else {
            &mut self.od_partial
        }
    }

    #[inline]
    pub fn list_partial(&mut self, id: u32) {
        let provisioned = self[id].provisioned;
        let list = self.partial_list(provisioned);
        let pos = list.len() as u32;
        list.push(id);
        self[id].partial_pos = pos;
    }

    #[inline]
    pub fn unlist_partial(&mut self, id: u32) {
        let inst = &self[id];
        let (provisioned, pos) = (inst.provisioned, inst.partial_pos as usize);
        debug_assert!(pos != NOT_LISTED as usize);
        let list = self.partial_list(provisioned);
        list.swap_remove(pos);
        let moved = list.get(pos).copied();
        if let Some(moved) = moved {
            self[moved].partial_pos = pos as u32;
        }
        self[id].partial_pos = NOT_LISTED;
    }

    // Initializing instances with a free slot (k > 1).

    pub fn open_init(&mut self, id: u32) {
        self.init_open.push(id);
    }

    /// Instance `id`'s init is done: it no longer takes requests as initializing.
    pub fn close_init(&mut self, id: u32) {
        if let Some(pos) = self.init_open.iter().position(|&x| x == id) {
            self.init_open.swap_remove(pos);
        }
    }

    /// True if [`Pool::join_init`] would find an initializing instance with a free slot.
    pub fn can_join_init(&self) -> bool {
        !self.init_open.is_empty()
    }

    /// Assigns one more request to the initializing instance ready first (lowest id on ties);
    /// returns it, or `None` if no initializing instance has a free slot.
    #[inline]
    pub fn join_init(&mut self) -> Option<u32> {
        let (pos, &id) = self
            .init_open
            .iter()
            .enumerate()
            .min_by_key(|&(_, &id)| (self[id].ready_at, id))?;
        let k = self.k;
        let inst = &mut self[id];
        inst.busy += 1;
        if inst.busy == k {
            self.init_open.swap_remove(pos);
        }
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ready on-demand instance born at `birth` that went idle at `idle_since`.
    fn idle_od(pool: &mut Pool, birth: Micros, idle_since: Micros, keep_alive: Micros) -> u32 {
        let mut inst = Instance::starting(birth, birth);
        inst.state = State::Ready;
        inst.busy = 0;
        inst.idle_since = idle_since;
        let id = pool.alloc(inst);
        pool.push_idle(id, idle_since + keep_alive);
        id
    }

    #[test]
    fn keep_alive_expires_at_exactly_last_use_plus_keep_alive() {
        let mut pool = Pool::new(1, None, true);
        let id = idle_od(&mut pool, 0, 1_000, 600);
        // Alive through 1,599 µs: nothing expires before 1,600.
        assert_eq!(pool.pop_expired(1_600), None);
        // The function reclaims everything due at `now` before it handles an event at `now`
        // (`pop_expired(now + 1)`): at 1,600 it is gone, dead at 1,600.
        assert_eq!(pool.pop_expired(1_601), Some((id, 1_600)));
        assert_eq!(pool.warm(), Warm::None);
    }

    #[test]
    fn expiry_takes_the_longest_idle_first_and_stops_at_the_first_alive() {
        let mut pool = Pool::new(1, None, true);
        let a = idle_od(&mut pool, 0, 10, 100); // dies at 110
        let b = idle_od(&mut pool, 0, 20, 100); // 120
        let _c = idle_od(&mut pool, 0, 30, 100); // 130
        assert_eq!(pool.pop_expired(125), Some((a, 110)));
        assert_eq!(pool.pop_expired(125), Some((b, 120)));
        assert_eq!(pool.pop_expired(125), None);
    }

    #[test]
    fn a_lifetime_ends_an_idle_instance_before_its_keep_alive() {
        // Born at 0, lifetime 500, idle at 300 with keep-alive 1,000: dies at 500.
        let mut pool = Pool::new(1, Some(500), true);
        let id = idle_od(&mut pool, 0, 300, 1_000);
        assert!(!pool.outlived(id, 499) && pool.outlived(id, 500));
        let mut cursor = 0;
        assert_eq!(pool.pop_dying(500, &mut cursor), None);
        cursor = 0;
        assert_eq!(pool.pop_dying(501, &mut cursor), Some((id, 500)));
        // Went idle after its lifetime: it dies when it goes idle.
        let late = idle_od(&mut pool, 0, 800, 1_000);
        assert_eq!(pool.pop_oldest_idle(), Some((late, 800)));
    }

    #[test]
    fn the_most_recently_idle_instance_is_picked_and_dead_ones_are_reported() {
        let mut pool = Pool::new(1, Some(1_000), true);
        let old = idle_od(&mut pool, 0, 100, 5_000);
        let young = idle_od(&mut pool, 0, 200, 5_000);
        assert_eq!(pool.warm(), Warm::IdleOnDemand);
        assert_eq!(pool.pop_mru_idle(300), Some(Popped::Alive(young)));
        // At 1,000 the other one has reached its lifetime.
        assert_eq!(pool.pop_mru_idle(1_000), Some(Popped::Dead(old, 1_000)));
        assert_eq!(pool.pop_mru_idle(1_000), None);
    }

    #[test]
    fn warm_capacity_prefers_provisioned_then_partly_busy_then_idle_on_demand() {
        let mut pool = Pool::new(2, None, true);
        let od = idle_od(&mut pool, 0, 0, 100);
        let mut busy_od = Instance::starting(0, 0);
        busy_od.state = State::Ready;
        let busy_od = pool.alloc(busy_od);
        assert_eq!(pool.warm(), Warm::IdleOnDemand);
        pool.list_partial(busy_od);
        assert_eq!(pool.warm(), Warm::Ready(busy_od));
        let p0 = pool.alloc(Instance::provisioned(0));
        let p1 = pool.alloc(Instance::provisioned(0));
        pool.push_prov_idle_bottom(p0);
        pool.push_prov_idle_bottom(p1);
        // The instance added first is used first.
        assert_eq!(pool.warm(), Warm::Ready(p0));
        assert_eq!(pool.pop_prov_idle(), Some(p0));
        pool[p0].busy = 1;
        pool.list_partial(p0);
        // A partly busy provisioned instance comes before an idle one.
        assert_eq!(pool.warm(), Warm::Ready(p0));
        pool.unlist_partial(p0);
        assert!(!pool[p0].is_partial());
        assert_eq!(pool.warm(), Warm::Ready(p1));
        assert_eq!(pool.pop_prov_idle_lru(), Some(p1));
        assert_eq!(pool.warm(), Warm::Ready(busy_od));
        pool.unlist_partial(busy_od);
        assert_eq!(pool.warm(), Warm::IdleOnDemand);
        assert_eq!(pool.pop_mru_idle(0), Some(Popped::Alive(od)));
        assert_eq!(pool.warm(), Warm::None);
    }

    #[test]
    fn unlisting_keeps_the_moved_instance_findable() {
        let mut pool = Pool::new(3, None, true);
        let ids: Vec<u32> = (0..3)
            .map(|_| {
                let mut inst = Instance::provisioned(0);
                inst.busy = 1;
                let id = pool.alloc(inst);
                pool.list_partial(id);
                id
            })
            .collect();
        pool.unlist_partial(ids[0]); // the last one moves into position 0
        pool.unlist_partial(ids[2]);
        assert_eq!(pool.warm(), Warm::Ready(ids[1]));
        pool.unlist_partial(ids[1]);
        assert_eq!(pool.warm(), Warm::None);
    }

    #[test]
    fn requests_join_the_instance_ready_first_until_it_is_full() {
        let mut pool = Pool::new(2, None, true);
        let late = pool.alloc(Instance::starting(0, 900));
        let early = pool.alloc(Instance::starting(10, 500));
        assert_eq!(pool[early].state, State::Initializing);
        pool.open_init(late);
        pool.open_init(early);
        assert_eq!(pool.join_init(), Some(early));
        assert_eq!(pool[early].busy, 2);
        // Full now: the next joins the other one.
        assert_eq!(pool.join_init(), Some(late));
        assert_eq!(pool.join_init(), None);
    }

    #[test]
    fn freed_slots_are_reused_last_freed_first() {
        let mut pool = Pool::new(1, None, true);
        let a = pool.alloc(Instance::provisioned(0));
        let b = pool.alloc(Instance::provisioned(0));
        pool.kill(a);
        pool.kill(b);
        assert_eq!(pool[a].state, State::Dead);
        assert_eq!(pool.alloc(Instance::provisioned(5)), b);
        assert_eq!(pool.alloc(Instance::provisioned(5)), a);
        assert_eq!(pool.ids(), 0..2);
    }

    #[test]
    fn a_learning_pool_uses_the_heap_only_while_expiries_are_out_of_order() {
        let mut pool = Pool::new(1, None, false);
        let a = idle_od(&mut pool, 0, 10, 100); // 110
        let _b = idle_od(&mut pool, 0, 20, 100); // 120
        assert!(pool.sorted && pool.expiries.is_empty());
        let c = idle_od(&mut pool, 0, 30, 50); // 80: out of order
        assert!(!pool.sorted);
        assert_eq!(pool.pop_expired(115), Some((c, 80)));
        assert_eq!(pool.pop_expired(115), Some((a, 110)));
        assert_eq!(pool.pop_mru_idle(116).map(|_| ()), Some(()));
        // Nothing idle: back to the deque alone.
        assert!(pool.sorted && pool.expiries.is_empty() && pool.od_idle.is_empty());
    }

    /// Random idle, reuse and expiry against a plain list: the pool gives the same instances in
    /// the same order, in both modes (the oracle: the least (end, id) expires first; the most
    /// recently idle is reused).
    #[test]
    fn idle_instances_in_any_order_match_a_plain_list() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let mut pool = Pool::new(1, None, false);
        // Live idle instances: (id, keep-alive end), in the order they went idle.
        let mut list: Vec<(u32, Micros)> = Vec::new();
        let mut now = 0;
        let (mut sorted, mut switches) = (true, 0);
        for _ in 0..20_000 {
            if pool.sorted != sorted {
                (sorted, switches) = (pool.sorted, switches + 1);
            }
            now += rng.random_range(0..30);
            match rng.random_range(0..10) {
                0..=4 => {
                    // Windows mostly equal (sorted), sometimes shorter.
                    let window = if rng.random_range(0..8) == 0 { 20 } else { 200 };
                    let id = idle_od(&mut pool, 0, now, window);
                    list.push((id, now + window));
                }
                5..=6 => {
                    let got = pool.pop_mru_idle(now);
                    let want = list.pop().map(|(id, _)| Popped::Alive(id));
                    assert_eq!(got, want);
                    if let Some(Popped::Alive(id)) = got {
                        pool.kill(id);
                    }
                }
                _ => loop {
                    let want = list
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.1 < now)
                        .min_by_key(|(_, e)| (e.1, e.0))
                        .map(|(i, &e)| (i, e));
                    let got = pool.pop_expired(now);
                    assert_eq!(got, want.map(|(_, e)| e));
                    let Some((i, (id, _))) = want else { break };
                    list.remove(i);
                    pool.kill(id);
                },
            }
        }
        assert!(
            switches > 100,
            "{switches} switches between the deque and the heap"
        );
    }

    #[test]
    fn expiries_in_any_order_come_out_by_keep_alive_end() {
        let mut pool = Pool::new(1, None, false);
        // Idle in order a, b, c, but with windows that end c, a, b.
        let a = idle_od(&mut pool, 0, 10, 200); // 210
        let b = idle_od(&mut pool, 0, 20, 500); // 520
        let c = idle_od(&mut pool, 0, 30, 50); // 80
        assert_eq!(pool.pop_expired(100), Some((c, 80)));
        assert_eq!(pool.pop_expired(100), None);
        // b is used: its expiry entry goes stale and is skipped.
        assert_eq!(pool.pop_mru_idle(300), Some(Popped::Alive(b)));
        assert_eq!(pool.pop_expired(1_000), Some((a, 210)));
        assert_eq!(pool.pop_expired(1_000), None);
        assert_eq!(pool.warm(), Warm::None);
        // A reused slot starts a fresh idle period; the old entries stay stale.
        let d = idle_od(&mut pool, 0, 40, 10);
        assert_eq!(pool.pop_mru_idle(45), Some(Popped::Alive(d)));
        assert_eq!(pool.pop_oldest_idle(), None);
    }
}
