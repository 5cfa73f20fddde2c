//! One message must never end the session: the real binary, fed raw bytes over stdio —
//! ids tower-lsp cannot read, invalid UTF-8, wrong lengths, endless headers, and proptest's
//! random frames — answers each and serves the next request.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use lsp_server::Message;
use proptest::prelude::*;
use serde_json::{Value, json};

/// The sidecar with its responses (id, error code) delivered on a channel.
struct Raw {
    child: Child,
    stdin: ChildStdin,
    responses: mpsc::Receiver<(Value, Option<i32>)>,
    _home: tempfile::TempDir,
}

/// The sidecar on pipes, in a home of its own.
fn spawn(stderr: Stdio) -> (Child, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sidekick-server"))
        .env("SIDEKICK_HOME", home.path())
        .env("SIDEKICK_KEYRING_SERVICE", support::unique_service())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    (child, home)
}

impl Raw {
    fn start() -> Raw {
        let (mut child, home) = spawn(Stdio::null());
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, responses) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                match Message::read(&mut reader) {
                    Ok(Some(Message::Response(r))) => {
                        let code = r.response_result.as_ref().err().map(|e| e.code);
                        let _ = tx.send((serde_json::to_value(&r.id).unwrap(), code));
                    }
                    Ok(Some(_)) => {}
                    // An answer whose id lsp_server cannot hold is still an answer.
                    Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                        let _ = tx.send((Value::Null, Some(0)));
                    }
                    _ => break,
                }
            }
        });
        let mut raw = Raw {
            child,
            stdin,
            responses,
            _home: home,
        };
        raw.send(&frame(
            &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}})
                .to_string(),
        ));
        raw.expect(json!(1));
        raw.send(&frame(
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        raw
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits for the answer to `id`, returning its error code; other answers are skipped.
    fn expect(&mut self, id: Value) -> Option<i32> {
        loop {
            let (got, code) = self
                .responses
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no answer to {id} within 10 s"));
            if got == id {
                return code;
            }
        }
    }

    /// listProviders on `id` is answered with a result: the session lives.
    fn still_serving(&mut self, id: i64) {
        self.send(&frame(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"sidekick/listProviders","params":{{}}}}"#
        )));
        assert_eq!(self.expect(json!(id)), None, "listProviders {id} failed");
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn frame(body: &str) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[test]
fn ids_and_bodies_tower_lsp_cannot_read_are_answered() {
    let mut s = Raw::start();
    s.send(&frame(
        r#"{"jsonrpc":"2.0","id":1e2,"method":"sidekick/listProviders","params":{}}"#,
    ));
    assert_eq!(s.expect(json!(100)), Some(-32600), "1e2 is answered as 100");
    for id in ["1.5", "9223372036854775808"] {
        s.send(&frame(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"sidekick/listProviders","params":{{}}}}"#
        )));
        s.still_serving(2);
    }
    let mut body =
        br#"{"jsonrpc":"2.0","id":3,"method":"sidekick/listProviders","params":{"ignored":""#
            .to_vec();
    body.extend_from_slice(&[0xc3, 0x28]);
    body.extend_from_slice(br#""}}"#);
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(&body);
    s.send(&bytes);
    assert_eq!(s.expect(json!(3)), Some(-32700));
    // A response the server cannot read is dropped (never answered), and nothing ends.
    s.send(&frame(r#"{"jsonrpc":"2.0","id":1.5,"result":null}"#));
    s.still_serving(4);
    assert!(s.child.try_wait().unwrap().is_none());
}

#[test]
fn wrong_lengths_resynchronise_on_the_next_header() {
    let mut s = Raw::start();
    let body = r#"{"jsonrpc":"2.0","id":10,"method":"sidekick/listProviders","params":{}}"#;
    s.send(format!("Content-Length: 20\r\n\r\n{body}").as_bytes());
    s.still_serving(11);
    s.send(format!("Content-Length: {}\r\n\r\n{body}", body.len() + 50).as_bytes());
    s.send(&frame(
        r#"{"jsonrpc":"2.0","id":12,"method":"sidekick/listProviders","params":{}}"#,
    ));
    assert_eq!(
        s.expect(json!(10)),
        Some(-32700),
        "the too-long frame's own id is answered"
    );
    assert_eq!(s.expect(json!(12)), None, "and the next frame is served");
    s.send(b"Content-Length: 40\r\n\r\n");
    s.still_serving(13);
    s.send(b"Content-Length: -3\r\n\r\n");
    s.still_serving(14);
}

#[test]
fn an_endless_header_is_refused_and_memory_stays_bounded() {
    let mut s = Raw::start();
    let pid = s.child.id();
    let rss = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .to_string();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let before = rss();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..64 {
        s.send(&chunk);
    }
    s.send(b"\r\n\r\n");
    s.still_serving(20);
    let after = rss();
    assert!(
        after < before + 16 * 1024,
        "64 MB of header grew RSS from {before} to {after} kB"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any bytes as a frame's body, or as junk between frames: the next valid request is
    /// answered.
    #[test]
    fn any_bytes_leave_the_server_answering(junk in proptest::collection::vec(any::<u8>(), 0..2048), framed in any::<bool>()) {
        thread_local!(static S: std::cell::RefCell<Option<Raw>> = const { std::cell::RefCell::new(None) });
        static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1000);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        S.with(|cell| {
            let mut slot = cell.borrow_mut();
            let s = slot.get_or_insert_with(Raw::start);
            let mut bytes = if framed {
                format!("Content-Length: {}\r\n\r\n", junk.len()).into_bytes()
            } else {
                Vec::new()
            };
            bytes.extend_from_slice(&junk);
            // Junk between frames ends at a blank line, as any frame's header does.
            bytes.extend_from_slice(b"\r\n\r\n");
            s.send(&bytes);
            s.still_serving(id);
        });
    }
}

#[test]
fn a_client_that_stops_reading_ends_the_session_with_code_1() {
    let (mut child, _home) = spawn(Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin
        .write_all(&frame(
            &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}})
                .to_string(),
        ))
        .unwrap();
    assert!(matches!(
        Message::read(&mut stdout),
        Ok(Some(Message::Response(_)))
    ));
    // The client closes its end of stdout, then asks for more.
    drop(stdout);
    for id in 2..5 {
        let _ = stdin.write_all(&frame(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"sidekick/listProviders","params":{{}}}}"#
        )));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still serving into a closed pipe"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(1));
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("writing stdout failed"), "{log}");
}
