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
        let outcome = round(&state, Utc::now()).await;
        let result = if outcome.is_ok() { "ok" } else { "error" };
        metrics::counter!("allmende_job_runs_total", "job" => "mail", "result" => result)
            .increment(1);
        if let Err(e) = outcome {
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

/// How many mails one claim takes, and how long it owns them: each may
/// take up to the 30-second SMTP timeout, so the lease outlasts a batch.
const MAIL_BATCH: i64 = 5;
const MAIL_LEASE_SECS: i64 = 300;

/// One pass over the work that is due: events, digests, sending. A phase
/// that fails is logged and does not keep the others from running, so
/// invitations and resets go out whatever else is wrong. `now` places the
/// digest (tests pass another day); claims and waits use the clock.
pub async fn round(state: &AppState, now: DateTime<Utc>) -> Result<(), allmende_store::StoreError> {
    let events = handle_events(state, now).await;
    if let Err(e) = &events {
        tracing::warn!(error = %e, "notification events not handled; retrying");
    }
    if !state.mailer.enabled() {
        return events;
    }
    let digests = send_digests(state, now).await;
    if let Err(e) = &digests {
        tracing::warn!(error = %e, "digests not queued; retrying");
    }
    send_queued(state).await?;
    let retention =
        chrono::Duration::days(i64::try_from(state.config.dead_retention_days).unwrap_or(30));
    state
        .store
        .mail()
        .purge_dead(Utc::now() - retention)
        .await?;
    events.and(digests)
}

/// Turns events into mails and digest entries. An event that fails stays
/// claimed until its lease runs out and is tried again then; one that
/// still fails a day later is given up (logged).
async fn handle_events(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<(), allmende_store::StoreError> {
    let store = &state.store;
    loop {
        let events = store
            .notifications()
            .claim(Utc::now(), chrono::Duration::seconds(60), 50)
            .await?;
        if events.is_empty() {
            return Ok(());
        }
        for e in events {
            if !state.mailer.enabled() {
                store.notifications().done(e.id).await?;
                continue;
            }
            match notify::dispatch(state, &e.event, now).await {
                Ok(()) => store.notifications().done(e.id).await?,
                Err(error) if Utc::now() - e.created_at > chrono::Duration::days(1) => {
                    tracing::error!(%error, event = %e.id, "notification event given up after a day of failures");
                    store.notifications().done(e.id).await?;
                }
                Err(error) => {
                    tracing::warn!(%error, event = %e.id, "notification event failed; retrying after its lease");
                }
            }
        }
    }
}

/// The day's digests, at [`DIGEST_HOUR_UTC`], with what came before it.
async fn send_digests(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<(), allmende_store::StoreError> {
    let Some(until) = now
        .date_naive()
        .and_hms_opt(DIGEST_HOUR_UTC, 0, 0)
        .map(|t| t.and_utc())
        .filter(|t| now >= *t)
    else {
        return Ok(());
    };
    let site = state.config.public_url.host_str().unwrap_or("").to_owned();
    for user in state.store.notifications().digests_due(until).await? {
        let unsubscribe = notify::unsubscribe_url(state, &user).await?;
        state
            .store
            .notifications()
            .send_digest(user.id, until, Utc::now(), |entries| {
                compose::digest(user.email.as_str(), entries, &site, unsubscribe)
            })
            .await?;
    }
    Ok(())
}

/// Sends what is due, a few at a time.
async fn send_queued(state: &AppState) -> Result<(), allmende_store::StoreError> {
    let store = &state.store;
    loop {
        let due = store
            .mail()
            .claim(
                Utc::now(),
                chrono::Duration::seconds(MAIL_LEASE_SECS),
                MAIL_BATCH,
            )
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        for queued in due {
            match state.mailer.send(&queued.mail).await {
                Ok(()) => {
                    metrics::counter!("allmende_mail_total", "result" => "sent").increment(1);
                    store.mail().sent(queued.id).await?;
                }
                Err(error) => {
                    let failed_at = Utc::now();
                    let retry = (queued.attempts + 1 < MAX_ATTEMPTS).then(|| {
                        failed_at
                            + backoff(
                                queued.attempts,
                                state.config.delivery_retry_ms.max(1000),
                                state.config.delivery_retry_max_secs,
                            )
                    });
                    tracing::warn!(%error, attempts = queued.attempts + 1, given_up = retry.is_none(), "mail not sent");
                    let result = if retry.is_some() { "retried" } else { "dead" };
                    metrics::counter!("allmende_mail_total", "result" => result).increment(1);
                    store
                        .mail()
                        .failed(queued.id, &error, retry, failed_at)
                        .await?;
                }
            }
        }
    }
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
