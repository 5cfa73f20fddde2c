//! The one retry policy every provider call follows (chats, organization reads): backon's
//! exponential backoff with jitter from 0.5 s up to `retry.maxWaitMs`, `retry.maxAttempts`
//! attempts in all, and the provider's own wait when it says one — unless that wait is longer
//! than the user allows, in which case the failure is the answer, with when to try again.

use std::time::Duration;

use backon::ExponentialBuilder;

use crate::failure::ProviderError;
use crate::settings::Settings;

pub fn policy(settings: &Settings) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(settings.retry_max_wait.max(Duration::from_millis(1)))
        .with_max_times(settings.retry_max_attempts.saturating_sub(1) as usize)
}

/// The wait before the next attempt after `e`; None: do not retry.
pub fn wait(e: &ProviderError, backoff: Option<Duration>, max_wait: Duration) -> Option<Duration> {
    let backoff = backoff?;
    match e.retry_after() {
        Some(hint) if hint > max_wait => None,
        Some(hint) => Some(hint.max(Duration::from_millis(50))),
        None => Some(backoff),
    }
}
