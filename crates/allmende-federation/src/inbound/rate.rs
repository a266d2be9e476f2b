//! Per-peer limits on inbox requests: each sending host (the host of the
//! signature's key, counted once the signature verified) gets a number of
//! requests per minute; beyond it the
//! inbox answers 429 with `Retry-After`, which well-behaved senders honour
//! by retrying later. Kept in memory per process: a limit to protect this
//! process, not an accounting record.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::FederationError;

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked peers, windows that have ended are forgotten.
const TRACKED: usize = 10_000;

pub(crate) struct PeerRate {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl PeerRate {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::default(),
        }
    }

    /// Counts one request of `peer`; refused when its minute is full.
    pub(crate) fn check(&self, peer: &str) -> Result<(), FederationError> {
        if self.per_minute == 0 {
            return Ok(()); // no limit
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > TRACKED {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            if windows.len() > TRACKED {
                // Still full: start over rather than grow without bound.
                windows.clear();
            }
        }
        let (start, count) = windows.entry(peer.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_minute {
            let wait = WINDOW.saturating_sub(now.duration_since(*start));
            return Err(FederationError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_peer_has_its_own_minute() {
        let rate = PeerRate::new(3);
        for _ in 0..3 {
            assert!(rate.check("a.example").is_ok());
        }
        match rate.check("a.example") {
            Err(FederationError::RateLimited { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("{other:?}"),
        }
        assert!(
            rate.check("b.example").is_ok(),
            "another peer is not affected"
        );
        assert!(PeerRate::new(0).check("a.example").is_ok(), "0: no limit");
    }
}
