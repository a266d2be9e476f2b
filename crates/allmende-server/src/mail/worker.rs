//! The background worker of a server process: turns notification events
//! into mails, sends the daily digests, and sends what is queued. Several
//! processes on one PostgreSQL database share the work through leases.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::{compose, notify};
use crate::state::AppState;

/// Attempts before a mail is given up (about 12 hours with the default
/// waits); given-up mails stay visible to operators.
pub const MAX_ATTEMPTS: i64 = 20;
/// Digests go out once a day at this hour (UTC), with what came before
/// it.
pub const DIGEST_HOUR_UTC: u32 = 6;

/// Runs until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.config.delivery_poll_ms.max(100));
    loop {
        if let Err(e) = round(&state, Utc::now()).await {
            tracing::warn!(error = %e, "mail worker round failed; retrying");
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = state.mailer.woken() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// The wait before attempt `attempts + 1`: the delivery queue's first
/// wait (`delivery_retry_ms`), doubling, at most `delivery_retry_max_secs`.
pub fn backoff(attempts: i64, first_ms: u64, max_secs: u64) -> chrono::Duration {
    let first = i64::try_from(first_ms).unwrap_or(i64::MAX);
    let ms = first.saturating_mul(1_i64 << attempts.clamp(0, 30));
    // Never more than a day, whatever the configuration says.
    let max = i64::try_from(max_secs.saturating_mul(1000))
        .unwrap_or(i64::MAX)
        .min(86_400_000);
    chrono::Duration::milliseconds(ms.min(max))
}

/// One pass over the work that is due.
pub async fn round(state: &AppState, now: DateTime<Utc>) -> Result<(), allmende_store::StoreError> {
    let store = &state.store;
    // Events first: without SMTP they are consumed without effect.
    loop {
        let events = store
            .notifications()
            .claim(now, chrono::Duration::seconds(60), 50)
            .await?;
        if events.is_empty() {
            break;
        }
        for e in events {
            if state.mailer.enabled() {
                notify::dispatch(state, &e.event, now).await?;
            }
            store.notifications().done(e.id).await?;
        }
    }
    if !state.mailer.enabled() {
        return Ok(());
    }
    let digest_time = now
        .date_naive()
        .and_hms_opt(DIGEST_HOUR_UTC, 0, 0)
        .map(|t| t.and_utc());
    if let Some(since) = digest_time.filter(|t| now >= *t) {
        let site = state.config.public_url.host_str().unwrap_or("").to_owned();
        for user in store.notifications().digests_due(since).await? {
            let entries = store
                .notifications()
                .take_digest(user.id, since, now)
                .await?;
            if entries.is_empty() {
                continue;
            }
            let unsubscribe = notify::unsubscribe_url(state, &user).await?;
            let mail = compose::digest(user.email.as_str(), &entries, &site, unsubscribe);
            store.mail().enqueue(&mail, now).await?;
        }
    }
    loop {
        let due = store
            .mail()
            .claim(now, chrono::Duration::seconds(120), 20)
            .await?;
        if due.is_empty() {
            break;
        }
        for queued in due {
            match state.mailer.send(&queued.mail).await {
                Ok(()) => store.mail().sent(queued.id).await?,
                Err(error) => {
                    let retry = (queued.attempts + 1 < MAX_ATTEMPTS).then(|| {
                        now + backoff(
                            queued.attempts,
                            state.config.delivery_retry_ms,
                            state.config.delivery_retry_max_secs,
                        )
                    });
                    tracing::warn!(%error, attempts = queued.attempts + 1, given_up = retry.is_none(), "mail not sent");
                    store.mail().failed(queued.id, &error, retry, now).await?;
                }
            }
        }
    }
    let retention =
        chrono::Duration::days(i64::try_from(state.config.dead_retention_days).unwrap_or(30));
    store.mail().purge_dead(now - retention).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn waits_double_up_to_the_limit() {
        assert_eq!(backoff(0, 10_000, 3600).num_seconds(), 10);
        assert_eq!(backoff(1, 10_000, 3600).num_seconds(), 20);
        assert_eq!(backoff(8, 10_000, 3600).num_seconds(), 2560);
        assert_eq!(backoff(9, 10_000, 3600).num_seconds(), 3600);
        assert_eq!(backoff(19, 10_000, 3600).num_seconds(), 3600);
        assert_eq!(backoff(62, u64::MAX, u64::MAX).num_hours(), 24);
    }
}
