//! The runtime's clock: what `$$.State.EnteredTime`, history timestamps and Wait
//! states see. [`Clock::System`] is wall time; [`Clock::Accelerated`] runs faster
//! than wall time (a 60 s Wait at factor 1000 takes 60 ms) so tests need not sleep.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// A clock the engine reads and sleeps on.
#[derive(Clone, Debug)]
pub enum Clock {
    /// Wall time.
    System,
    /// Starts at wall time when created and runs `factor` times faster.
    Accelerated {
        factor: f64,
        origin: Instant,
        origin_time: OffsetDateTime,
    },
}

impl Clock {
    /// A clock running `factor` times faster than wall time (factor ≤ 1 ⇒ wall time).
    pub fn accelerated(factor: f64) -> Clock {
        if factor.is_nan() || factor <= 1.0 || !factor.is_finite() {
            return Clock::System;
        }
        Clock::Accelerated {
            factor,
            origin: Instant::now(),
            origin_time: OffsetDateTime::now_utc(),
        }
    }

    /// The current time on this clock, in whole milliseconds (the precision AWS reports).
    pub fn now(&self) -> OffsetDateTime {
        let now = self.now_precise();
        now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(now)
    }

    fn now_precise(&self) -> OffsetDateTime {
        match self {
            Clock::System => OffsetDateTime::now_utc(),
            Clock::Accelerated {
                factor,
                origin,
                origin_time,
            } => {
                let elapsed = origin.elapsed().as_secs_f64() * factor;
                *origin_time + Duration::from_secs_f64(elapsed.min(1e12))
            }
        }
    }

    /// How long, in real time, until `until` on this clock.
    pub fn real_duration_until(&self, until: OffsetDateTime) -> Duration {
        let left = (until - self.now()).as_seconds_f64().max(0.0);
        let real = match self {
            Clock::System => left,
            Clock::Accelerated { factor, .. } => left / factor,
        };
        // Waits can be a year long; tokio timers take up to ~2 years.
        Duration::from_secs_f64(real.min(60.0 * 60.0 * 24.0 * 366.0))
    }

    /// Sleeps until `until` on this clock.
    pub async fn sleep_until(&self, until: OffsetDateTime) {
        loop {
            let real = self.real_duration_until(until);
            if real.is_zero() {
                return;
            }
            tokio::time::sleep(real).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerated_clock_shrinks_real_waits() {
        let clock = Clock::accelerated(1000.0);
        let until = clock.now() + Duration::from_secs(60);
        let real = clock.real_duration_until(until);
        assert!(real <= Duration::from_millis(60), "{real:?}");
        assert!(real >= Duration::from_millis(50), "{real:?}");
    }

    #[test]
    fn factor_below_one_is_wall_time() {
        assert!(matches!(Clock::accelerated(0.5), Clock::System));
        assert!(matches!(Clock::accelerated(f64::NAN), Clock::System));
    }

    #[tokio::test]
    async fn sleep_until_past_returns_at_once() {
        let clock = Clock::System;
        clock
            .sleep_until(clock.now() - Duration::from_secs(5))
            .await;
    }
}
