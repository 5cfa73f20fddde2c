//! Keeps `docs/protocol.md` and `protocol.rs` in step: every method, notification, client
//! request and guidance kind the code defines is documented.

use sidekick_server::protocol::{GuidanceKind, client_request, method, notification};

#[test]
fn every_protocol_name_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .expect("docs/protocol.md");
    let names = [
        method::LIST_PROVIDERS,
        method::CONNECT,
        method::LIST_MODELS,
        method::SELECT_MODEL,
        method::DISCONNECT,
        method::CHAT,
        notification::STATE_CHANGED,
        notification::CHAT_DELTA,
        notification::CHAT_STATUS,
        client_request::SECRETS_GET,
        client_request::SECRETS_STORE,
        client_request::SECRETS_DELETE,
    ];
    for name in names {
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
}
