//! Azure OpenAI, v1 API: the user's resource endpoint (`https://NAME.openai.azure.com` or
//! `https://NAME.cognitiveservices.azure.com`), the key in the `api-key` header (never
//! `Authorization`), `{endpoint}/openai/v1/chat/completions` with `model` = the deployment
//! name the user typed. Its content filter is a failure of its own, and its model list only
//! suggests what a deployment might be.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::openai_wire::{self, Auth, Dialect, OPENAI, TokenLimit};
use super::{BaseUrl, Call, ChatRequest, OpenedChat, Provider, ProviderLinks, ProviderSpec};
use crate::failure::{ApiFailure, Category, ProviderError, RawFailure};
use crate::http::Operation;
use crate::prices::PriceNames;
use crate::protocol::{ModelInfo, ModelKind};

pub struct Azure;

static SPEC: ProviderSpec = ProviderSpec {
    id: "azure",
    name: "Azure OpenAI",
    base_url: BaseUrl::Editable {
        default: None,
        placeholder: "https://NAME.openai.azure.com",
        // The variable the OpenAI SDKs' Azure clients read.
        env: Some("AZURE_OPENAI_ENDPOINT"),
    },
    requires_key: true,
    supports_organization: false,
    env_key_var: Some("AZURE_OPENAI_API_KEY"),
    key_placeholder: Some("32-character key from Keys and Endpoint"),
    model_kind: ModelKind::Deployment,
    suggested_models: &[],
    links: ProviderLinks {
        // Keys live under each resource's "Keys and Endpoint"; the list of resources leads there.
        api_keys: Some("https://portal.azure.com/#browse/Microsoft.CognitiveServices%2Faccounts"),
        billing: Some(
            "https://portal.azure.com/#view/Microsoft_Azure_CostManagement/Menu/~/overview",
        ),
        organization: None,
        rate_limits: Some("https://learn.microsoft.com/azure/ai-foundry/openai/quotas-limits"),
        status: Some("https://azure.status.microsoft/status"),
    },
    price_names: PriceNames {
        prefix: Some("azure/"),
        vendor_prefixed: false,
    },
    otel_name: "azure.ai.openai",
};

pub(super) const DIALECT: Dialect = Dialect {
    auth: Auth::Header("api-key"),
    chat_path: "/openai/v1/chat/completions",
    models_path: "/openai/v1/models",
    token_limit: TokenLimit::CompletionTokens,
    organization_headers: false,
    content_filter_fails: true,
    classify_event,
    ..OPENAI
};

/// The resource endpoint from what Microsoft's pages show: a v1 base URL
/// (`…/openai/v1/`), a Foundry target URI (`…/openai/deployments/NAME/chat/completions?
/// api-version=…`) or the endpoint itself all become `https://NAME.openai.azure.com`.
fn resource_endpoint(typed: &str) -> String {
    let typed = typed.trim();
    let Ok(mut url) = url::Url::parse(typed) else {
        return typed.to_string(); // the URL policy says what is wrong with it
    };
    let path = url.path().to_string();
    let cut = path
        .to_ascii_lowercase()
        .find("/openai")
        .unwrap_or(path.len());
    url.set_path(&path[..cut]);
    url.set_query(None);
    url.set_fragment(None);
    url.as_str().trim_end_matches('/').to_string()
}

impl Provider for Azure {
    fn spec(&self) -> &'static ProviderSpec {
        &SPEC
    }

    fn base_url_from(&self, typed: &str) -> String {
        resource_endpoint(typed)
    }

    fn list_models<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderError>> {
        async move {
            let models =
                openai_wire::list_models(call, &DIALECT, Operation::Models, &|r| self.classify(r))
                    .await?;
            Ok(super::by_name(models))
        }
        .boxed()
    }

    fn open_chat<'a>(
        &'a self,
        call: &'a Call<'a>,
        request: &'a ChatRequest<'a>,
    ) -> BoxFuture<'a, Result<OpenedChat, ProviderError>> {
        async move { openai_wire::open_chat(call, &DIALECT, request, &|r| self.classify(r)).await }
            .boxed()
    }

    fn classify(&self, raw: &RawFailure<'_>) -> ApiFailure {
        let mut f = openai_wire::classify(raw);
        refine(
            &mut f,
            serde_json::from_slice::<Value>(raw.body).ok().as_ref(),
        );
        if f.category == Category::RateLimited && f.retry_after.is_none() {
            f.retry_after = f.message.as_deref().and_then(retry_after_in_message);
        }
        f
    }
}

fn classify_event(v: &Value) -> ApiFailure {
    let mut f = openai_wire::classify_event(v);
    refine(&mut f, Some(v));
    f
}

/// Azure's own codes on top of OpenAI's reading.
fn refine(f: &mut ApiFailure, body: Option<&Value>) {
    let code = f.code.as_deref().unwrap_or_default();
    let inner = body
        .and_then(|b| b.pointer("/error/innererror/code"))
        .and_then(Value::as_str);
    if code == "DeploymentNotFound" {
        f.category = Category::ModelNotFound;
    } else if code == "content_filter" || inner == Some("ResponsibleAIPolicyViolation") {
        f.category = Category::ContentFiltered;
    }
}

/// "… Please retry after 6 seconds." in Azure's 429 messages.
fn retry_after_in_message(message: &str) -> Option<std::time::Duration> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("retry after ")? + "retry after ".len();
    let digits: String = lower[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let secs: u64 = digits.parse().ok()?;
    lower[at + digits.len()..]
        .trim_start()
        .starts_with("second")
        .then(|| std::time::Duration::from_secs(secs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn classify(status: u16, body: &str) -> ApiFailure {
        Azure.classify(&RawFailure {
            status,
            headers: &HeaderMap::new(),
            body: body.as_bytes(),
        })
    }

    #[test]
    fn the_endpoint_is_taken_from_the_urls_microsoft_shows() {
        for typed in [
            "https://res.openai.azure.com",
            "https://res.openai.azure.com/",
            " https://res.openai.azure.com/openai/v1/ ",
            "https://res.openai.azure.com/openai/v1/chat/completions",
            "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2025-01-01-preview",
            "https://res.openai.azure.com/OpenAI",
        ] {
            assert_eq!(
                resource_endpoint(typed),
                "https://res.openai.azure.com",
                "{typed}"
            );
        }
        assert_eq!(
            resource_endpoint("https://gw.example.com/team-a/openai/v1"),
            "https://gw.example.com/team-a",
            "a gateway's own path stays"
        );
        assert_eq!(resource_endpoint("not a url"), "not a url");
    }

    #[test]
    fn azure_codes() {
        let f = classify(
            404,
            r#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}"#,
        );
        assert_eq!(f.category, Category::ModelNotFound);
        let f = classify(
            401,
            r#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}"#,
        );
        assert_eq!(f.category, Category::InvalidKey);
        let f = classify(
            400,
            r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}"#,
        );
        assert_eq!(f.category, Category::ContentFiltered);
        let f = classify(
            429,
            r#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."}}"#,
        );
        assert_eq!(f.category, Category::RateLimited);
        assert_eq!(f.retry_after, Some(std::time::Duration::from_secs(6)));
    }

    #[test]
    fn recorded_streams_and_errors() {
        use crate::providers::ChatEvent;
        use crate::providers::openai_wire::Decoder;
        use crate::providers::sse::decode_recorded;
        use fake_providers::fixtures::azure as fx;

        let (events, err) = decode_recorded(Decoder::new(&DIALECT), fx::STREAM_TEXT);
        assert!(err.is_none());
        assert!(events.contains(&ChatEvent::Text("Hello".into())));
        let (events, err) = decode_recorded(Decoder::new(&DIALECT), fx::STREAM_CONTENT_FILTER);
        assert!(events.contains(&ChatEvent::Text("The story begins".into())));
        assert_eq!(err.unwrap().category(), Category::ContentFiltered);
        for (f, want) in [
            (fx::DEPLOYMENT_NOT_FOUND, Category::ModelNotFound),
            (fx::INVALID_KEY, Category::InvalidKey),
            (fx::MISSING_KEY, Category::InvalidKey),
            (fx::CONTENT_FILTER, Category::ContentFiltered),
            (fx::RATE_LIMITED, Category::RateLimited),
            (fx::QUOTA, Category::RateLimited),
        ] {
            assert_eq!(classify(f.status, f.body).category, want, "{}", f.body);
        }
    }
}
