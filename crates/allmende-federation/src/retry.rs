//! When a failed delivery is tried again: the retry policy, as pure
//! functions of the attempt count, the peer's answer and the clock, so it
//! can be tested without waiting.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

/// How deliveries are paced and when peers count as unreachable.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// Deliveries in flight at once in this process, over all peers.
    pub concurrency: usize,
    /// Deliveries in flight at once to one host, per process.
    pub per_host: usize,
    /// Wait before the first retry; doubled for each further one.
    pub retry_base: Duration,
    /// Longest wait between retries.
    pub retry_max: Duration,
    /// Longest wait a peer's `Retry-After` may ask for.
    pub retry_after_max: Duration,
    /// Attempts of one delivery before it is dead (kept for operators).
    pub max_attempts: i64,
    /// A peer failing this long without a break is unreachable: its
    /// deliveries pause until it answers again.
    pub unreachable_after: Duration,
    /// Deliveries paused this long (their peer unreachable all along) are
    /// given up: dead.
    pub paused_expiry: Duration,
    /// Dead work is deleted after this.
    pub dead_retention: Duration,
    /// How often an unreachable peer is asked whether it is back.
    pub probe_interval: Duration,
    /// How long a worker owns a claimed delivery; a process that dies
    /// holding claims loses them after this.
    pub lease: Duration,
    /// How often a worker looks for work made by other processes (and
    /// retries that became due).
    pub poll_interval: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            concurrency: 64,
            per_host: 8,
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(60 * 60),
            retry_after_max: Duration::from_secs(24 * 60 * 60),
            // 10 s doubling to the hourly maximum: about 41 hours of tries,
            // longer than a peer may fail before it counts as unreachable.
            max_attempts: 50,
            unreachable_after: Duration::from_secs(24 * 60 * 60),
            paused_expiry: Duration::from_secs(30 * 24 * 60 * 60),
            dead_retention: Duration::from_secs(30 * 24 * 60 * 60),
            probe_interval: Duration::from_secs(60 * 60),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The peer refused the request itself (a 4xx other than 408 and 429):
    /// sending it again would be refused again.
    Refused(String),
    /// Worth another try: network errors, 5xx, 408, 429 (with the wait the
    /// peer asked for, if it did).
    Failed {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// Classifies a peer's answer.
pub fn outcome(status: StatusCode, retry_after: Option<Duration>) -> Outcome {
    if status.is_success() {
        Outcome::Delivered
    } else if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        Outcome::Failed {
            reason: format!("status {status}"),
            retry_after,
        }
    } else {
        Outcome::Refused(format!("status {status}"))
    }
}

/// The wait before retry number `attempts_before + 1`: `retry_base`
/// doubled per earlier failure, capped at `retry_max`, plus up to a quarter
/// of jitter (`jitter` in 0..1) so retries to one peer spread out.
pub fn backoff(settings: &DeliverySettings, attempts_before: i64, jitter: f64) -> Duration {
    let doublings = u32::try_from(attempts_before.clamp(0, 30)).unwrap_or(30);
    let wait = settings
        .retry_base
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(settings.retry_max);
    let jitter = wait.mul_f64(jitter.clamp(0.0, 1.0) * 0.25);
    (wait + jitter).min(settings.retry_max)
}

/// When to try a failed delivery again: after the backoff, or later if the
/// peer asked for more with `Retry-After` (bounded by `retry_after_max`).
pub fn next_attempt(
    settings: &DeliverySettings,
    attempts_before: i64,
    retry_after: Option<Duration>,
    now: DateTime<Utc>,
    jitter: f64,
) -> DateTime<Utc> {
    let mut wait = backoff(settings, attempts_before, jitter);
    if let Some(asked) = retry_after {
        wait = wait.max(asked.min(settings.retry_after_max));
    }
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

/// Reads `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> DeliverySettings {
        DeliverySettings {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            ..DeliverySettings::default()
        }
    }

    #[test]
    fn first_retry_within_seconds_then_doubling_up_to_the_cap() {
        let s = settings();
        assert_eq!(backoff(&s, 0, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(&s, 1, 0.0), Duration::from_secs(20));
        assert_eq!(backoff(&s, 5, 0.0), Duration::from_secs(320));
        assert_eq!(backoff(&s, 9, 0.0), Duration::from_secs(3600));
        assert_eq!(backoff(&s, 10_000, 1.0), Duration::from_secs(3600));
        // Jitter adds at most a quarter.
        assert_eq!(backoff(&s, 0, 1.0), Duration::from_millis(12_500));
        assert_eq!(backoff(&s, 0, 7.0), Duration::from_millis(12_500));
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(outcome(StatusCode::ACCEPTED, None), Outcome::Delivered);
        for status in [
            StatusCode::BAD_REQUEST,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
            StatusCode::GONE,
        ] {
            assert!(
                matches!(outcome(status, None), Outcome::Refused(_)),
                "{status}"
            );
        }
        for status in [
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            assert!(
                matches!(outcome(status, None), Outcome::Failed { .. }),
                "{status}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let s = settings();
        let now = Utc::now();
        // Longer than the backoff: the peer's wish wins.
        let at = next_attempt(&s, 0, Some(Duration::from_secs(120)), now, 0.0);
        assert_eq!(at - now, chrono::Duration::seconds(120));
        // Shorter than the backoff: the backoff stays.
        let at = next_attempt(&s, 2, Some(Duration::from_secs(1)), now, 0.0);
        assert_eq!(at - now, chrono::Duration::seconds(40));
        // Absurd wishes are capped.
        let at = next_attempt(&s, 0, Some(Duration::from_secs(10_000_000)), now, 0.0);
        assert_eq!(at - now, chrono::Duration::hours(24));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap_or_default();
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 10:02:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    /// The schedule, followed on a paused tokio clock: a delivery that fails
    /// five times is retried after 10, 20, 40, 80 and 160 s — 310 s in all —
    /// and the test takes no real time.
    #[tokio::test(start_paused = true)]
    async fn schedule_on_a_paused_clock() {
        let s = settings();
        let start = tokio::time::Instant::now();
        let wall = Utc::now();
        let mut attempts = 0;
        let mut retried_at = Vec::new();
        while attempts < 5 {
            let now = wall + chrono::Duration::from_std(start.elapsed()).unwrap_or_default();
            let at = next_attempt(&s, attempts, None, now, 0.0);
            let wait = (at - now).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            attempts += 1;
            retried_at.push(start.elapsed().as_secs());
        }
        assert_eq!(retried_at, vec![10, 30, 70, 150, 310]);
    }
}
