//! Base-URL and header policy: what a base URL, an organization or a project ID may be before
//! anything is sent. A leaf: it imports nothing of ours, so every layer can use it.

/// `https://…` anywhere, `http://…` only on this machine: a key never crosses a network in
/// clear text. Trims spaces and trailing slashes; refuses credentials in the URL.
pub fn normalize_base_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url =
        url::Url::parse(trimmed).map_err(|e| format!("baseUrl: “{trimmed}” is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&url) {
                return Err(format!(
                    "baseUrl: plain http:// is only allowed for localhost; use https:// for {} so the key is not sent in clear text",
                    url.host_str().unwrap_or("this host")
                ));
            }
        }
        other => {
            return Err(format!(
                "baseUrl: unsupported scheme “{other}”; use https://"
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "baseUrl: credentials in the URL are not allowed; use the API key field".into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("baseUrl: a base URL has no query (?…) or fragment (#…)".into());
    }
    Ok(trimmed.to_string())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The host of a base URL, for logs and guidance ("api.openai.com").
pub fn host(base_url: &str) -> String {
    url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| base_url.to_string())
}

/// Organization and project IDs go into headers: trimmed, empty means none, and only
/// characters a header can carry.
pub fn header_value(field: &str, raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{field}: may contain only printable ASCII characters without spaces"
        ));
    }
    if v.len() > 256 {
        return Err(format!("{field}: longer than 256 characters"));
    }
    Ok(Some(v.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            normalize_base_url(" https://api.example.com/v1/ ").as_deref(),
            Ok("https://api.example.com/v1")
        );
        assert!(normalize_base_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(normalize_base_url("http://localhost:11434/v1").is_ok());
        assert!(normalize_base_url("http://[::1]:1/v1").is_ok());
        let e = normalize_base_url("http://example.com/v1").unwrap_err();
        assert!(e.starts_with("baseUrl:") && e.contains("clear text"), "{e}");
        assert!(normalize_base_url("ftp://x").is_err());
        assert!(normalize_base_url("not a url").is_err());
        assert!(normalize_base_url("https://user:pw@example.com").is_err());
        assert!(normalize_base_url("https://x.openai.azure.com/?api-version=1").is_err());
    }

    #[test]
    fn headers_and_hosts() {
        assert_eq!(header_value("organization", Some("  ")), Ok(None));
        assert_eq!(
            header_value("organization", Some(" org-1 ")),
            Ok(Some("org-1".into()))
        );
        assert!(header_value("project", Some("a b")).is_err());
        assert_eq!(host("https://api.anthropic.com/v1"), "api.anthropic.com");
    }
}
