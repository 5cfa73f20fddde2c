//! Arbitrary JSON as `initializationOptions` / `didChangeConfiguration` settings: no panic,
//! and whatever is merged stays in its documented bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sidekick_server::settings::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let (merged, _warnings) = Settings::default().merged(Some(&value));
    assert!(merged.retry_max_attempts >= 1);
    let (again, _) = merged.merged(Some(&value));
    assert_eq!(again, merged, "merging twice changes nothing more");
});
