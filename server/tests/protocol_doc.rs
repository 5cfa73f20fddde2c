//! Keeps `docs/protocol.md` and `protocol.rs` in step: every method, notification, client
//! request and guidance kind the code defines is documented, and so is every provider.

use sidekick_server::protocol::{GuidanceKind, METHODS, SERVER_MESSAGES};
use sidekick_server::providers::Registry;

#[test]
fn every_protocol_name_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .expect("docs/protocol.md");
    for name in METHODS.iter().chain(SERVER_MESSAGES.iter()) {
        assert!(
            doc.contains(&format!("`{name}")),
            "{name} is not in docs/protocol.md"
        );
    }
    for kind in GuidanceKind::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", kind.as_str())),
            "guidance kind {kind} has no row in docs/protocol.md"
        );
    }
    // Every provider, the demo included (its variable set), has its row.
    let registry = Registry::with_env(|var| {
        (var == "SIDEKICK_DEMO_BASE_URL").then(|| "http://127.0.0.1:1/v1".into())
    });
    for entry in registry.entries() {
        let spec = entry.spec();
        assert!(
            doc.contains(&format!("| `{}` |", spec.id)),
            "provider {} has no row in docs/protocol.md",
            spec.id
        );
        if let Some(var) = spec.env_key_var {
            assert!(doc.contains(var), "{var} is not in docs/protocol.md");
        }
        if let Some(api) = entry.provider.organization() {
            let var = api.admin_key_var();
            assert!(doc.contains(var), "{var} is not in docs/protocol.md");
        }
    }
}
