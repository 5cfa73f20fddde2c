//! Drives the real `sidekick-server` binary over stdio, as an editor would: LSP framing,
//! requests matched to responses by id, notifications recorded in arrival order.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lsp_server::{Message, RequestId, Response, ResponseError};
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

pub const VALID_KEY: &str = "sk-fake-valid-0000WXYZ";

/// Everything a test can observe of one sidecar process.
pub struct Sidecar {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    next_id: AtomicI64,
    pending: Arc<Mutex<HashMap<RequestId, oneshot::Sender<Response>>>>,
    notifications: Arc<Mutex<Vec<(String, Value)>>>,
    notified: Arc<Notify>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stdout_bytes: Arc<Mutex<Vec<u8>>>,
    unparsed: Arc<Mutex<Vec<String>>>,
    pub home: PathBuf,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub home: PathBuf,
    pub keyring_service: String,
    pub openai_base_url: Option<String>,
    pub env: Vec<(String, String)>,
    pub remove_env: Vec<String>,
    pub init: Value,
    /// Answer `sidekick/secrets/*` from an in-memory map, as VS Code's SecretStorage would.
    pub client_secrets: Option<Arc<Mutex<HashMap<String, String>>>>,
}

impl Options {
    pub fn new(home: &Path) -> Options {
        Options {
            home: home.to_path_buf(),
            keyring_service: unique_service(),
            openai_base_url: None,
            env: Vec::new(),
            remove_env: Vec::new(),
            init: json!({ "retry": { "maxAttempts": 3, "maxWaitMs": 5000 } }),
            client_secrets: None,
        }
    }
}

pub fn unique_service() -> String {
    static N: AtomicI64 = AtomicI64::new(0);
    format!(
        "sidekick-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

impl Sidecar {
    /// Spawns the binary and completes `initialize`/`initialized`.
    pub async fn start(opts: Options) -> Sidecar {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sidekick-server"));
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("SIDEKICK_HOME", &opts.home)
            .env("SIDEKICK_KEYRING_SERVICE", &opts.keyring_service)
            .env("SIDEKICK_LOG", "debug")
            .env_remove("OPENAI_API_KEY");
        if let Some(url) = &opts.openai_base_url {
            cmd.env("SIDEKICK_OPENAI_BASE_URL", url);
        }
        for k in &opts.remove_env {
            cmd.env_remove(k);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn sidekick-server");
        let stdin = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr_buf = Arc::new(Mutex::new(Vec::new()));
        {
            let buf = stderr_buf.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                loop {
                    match std::io::Read::read(&mut stderr, &mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.lock().unwrap().extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
        let pending: Arc<Mutex<HashMap<RequestId, oneshot::Sender<Response>>>> = Default::default();
        let notifications: Arc<Mutex<Vec<(String, Value)>>> = Default::default();
        let notified = Arc::new(Notify::new());
        let stdout_bytes = Arc::new(Mutex::new(Vec::new()));
        let unparsed: Arc<Mutex<Vec<String>>> = Default::default();
        {
            let unparsed = unparsed.clone();
            let (pending, notifications, notified, stdin, secrets, raw) = (
                pending.clone(),
                notifications.clone(),
                notified.clone(),
                stdin.clone(),
                opts.client_secrets.clone(),
                stdout_bytes.clone(),
            );
            std::thread::spawn(move || {
                let mut reader = BufReader::new(Tee {
                    inner: stdout,
                    copy: raw,
                });
                loop {
                    let msg = match Message::read(&mut reader) {
                        Ok(Some(m)) => m,
                        Ok(None) => break,
                        // The frame was consumed; keep reading (e.g. a parse error answer
                        // with `"id": null`, which lsp_server's types cannot hold).
                        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                            unparsed.lock().unwrap().push(e.to_string());
                            notified.notify_waiters();
                            continue;
                        }
                        Err(_) => break,
                    };
                    if std::env::var_os("SIDEKICK_TEST_TRACE").is_some() {
                        eprintln!("<- {msg:?}");
                    }
                    match msg {
                        Message::Response(r) => match pending.lock().unwrap().remove(&r.id) {
                            Some(tx) => {
                                let _ = tx.send(r);
                            }
                            None => unparsed.lock().unwrap().push(format!("{r:?}")),
                        },
                        Message::Notification(n) => {
                            notifications.lock().unwrap().push((n.method, n.params));
                            notified.notify_waiters();
                        }
                        Message::Request(req) => {
                            let resp = Message::Response(
                                match answer_client_request(
                                    &req.method,
                                    &req.params,
                                    secrets.as_ref(),
                                ) {
                                    Ok(result) => Response::new_ok(req.id, result),
                                    Err(message) => Response::new_err(req.id, -32603, message),
                                },
                            );
                            let _ = write_message(&mut *stdin.lock().unwrap(), &resp);
                        }
                    }
                }
                notified.notify_waiters();
            });
        }
        let sidecar = Sidecar {
            child,
            stdin,
            next_id: AtomicI64::new(1),
            pending,
            notifications,
            notified,
            stderr: stderr_buf,
            stdout_bytes,
            unparsed,
            home: opts.home.clone(),
        };
        let init = sidecar
            .request(
                "initialize",
                json!({ "capabilities": {}, "initializationOptions": opts.init }),
            )
            .await
            .expect("initialize");
        assert_eq!(init["serverInfo"]["name"], "sidekick-server");
        sidecar.notify("initialized", json!({}));
        sidecar
    }

    fn send(&self, msg: &Message) {
        write_message(&mut *self.stdin.lock().unwrap(), msg).expect("write to sidecar");
    }

    /// Writes bytes as they are: malformed frames for robustness tests.
    pub fn send_raw(&self, bytes: &[u8]) {
        let mut stdin = self.stdin.lock().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Messages nobody waited for: responses to ids the test never sent, and frames lsp_server
    /// cannot read.
    pub fn unparsed(&self) -> Vec<String> {
        self.unparsed.lock().unwrap().clone()
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.send(&Message::Notification(lsp_server::Notification {
            method: method.into(),
            params,
        }));
    }

    /// Sends a request and returns its id and a receiver for the response.
    pub fn start_request(&self, method: &str, params: Value) -> (i64, oneshot::Receiver<Response>) {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap()
            .insert(RequestId::from(id as i32), tx);
        self.send(&Message::Request(lsp_server::Request {
            id: RequestId::from(id as i32),
            method: method.into(),
            params,
        }));
        (id, rx)
    }

    /// Waits for the response to a request sent with `send_raw`.
    pub fn expect_response(&self, id: i32) -> oneshot::Receiver<Response> {
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(RequestId::from(id), tx);
        rx
    }

    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ResponseError> {
        let (_, rx) = self.start_request(method, params);
        finish(rx).await
    }

    pub fn cancel(&self, id: i64) {
        self.notify("$/cancelRequest", json!({ "id": id }));
    }

    pub fn notifications(&self) -> Vec<(String, Value)> {
        self.notifications.lock().unwrap().clone()
    }

    pub fn notifications_named(&self, method: &str) -> Vec<Value> {
        self.notifications()
            .into_iter()
            .filter(|(m, _)| m == method)
            .map(|(_, p)| p)
            .collect()
    }

    /// Waits until a notification matching `pred` has arrived (no fixed sleeps).
    pub async fn wait_notification(
        &self,
        timeout: Duration,
        pred: impl Fn(&str, &Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let waiter = self.notified.notified();
            if let Some((_, p)) = self.notifications().into_iter().find(|(m, p)| pred(m, p)) {
                return Some(p);
            }
            if tokio::time::timeout_at(deadline, waiter).await.is_err() {
                return None;
            }
        }
    }

    /// Like `wait_notification`, but only among notifications after the first `skip`.
    pub async fn wait_notification_after(
        &self,
        skip: usize,
        timeout: Duration,
        pred: impl Fn(&str, &Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let waiter = self.notified.notified();
            if let Some((_, p)) = self
                .notifications()
                .into_iter()
                .skip(skip)
                .find(|(m, p)| pred(m, p))
            {
                return Some(p);
            }
            if tokio::time::timeout_at(deadline, waiter).await.is_err() {
                return None;
            }
        }
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    pub fn stdout_raw(&self) -> String {
        String::from_utf8_lossy(&self.stdout_bytes.lock().unwrap()).into_owned()
    }

    pub async fn shutdown(mut self) -> (String, String) {
        let _ = self.request("shutdown", Value::Null).await;
        self.notify("exit", Value::Null);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.stdout_raw(), self.stderr())
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The exit code, waiting up to `within` for the process to end.
    pub async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    /// Connects `openai` with the valid key where that must fail: the guidance it gets.
    pub async fn connect_openai_refused(&self) -> Value {
        let e = self
            .request(
                "sidekick/connect",
                json!({ "provider": "openai", "apiKey": VALID_KEY }),
            )
            .await
            .expect_err("connect must fail");
        guidance(&e)
    }

    /// Connects `openai` to the fake with the valid key and selects `model`.
    pub async fn connect_openai(&self, model: &str) {
        self.request(
            "sidekick/connect",
            json!({ "provider": "openai", "apiKey": VALID_KEY }),
        )
        .await
        .expect("connect");
        self.request(
            "sidekick/selectModel",
            json!({ "provider": "openai", "model": model }),
        )
        .await
        .expect("selectModel");
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn finish(rx: oneshot::Receiver<Response>) -> Result<Value, ResponseError> {
    let resp = tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("response within 30 s")
        .expect("sidecar alive");
    resp.response_result
}

/// The guidance in a -32001 error.
pub fn guidance(e: &ResponseError) -> Value {
    assert_eq!(e.code, -32001, "expected a guidance error, got {e:?}");
    e.data.clone().expect("guidance data")
}

/// The name under which the test client's store refuses to store, quoting what it was given
/// (as a careless client might).
pub const REFUSING_STORE: &str = "refuse";

fn answer_client_request(
    method: &str,
    params: &Value,
    secrets: Option<&Arc<Mutex<HashMap<String, String>>>>,
) -> Result<Value, String> {
    let Some(secrets) = secrets else {
        return Ok(Value::Null);
    };
    let key = params["key"].as_str().unwrap_or_default().to_string();
    let mut map = secrets.lock().unwrap();
    if method == "sidekick/secrets/store" && map.contains_key(REFUSING_STORE) {
        return Err(format!(
            "store failed for {}: disk full",
            params["value"].as_str().unwrap_or_default()
        ));
    }
    Ok(match method {
        "sidekick/secrets/get" => json!({ "value": map.get(&key) }),
        "sidekick/secrets/store" => {
            map.insert(key, params["value"].as_str().unwrap_or_default().into());
            Value::Null
        }
        "sidekick/secrets/delete" => {
            map.remove(&key);
            Value::Null
        }
        _ => Value::Null,
    })
}

fn write_message(w: &mut impl Write, msg: &Message) -> std::io::Result<()> {
    // lsp_server adds the "jsonrpc" member only in its own writer.
    let mut value = serde_json::to_value(msg)?;
    value["jsonrpc"] = json!("2.0");
    let text = value.to_string();
    write!(w, "Content-Length: {}\r\n\r\n{}", text.len(), text)?;
    w.flush()
}

/// Keeps a copy of everything the sidecar writes on stdout, for the no-key-in-output check.
struct Tee<R> {
    inner: R,
    copy: Arc<Mutex<Vec<u8>>>,
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Every file under `dir`, read as text, for the no-key-on-disk check.
pub fn all_files_text(dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push_str(&all_files_text(&p));
            } else if let Ok(b) = std::fs::read(&p) {
                out.push_str(&String::from_utf8_lossy(&b));
            }
        }
    }
    out
}

/// `secret-tool lookup service S username U`: what the real Secret Service holds.
pub fn secret_tool_lookup(service: &str, account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", account])
        .output()
        .expect("secret-tool installed");
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}
