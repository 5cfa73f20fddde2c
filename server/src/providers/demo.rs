//! The local demo: the project's fake provider server, offered only when
//! `SIDEKICK_DEMO_BASE_URL` is set (by `scripts/run.sh --demo`), so a newcomer without a key
//! can walk the whole flow. Its name says what it is: nobody should mistake it for a real
//! model. It speaks the compatible server's wire.

use super::compatible::Compatible;
use super::{BaseUrl, ProviderLinks, ProviderSpec};
use crate::prices::PriceNames;
use crate::protocol::ModelKind;

pub static DEMO: Compatible = Compatible::with_spec(&SPEC);

static SPEC: ProviderSpec = ProviderSpec {
    id: "demo",
    name: "Local demo (fake OpenAI server)",
    base_url: BaseUrl::FromEnv {
        env: "SIDEKICK_DEMO_BASE_URL",
    },
    requires_key: false,
    supports_organization: false,
    env_key_var: None,
    key_placeholder: None,
    model_kind: ModelKind::Model,
    suggested_models: &["gpt-4o-mini"],
    links: ProviderLinks {
        api_keys: None,
        billing: None,
        organization: None,
        rate_limits: None,
        status: None,
    },
    price_names: PriceNames {
        prefix: None,
        vendor_prefixed: false,
    },
    otel_name: "demo",
};
