//! Connections without a server: lock order, the environment's keys, deployment names.
#![allow(clippy::unwrap_used)]
use std::sync::LazyLock;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use super::models::check_deployment_name;
use super::*;
use crate::failure::{ApiFailure, RawFailure};
use crate::protocol::ConnectParams;
use crate::protocol::ModelKind;
use crate::providers::{BaseUrl, ChatRequest, OpenedChat, Provider, ProviderLinks};
use crate::secrets::MemoryStore;

/// Validation waits until the test lets it go, so a disconnect can arrive mid-connect.
static RELEASE: LazyLock<Notify> = LazyLock::new(Notify::new);

struct Slow;

static SPEC: ProviderSpec = ProviderSpec {
    id: "slow",
    name: "Slow",
    base_url: BaseUrl::Fixed {
        default: "https://slow.example/v1",
        env: "SIDEKICK_TEST_SLOW_BASE_URL",
    },
    requires_key: true,
    supports_organization: false,
    env_key_var: Some("SLOW_API_KEY"),
    key_placeholder: None,
    model_kind: ModelKind::Model,
    suggested_models: &[],
    links: ProviderLinks {
        api_keys: None,
        billing: None,
        organization: None,
        rate_limits: None,
        status: None,
    },
    price_names: crate::prices::PriceNames {
        prefix: None,
        vendor_prefixed: false,
    },
    otel_name: "slow",
};

impl Provider for Slow {
    fn spec(&self) -> &'static ProviderSpec {
        &SPEC
    }
    fn list_models<'a>(
        &'a self,
        _call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async { Ok(Vec::new()) }.boxed()
    }
    fn validate<'a>(
        &'a self,
        _call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async {
            RELEASE.notified().await;
            Ok(Vec::new())
        }
        .boxed()
    }
    fn open_chat<'a>(
        &'a self,
        _call: &'a Call<'a>,
        _request: &'a ChatRequest<'a>,
    ) -> BoxFuture<'a, Result<OpenedChat, ProviderError>> {
        async { Err(ProviderError::StreamInterrupted("no chats here".into())) }.boxed()
    }
    fn classify(&self, raw: &RawFailure<'_>) -> ApiFailure {
        raw.generic()
    }
}

fn connections(
    env: impl Fn(&str) -> Option<String>,
) -> (
    Arc<Connections>,
    Arc<MemoryStore>,
    mpsc::UnboundedReceiver<ProvidersState>,
) {
    let store = Arc::new(MemoryStore::default());
    let (tx, rx) = mpsc::unbounded_channel();
    let registry = Registry::of(vec![Entry {
        provider: &Slow,
        default_base_url: Some("https://slow.example/v1".into()),
    }]);
    let stores = Stores {
        keychain: store.clone(),
        client: Arc::new(MemoryStore::default()),
    };
    let c = Connections::new(registry, env, stores, None, StateFile::default(), tx);
    (Arc::new(c), store, rx)
}

fn connect_params(key: &str) -> ConnectParams {
    ConnectParams {
        provider: "slow".into(),
        api_key: Some(key.into()),
        base_url: None,
        organization: None,
        project: None,
    }
}

#[tokio::test]
async fn a_disconnect_during_validation_waits_and_wins() {
    let (c, store, mut announced) = connections(|_| None);
    let http = Http::default();
    let settings = Settings::default();
    let connecting = {
        let (c, http, settings) = (c.clone(), http.clone(), settings.clone());
        tokio::spawn(async move {
            c.connect(connect_params("sk-slow-0000000000WXYZ"), &http, &settings)
                .await
        })
    };
    // Let the connect reach its validation, then ask to disconnect.
    while c.provider_locks["slow"].try_lock().is_ok() {
        tokio::task::yield_now().await;
    }
    let mut disconnecting = Box::pin(c.disconnect("slow", async {}));
    for _ in 0..100 {
        tokio::task::yield_now().await;
        assert!(
            (&mut disconnecting).now_or_never().is_none(),
            "the disconnect must wait for the connect's validation"
        );
    }
    RELEASE.notify_one();
    connecting.await.unwrap().unwrap();
    let result = disconnecting.await.unwrap();
    assert!(!result.connected);
    assert!(store.is_empty(), "no key outlives the disconnect");
    let snapshot = c.snapshot().await;
    assert!(!snapshot.providers[0].connected);
    // Announced in the order they happened: connected, then disconnected.
    assert!(announced.recv().await.unwrap().providers[0].connected);
    assert!(!announced.recv().await.unwrap().providers[0].connected);
}

#[tokio::test]
async fn the_environment_key_wins_and_nothing_is_stored() {
    let (c, store, _rx) =
        connections(|v| (v == "SLOW_API_KEY").then(|| "sk-from-env-00000000ABCD".into()));
    let info = &c.snapshot().await.providers[0];
    assert!(info.connected);
    assert_eq!(info.key_source, Some(KeySource::Env));
    assert_eq!(info.key_hint.as_deref(), Some("sk-…ABCD"));
    assert_eq!(info.env_key_var.as_deref(), Some("SLOW_API_KEY"));
    let conn = c.connection("slow").await.unwrap();
    assert_eq!(conn.key_source, Some(KeySource::Env));
    assert!(store.is_empty());
    let e = c.connection("nope").await.unwrap_err();
    assert!(matches!(e, ConnectionError::Params(m) if m.contains("slow")));
}

#[test]
fn deployment_names() {
    assert!(check_deployment_name("gpt-4o-mini_prod.2").is_ok());
    for bad in ["a/b", "a b", "x?api-version=1", &"x".repeat(65)] {
        assert!(check_deployment_name(bad).is_err(), "{bad}");
    }
}
