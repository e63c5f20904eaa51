//! What may refuse capacity: the function's concurrency limit, the account's (shared by every
//! function), and the scaling-rate token bucket. A refusal says which limit refused
//! ([`Blocked`]): the trigger decides what happens to the request, and throttles are counted
//! against that limit.

use crate::engine::ScalingRate;
use crate::time::Micros;

/// Shared account state. In a parallel run each function gets its own, with no limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Account {
    pub usage: u64,
    pub limit: u64,
}

impl Account {
    /// Refuses one more instance in use when the account is at its limit.
    #[inline]
    pub fn check(&self) -> Result<(), Blocked> {
        if self.usage >= self.limit {
            Err(Blocked::Account)
        } else {
            Ok(())
        }
    }
}

/// Why a request could not get capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blocked {
    Function,
    Account,
    /// Scaling rate: the next token is available at this time.
    Rate(Micros),
}

/// The scaling rate: holds up to `burst` tokens and refills one every `every` microseconds,
/// continuously. Kept in microseconds of refill so that integer time refills it exactly.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    /// Level and capacity in microseconds of refill; one token = `every` units.
    level: u64,
    cap: u64,
    every: Micros,
    last: Micros,
}

impl TokenBucket {
    /// A full bucket at t = 0.
    pub fn new(rate: ScalingRate) -> TokenBucket {
        let cap = rate.burst as u64 * rate.refill_every;
        TokenBucket {
            level: cap,
            cap,
            every: rate.refill_every,
            last: 0,
        }
    }

    #[inline]
    fn refill(&mut self, now: Micros) {
        if now > self.last {
            self.level = (self.level + (now - self.last)).min(self.cap);
            self.last = now;
        }
    }

    /// Takes a token at `now`, or says when the next one will be there.
    #[inline]
    pub fn try_take(&mut self, now: Micros) -> Result<(), Micros> {
        self.refill(now);
        if self.level >= self.every {
            self.level -= self.every;
            Ok(())
        } else {
            Err(now + (self.every - self.level))
        }
    }
}

/// The function's own limits on new instances.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    max_concurrency: Option<u32>,
    bucket: Option<TokenBucket>,
}

impl Limits {
    pub fn new(max_concurrency: Option<u32>, scaling: Option<ScalingRate>) -> Limits {
        Limits {
            max_concurrency,
            bucket: scaling.map(TokenBucket::new),
        }
    }

    /// May a new instance start at `now`, with `in_use` instances of this function counted
    /// against its limit? Checked in order: the function's limit, the account's, then a scaling
    /// token, taken only when both limits allow.
    #[inline]
    pub fn start_new(
        &mut self,
        now: Micros,
        in_use: u32,
        account: &Account,
    ) -> Result<(), Blocked> {
        self.activate(in_use, account)?;
        if let Some(bucket) = &mut self.bucket {
            bucket.try_take(now).map_err(Blocked::Rate)?;
        }
        Ok(())
    }
}

impl Limits {
    /// May an instance already loaded but not counted (a pre-warmed one) start serving, with
    /// `in_use` instances of this function counted against its limit? The function's limit,
    /// then the account's; no scaling token, as nothing starts.
    #[inline]
    pub fn activate(&self, in_use: u32, account: &Account) -> Result<(), Blocked> {
        if self.max_concurrency.is_some_and(|m| in_use >= m) {
            return Err(Blocked::Function);
        }
        account.check()
    }
}

/// What the queue head waits for after a refusal, and the wake-ups that retry it: a token due
/// at a known time (a wake-up then), account capacity (the coupled driver wakes the queue when
/// another function releases some), or this function's limit (its own completions serve the
/// queue).
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueBlock {
    /// The limit that last refused the queue head.
    last: Option<Blocked>,
    /// True while the queue head waits for account capacity.
    on_account: bool,
    /// The earliest queue wake-up scheduled, if any.
    wake_at: Option<Micros>,
}

impl QueueBlock {
    /// The queue head was refused by `blocked`; returns when to schedule a wake-up, if one is
    /// needed (a scaling token due before any wake-up already scheduled).
    pub fn refused(&mut self, blocked: Blocked) -> Option<Micros> {
        self.last = Some(blocked);
        match blocked {
            Blocked::Function => None,
            Blocked::Account => {
                self.on_account = true;
                None
            }
            Blocked::Rate(at) => self.wake_at.is_none_or(|w| w > at).then_some(at),
        }
    }

    /// The account has room again at `now`; returns when to schedule a wake-up (now), unless
    /// one is scheduled for now already.
    pub fn account_freed(&mut self, now: Micros) -> Option<Micros> {
        self.on_account = false;
        (self.wake_at != Some(now)).then_some(now)
    }

    /// A wake-up was scheduled at `at`.
    pub fn scheduled(&mut self, at: Micros) {
        self.wake_at = Some(self.wake_at.map_or(at, |w| w.min(at)));
    }

    /// A wake-up runs at `now`.
    pub fn woke(&mut self, now: Micros) {
        if self.wake_at == Some(now) {
            self.wake_at = None;
        }
    }

    /// True while the queue head waits for account capacity.
    pub fn on_account(&self) -> bool {
        self.on_account
    }

    /// True if a wake-up now would leave this state as it is, when its retry is refused by the
    /// account again: the head waits for account capacity, the account refused it last (so the
    /// refusal changes no cause), and no wake-up is scheduled (a driver's wake-up and its retry
    /// would forget it).
    pub fn settled_on_account(&self) -> bool {
        self.on_account && self.last == Some(Blocked::Account) && self.wake_at.is_none()
    }

    /// True while a wake-up at `now` is scheduled and has not run.
    pub fn wakes_at(&self, now: Micros) -> bool {
        self.wake_at == Some(now)
    }

    /// The limit a queued request throttled now is counted against: the one that last refused
    /// the queue head (the function's own, if none did).
    pub fn cause(&self) -> Blocked {
        self.last.unwrap_or(Blocked::Function)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn unlimited() -> Account {
        Account {
            usage: 0,
            limit: u64::MAX,
        }
    }

    #[test]
    fn the_bucket_refills_one_token_per_period_exactly() {
        // Burst 2, one token every 10 ms.
        let mut b = TokenBucket::new(ScalingRate {
            burst: 2,
            refill_every: 10_000,
        });
        assert_eq!(b.try_take(0), Ok(()));
        assert_eq!(b.try_take(0), Ok(()));
        // Empty: the next token is due at 10 ms, not a microsecond earlier.
        assert_eq!(b.try_take(0), Err(10_000));
        assert_eq!(b.try_take(9_999), Err(10_000));
        assert_eq!(b.try_take(10_000), Ok(()));
        assert_eq!(b.try_take(10_000), Err(20_000));
        // 5 ms of partial refill are kept: at 25 ms one token and half of the next.
        assert_eq!(b.try_take(25_000), Ok(()));
        assert_eq!(b.try_take(25_000), Err(30_000));
        assert_eq!(b.try_take(30_000), Ok(()));
    }

    #[test]
    fn the_bucket_does_not_bank_beyond_its_burst() {
        let mut b = TokenBucket::new(ScalingRate {
            burst: 3,
            refill_every: SECOND,
        });
        // An hour idle still leaves three tokens only.
        let t = 3_600 * SECOND;
        for _ in 0..3 {
            assert_eq!(b.try_take(t), Ok(()));
        }
        assert_eq!(b.try_take(t), Err(t + SECOND));
    }

    #[test]
    fn a_function_limit_refuses_the_instance_past_it() {
        let mut limits = Limits::new(Some(3), None);
        let acct = unlimited();
        for in_use in 0..3 {
            assert_eq!(limits.start_new(0, in_use, &acct), Ok(()));
        }
        assert_eq!(limits.start_new(0, 3, &acct), Err(Blocked::Function));
    }

    #[test]
    fn the_account_limit_refuses_at_its_usage() {
        let mut limits = Limits::new(None, None);
        let full = Account { usage: 5, limit: 5 };
        assert_eq!(limits.start_new(0, 0, &full), Err(Blocked::Account));
        assert_eq!(full.check(), Err(Blocked::Account));
        let room = Account { usage: 4, limit: 5 };
        assert_eq!(limits.start_new(0, 0, &room), Ok(()));
    }

    #[test]
    fn a_refusal_by_a_limit_keeps_the_scaling_token() {
        // One token only: refusals by the function or account limit must not spend it.
        let rate = ScalingRate {
            burst: 1,
            refill_every: SECOND,
        };
        let mut limits = Limits::new(Some(1), Some(rate));
        assert_eq!(limits.start_new(0, 1, &unlimited()), Err(Blocked::Function));
        let full = Account { usage: 1, limit: 1 };
        assert_eq!(limits.start_new(0, 0, &full), Err(Blocked::Account));
        assert_eq!(limits.start_new(0, 0, &unlimited()), Ok(()));
        assert_eq!(
            limits.start_new(0, 0, &unlimited()),
            Err(Blocked::Rate(SECOND))
        );
    }

    #[test]
    fn a_rate_refusal_asks_for_a_wake_up_when_the_token_is_due() {
        let mut q = QueueBlock::default();
        assert_eq!(q.cause(), Blocked::Function);
        assert_eq!(q.refused(Blocked::Rate(500)), Some(500));
        q.scheduled(500);
        // A later token does not need another wake-up; an earlier one does.
        assert_eq!(q.refused(Blocked::Rate(700)), None);
        assert_eq!(q.refused(Blocked::Rate(300)), Some(300));
        q.scheduled(300);
        assert_eq!(q.cause(), Blocked::Rate(300));
        // The wake-up at 300 runs; the one at 500 is still pending but no longer tracked, so a
        // refusal until 400 asks for one.
        q.woke(300);
        assert_eq!(q.refused(Blocked::Rate(400)), Some(400));
    }

    #[test]
    fn an_account_refusal_waits_for_the_driver() {
        let mut q = QueueBlock::default();
        assert_eq!(q.refused(Blocked::Account), None);
        assert!(q.on_account());
        assert_eq!(q.cause(), Blocked::Account);
        // Freed at 40: wake at 40, unless a wake-up at 40 is scheduled already.
        assert_eq!(q.account_freed(40), Some(40));
        assert!(!q.on_account());
        q.scheduled(40);
        assert_eq!(q.account_freed(40), None);
        q.woke(40);
        assert_eq!(q.account_freed(40), Some(40));
    }

    #[test]
    fn a_function_refusal_needs_no_wake_up() {
        let mut q = QueueBlock::default();
        assert_eq!(q.refused(Blocked::Function), None);
        assert!(!q.on_account());
        assert_eq!(q.cause(), Blocked::Function);
    }
}
