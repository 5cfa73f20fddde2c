//! `fake-providers`: the fake as a standalone process for demos, end-to-end tests and benchmarks.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use fake_providers::{FakeProvider, Flavor};

const USAGE: &str = "usage: fake-providers [--flavor openai|anthropic|azure|openrouter|gemini] [--port N]
       [--key K]... [--admin-key K]... [--spend-limit USD] [--org O]... [--deployment NAME]... [--no-key] [--token-delay-ms MS] [--tokens N]

Prints `fake-providers listening on <base URL>` and serves until killed.
Put one of these in the last user message to script that reply:
  [fake:quota] [fake:rate-limit] [fake:slow] [fake:401] [fake:500] [fake:drop] [fake:markdown]";

#[derive(Debug, Default)]
struct Args {
    flavor: Flavor,
    deployments: Vec<String>,
    port: u16,
    keys: Vec<String>,
    admin_keys: Vec<String>,
    spend_limit: Option<f64>,
    orgs: Vec<String>,
    no_key: bool,
    token_delay_ms: u64,
    tokens: Option<usize>,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args::default();
    while let Some(flag) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--port" => args.port = number(&value("--port")?)?,
            "--flavor" => {
                let name = value("--flavor")?;
                args.flavor = Flavor::parse(&name).ok_or(format!("unknown flavor {name}"))?;
            }
            "--deployment" => args.deployments.push(value("--deployment")?),
            "--key" => args.keys.push(value("--key")?),
            "--admin-key" => args.admin_keys.push(value("--admin-key")?),
            "--spend-limit" => args.spend_limit = Some(number(&value("--spend-limit")?)?),
            "--org" => args.orgs.push(value("--org")?),
            "--no-key" => args.no_key = true,
            "--token-delay-ms" => args.token_delay_ms = number(&value("--token-delay-ms")?)?,
            "--tokens" => args.tokens = Some(number(&value("--tokens")?)?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("not a number: {s}"))
}

#[allow(clippy::print_stdout)]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("fake-providers: {msg}");
            }
            eprintln!("{USAGE}");
            return if msg.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let mut builder = FakeProvider::builder()
        .flavor(args.flavor)
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
        .require_key(!args.no_key)
        .allowed_orgs(args.orgs)
        .token_delay(Duration::from_millis(args.token_delay_ms))
        .triggers(true);
    if !args.keys.is_empty() {
        builder = builder.valid_keys(args.keys);
    }
    if !args.admin_keys.is_empty() {
        builder = builder.admin_keys(args.admin_keys);
    }
    builder = builder.spend_limit(args.spend_limit);
    if !args.deployments.is_empty() {
        builder = builder.deployments(args.deployments);
    }
    if let Some(tokens) = args.tokens {
        builder = builder.answer_tokens(tokens);
    }
    let fake = match builder.start().await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("fake-providers: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The one stdout line: scripts wait for it and read the port from it.
    println!("fake-providers listening on {}", fake.base_url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_flag() {
        let argv = "--port 8080 --key a --key b --org o --no-key --token-delay-ms 10 --tokens 2000 --flavor azure --deployment d1";
        let args = parse(argv.split(' ').map(str::to_owned)).unwrap_or_default();
        assert_eq!(args.port, 8080);
        assert_eq!(args.keys, ["a", "b"]);
        assert_eq!(args.orgs, ["o"]);
        assert!(args.no_key);
        assert_eq!(args.token_delay_ms, 10);
        assert_eq!(args.tokens, Some(2000));
        assert_eq!(args.flavor, Flavor::Azure);
        assert_eq!(args.deployments, ["d1"]);
        assert!(parse(["--flavor".to_owned(), "nope".to_owned()].into_iter()).is_err());
        assert!(parse(["--port".to_owned()].into_iter()).is_err());
    }
}
