//! The client's secret storage (VS Code's SecretStorage), reached by server → client requests.
//! Bounded by a timeout: a client that never answers must not wedge a handler.

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tower_lsp_server::Client;

use super::{ApiKey, CredentialSlot, SecretStore, SecretStoreError};
use crate::protocol::{KeySource, Request, SecretParams, SecretsDelete, SecretsGet, SecretsStore};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct ClientSecrets {
    client: Client,
}

impl ClientSecrets {
    pub fn new(client: Client) -> ClientSecrets {
        ClientSecrets { client }
    }

    /// The client-side name of a slot: `sidekick:openai@https://api.openai.com/v1`.
    fn name(slot: &CredentialSlot) -> String {
        format!("sidekick:{}", slot.account())
    }

    async fn call<R: Request<Params = SecretParams>>(
        &self,
        params: SecretParams,
    ) -> Result<R::Result, SecretStoreError> {
        let secret = params.value.clone();
        match tokio::time::timeout(CLIENT_TIMEOUT, self.client.send_request::<R>(params)).await {
            Err(_) => Err(SecretStoreError::Client(format!("{} timed out", R::METHOD))),
            // The client's words may quote what it was given: the key is masked out of them
            // before they reach a guidance or a log line.
            Ok(Err(e)) => {
                let whole = crate::untrusted::clean(&e.message, usize::MAX, true);
                let masked = super::mask_secrets(&whole, secret.as_deref());
                Err(SecretStoreError::Client(format!(
                    "{}: {}",
                    R::METHOD,
                    crate::untrusted::clean(&masked, 500, true)
                )))
            }
            Ok(Ok(v)) => Ok(v),
        }
    }
}

impl SecretStore for ClientSecrets {
    fn source(&self) -> KeySource {
        KeySource::Client
    }

    fn get<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<Option<ApiKey>, SecretStoreError>> {
        async move {
            let v = self
                .call::<SecretsGet>(SecretParams {
                    key: Self::name(slot),
                    value: None,
                })
                .await?;
            Ok(v.value.and_then(|p| ApiKey::parse(&p).ok()))
        }
        .boxed()
    }

    fn set<'a>(
        &'a self,
        slot: &'a CredentialSlot,
        key: &'a ApiKey,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>> {
        async move {
            self.call::<SecretsStore>(SecretParams {
                key: Self::name(slot),
                value: Some(key.expose().to_string()),
            })
            .await
            .map(|_| ())
        }
        .boxed()
    }

    fn delete<'a>(
        &'a self,
        slot: &'a CredentialSlot,
    ) -> BoxFuture<'a, Result<(), SecretStoreError>> {
        async move {
            self.call::<SecretsDelete>(SecretParams {
                key: Self::name(slot),
                value: None,
            })
            .await
            .map(|_| ())
        }
        .boxed()
    }
}
