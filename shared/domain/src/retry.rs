//! When to try a failed delivery again. The schedule (seconds before each retry) is a
//! deployment parameter; each wait is jittered by ±20% so retries of a burst spread out, throttled
//! or timed-out attempts wait at least a floor, and a receiver's `Retry-After` is honoured
//! within bounds.

use std::time::Duration;

/// SQS cannot hide a message for longer than 12 hours.
pub const MAX_DELAY: Duration = Duration::from_secs(12 * 60 * 60);
/// A receiver that answered 429 or did not answer in time gets at least this long to recover.
pub const THROTTLE_FLOOR: Duration = Duration::from_secs(30);
/// The longest `Retry-After` we honour.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 60 * 60);

/// A uniform random number in [0, 1), for jitter.
pub fn random_unit() -> f64 {
    (u64::from_le_bytes(crate::ids::random_bytes::<8>()) >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// How the last attempt failed, as far as the wait before the next one is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Any other failure: the schedule alone decides.
    Ordinary,
    /// 429 or a timeout: wait at least the throttle floor.
    Throttled,
}

impl RetrySchedule {
    /// Parses "5,300,1800": seconds before the first, second, third retry.
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                let seconds: u64 = part
                    .parse()
                    .map_err(|_| format!("{part:?} is not a whole number of seconds"))?;
                let delay = Duration::from_secs(seconds);
                if delay > MAX_DELAY {
                    return Err(format!("{seconds} s exceeds the 12 h maximum"));
                }
                Ok(delay)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(delays))
    }

    /// Attempts in all: the first plus one per scheduled retry.
    pub fn max_attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }

    /// The wait after failed attempt number `attempt` (1-based), or `None` when it was the
    /// last. `unit_random` is uniform in [0, 1) and drives the jitter.
    pub fn delay_after(
        &self,
        attempt: u32,
        kind: FailureKind,
        retry_after: Option<Duration>,
        unit_random: f64,
    ) -> Option<Duration> {
        let base = *self.0.get(attempt.checked_sub(1)? as usize)?;
        let jitter = 0.8 + 0.4 * unit_random.clamp(0.0, 1.0);
        let mut delay = base.mul_f64(jitter);
        if kind == FailureKind::Throttled {
            delay = delay.max(THROTTLE_FLOOR);
        }
        if let Some(asked) = retry_after {
            delay = delay.max(asked.min(MAX_RETRY_AFTER));
        }
        Some(delay.min(MAX_DELAY))
    }
}

/// What a failed attempt leaves: `retrying` with the wait before the next attempt, or `failed`
/// once the schedule is spent.
pub fn after_failure(
    schedule: &RetrySchedule,
    attempt: u32,
    kind: FailureKind,
    retry_after: Option<Duration>,
    status_code: Option<u16>,
    error: &str,
) -> (crate::delivery::AttemptOutcome, Option<Duration>) {
    use crate::delivery::{AttemptOutcome, DeliveryStatus, truncate_error};
    let delay = schedule.delay_after(attempt, kind, retry_after, random_unit());
    let status = if delay.is_some() {
        DeliveryStatus::Retrying
    } else {
        DeliveryStatus::Failed
    };
    (
        AttemptOutcome {
            status,
            status_code,
            error: Some(truncate_error(error)),
        },
        delay,
    )
}

/// Asks for the message behind `receipt` to come back after `delay`. If that fails, the
/// message still returns, after the queue's own visibility timeout, so it is only logged.
pub async fn request_retry(
    retries: &dyn crate::ports::RetryScheduler,
    receipt: Option<&str>,
    delay: Duration,
) {
    if let Some(receipt) = receipt
        && let Err(problem) = retries.retry_in(receipt, delay).await
    {
        tracing::warn!(%problem, "could not set the retry delay");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> RetrySchedule {
        RetrySchedule::parse("5,300,1800,7200,18000,36000,36000").unwrap()
    }

    #[test]
    fn default_schedule_gives_eight_attempts() {
        assert_eq!(schedule().max_attempts(), 8);
        assert_eq!(schedule().delay_after(8, FailureKind::Ordinary, None, 0.5), None);
        assert_eq!(schedule().delay_after(0, FailureKind::Ordinary, None, 0.5), None);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for (attempt, base) in [(1u32, 5.0f64), (2, 300.0), (7, 36000.0)] {
            let low = schedule()
                .delay_after(attempt, FailureKind::Ordinary, None, 0.0)
                .unwrap();
            let mid = schedule()
                .delay_after(attempt, FailureKind::Ordinary, None, 0.5)
                .unwrap();
            let high = schedule()
                .delay_after(attempt, FailureKind::Ordinary, None, 0.999_999)
                .unwrap();
            assert!((low.as_secs_f64() - base * 0.8).abs() < 1e-6, "{low:?}");
            assert!((mid.as_secs_f64() - base).abs() < 1e-6, "{mid:?}");
            assert!(
                high.as_secs_f64() <= base * 1.2 && high.as_secs_f64() > base * 1.19,
                "{high:?}"
            );
        }
    }

    #[test]
    fn delays_grow_along_the_schedule() {
        let delays: Vec<_> = (1..8)
            .map(|a| {
                schedule()
                    .delay_after(a, FailureKind::Ordinary, None, 0.5)
                    .unwrap()
            })
            .collect();
        assert!(delays.windows(2).all(|pair| pair[0] <= pair[1]), "{delays:?}");
    }

    #[test]
    fn throttling_waits_at_least_the_floor() {
        assert_eq!(
            schedule().delay_after(1, FailureKind::Throttled, None, 0.5),
            Some(THROTTLE_FLOOR)
        );
        let later = schedule()
            .delay_after(2, FailureKind::Throttled, None, 0.5)
            .unwrap();
        assert_eq!(later, Duration::from_secs(300));
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let asked = Duration::from_secs(120);
        assert_eq!(
            schedule().delay_after(1, FailureKind::Throttled, Some(asked), 0.5),
            Some(asked)
        );
        let huge = Duration::from_secs(100 * 3600);
        assert_eq!(
            schedule().delay_after(1, FailureKind::Throttled, Some(huge), 0.5),
            Some(MAX_RETRY_AFTER)
        );
        // A Retry-After shorter than the schedule does not shorten the wait.
        let short = Duration::from_secs(1);
        assert_eq!(
            schedule().delay_after(2, FailureKind::Ordinary, Some(short), 0.5),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn bad_schedules_are_rejected() {
        assert!(RetrySchedule::parse("5,abc").is_err());
        assert!(RetrySchedule::parse("50000").is_err());
        assert_eq!(RetrySchedule::parse("").unwrap().max_attempts(), 1);
    }
}
