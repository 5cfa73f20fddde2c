//! The framer against every kind of broken input, and proptest's random ones.

use proptest::prelude::*;

use super::*;

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

const OK: &str = r#"{"jsonrpc":"2.0","id":7,"method":"sidekick/listProviders","params":{}}"#;

fn items(input: &[u8]) -> Vec<Item> {
    let mut f = Framer::default();
    f.push(input);
    std::iter::from_fn(|| f.next_item()).collect()
}

/// Feeds the input in pieces of `piece` bytes, as a pipe might deliver it.
fn items_in_pieces(input: &[u8], piece: usize) -> Vec<Item> {
    let mut f = Framer::default();
    let mut out = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        f.push(chunk);
        out.extend(std::iter::from_fn(|| f.next_item()));
    }
    out
}

fn passed(items: &[Item]) -> usize {
    items.iter().filter(|i| matches!(i, Item::Pass(_))).count()
}

fn code_and_id(item: &Item) -> (i64, Option<Value>) {
    match item {
        Item::Invalid { id, code, .. } => (*code, id.clone()),
        Item::Pass(b) => panic!("passed {}", String::from_utf8_lossy(b)),
    }
}

#[test]
fn ids_tower_lsp_cannot_read_are_answered_on_what_can_be_recovered() {
    for (id, want) in [
        ("1.5", None),
        ("1e2", Some(json!(100))),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("2.0", Some(json!(2))),
        ("true", None),
        ("{}", None),
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"sidekick/listProviders","params":{{}}}}"#
        );
        let out = items(&frame(&body));
        assert_eq!(out.len(), 1, "{id}");
        assert_eq!(code_and_id(&out[0]), (-32600, want), "{id}");
    }
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":"{}","method":5}}"#,
        "x".repeat(1000)
    );
    assert_eq!(
        code_and_id(&items(&frame(&long))[0]).1,
        None,
        "a long id is not echoed"
    );
}

#[test]
fn invalid_utf8_anywhere_is_a_parse_error_on_the_clients_id() {
    let mut body =
        br#"{"jsonrpc":"2.0","id":3,"method":"sidekick/listProviders","params":{"x":""#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#""}}"#);
    let mut input = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    input.extend_from_slice(&body);
    input.extend_from_slice(&frame(OK));
    let out = items(&input);
    assert_eq!(code_and_id(&out[0]), (-32700, Some(json!(3))));
    assert_eq!(out[1], Item::Pass(OK.as_bytes().to_vec()));
}

#[test]
fn a_length_too_short_too_long_or_without_body_resynchronises_on_the_next_header() {
    let short = format!("Content-Length: 20\r\n\r\n{OK}");
    let long = format!("Content-Length: {}\r\n\r\n{OK}", OK.len() + 40);
    let empty = "Content-Length: 30\r\n\r\n".to_string();
    for broken in [short, long, empty] {
        for piece in [1, 7, 64, 100_000] {
            let mut input = broken.clone().into_bytes();
            input.extend_from_slice(&frame(OK));
            input.extend_from_slice(&frame(OK));
            let out = items_in_pieces(&input, piece);
            assert_eq!(passed(&out), 2, "{broken:?} in pieces of {piece}: {out:?}");
            let answered = out.len() - 2;
            assert!(
                (1..=2).contains(&answered),
                "the broken frame is answered: {out:?}"
            );
        }
    }
    // Too long: the broken frame's own id is answered.
    let out = items(
        &[
            format!("Content-Length: {}\r\n\r\n{OK}", OK.len() + 40).into_bytes(),
            frame(OK),
        ]
        .concat(),
    );
    assert_eq!(code_and_id(&out[0]), (-32700, Some(json!(7))));
}

#[test]
fn headers_and_bodies_are_bounded() {
    // A header that never ends is refused once, then dropped as it comes.
    let mut f = Framer::default();
    let mut answers = 0;
    for _ in 0..1000 {
        f.push(&[b'a'; 64 * 1024]);
        answers += std::iter::from_fn(|| f.next_item()).count();
        assert!(
            f.pending() <= MAX_HEADER + 64 * 1024,
            "held {}",
            f.pending()
        );
    }
    assert_eq!(answers, 1);
    f.push(&frame(OK));
    assert_eq!(f.next_item(), Some(Item::Pass(OK.as_bytes().to_vec())));
    // A body over the cap is refused and skipped without being held.
    let mut f = Framer::default();
    f.push(format!("Content-Length: {}\r\n\r\n", MAX_BODY + 1).as_bytes());
    assert_eq!(code_and_id(&f.next_item().unwrap()).0, -32600);
    for _ in 0..MAX_BODY / (1 << 20) {
        f.push(&[b' '; 1 << 20]);
        assert!(f.next_item().is_none());
        assert!(f.pending() <= 64, "skipped, not held: {}", f.pending());
    }
    f.push(b" ");
    f.push(&frame(OK));
    assert_eq!(f.next_item(), Some(Item::Pass(OK.as_bytes().to_vec())));
}

#[test]
fn an_overlong_header_that_starts_like_one_is_refused_once() {
    for start in [
        b"Content-Length: ".to_vec(),
        b"Content-Length: 5\r\n".to_vec(),
    ] {
        let mut input = start.clone();
        input.extend(std::iter::repeat_n(b'1', MAX_HEADER + 1000));
        input.extend_from_slice(b"\r\n\r\n");
        input.extend_from_slice(&frame(OK));
        let out = items(&input);
        assert_eq!(passed(&out), 1, "{out:?}");
        assert_eq!(out.len(), 2, "one refusal, not one per byte: {}", out.len());
    }
}

#[test]
fn a_body_too_large_that_was_not_sent_does_not_swallow_what_follows() {
    for claimed in [MAX_BODY + 1, 1_000_000_000_000] {
        let input = [
            format!("Content-Length: {claimed}\r\n\r\n{{}}").into_bytes(),
            frame(OK),
            frame(OK),
        ]
        .concat();
        for piece in [7, 100_000] {
            let out = items_in_pieces(&input, piece);
            assert_eq!(code_and_id(&out[0]).0, -32600);
            assert_eq!(passed(&out), 2, "{claimed} in pieces of {piece}: {out:?}");
        }
    }
}

#[test]
fn a_string_id_too_long_to_echo_is_refused() {
    let long = "i".repeat(MAX_ID + 1);
    let out = items(&frame(&format!(
        r#"{{"jsonrpc":"2.0","id":"{long}","method":"sidekick/listProviders"}}"#
    )));
    assert_eq!(code_and_id(&out[0]), (-32600, None));
    let ok = "i".repeat(MAX_ID);
    let out = items(&frame(&format!(
        r#"{{"jsonrpc":"2.0","id":"{ok}","method":"sidekick/listProviders"}}"#
    )));
    assert_eq!(passed(&out), 1);
}

#[test]
fn unreadable_responses_are_dropped_not_answered() {
    let out = items(&frame(r#"{"jsonrpc":"2.0","id":1.5,"result":{}}"#));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_length_that_ends_inside_the_next_header_gives_that_frame_back() {
    // Two Content-Length lines that disagree (the last wins, and runs one byte into the next
    // frame), and lengths that end a few bytes into the next frame's header line.
    let conflicting = "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}".to_string();
    let into_name = "Content-Length: 5\r\n\r\n".to_string();
    let into_digits = "Content-Length: 18\r\n\r\n{}".to_string();
    for broken in [conflicting, into_name, into_digits] {
        // As one write delivers them: the next frame's header line is there to be seen.
        let input = [broken.clone().into_bytes(), frame(OK), frame(OK)].concat();
        let out = items(&input);
        assert_eq!(passed(&out), 2, "{broken:?}: {out:?}");
        assert_eq!(out.len(), 3, "the broken frame is answered once: {out:?}");
        assert_eq!(code_and_id(&out[0]).0, -32700);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever precedes it, a valid frame after a fresh header is read: the framer never
    /// stalls and never holds more than it must.
    #[test]
    fn any_bytes_then_a_valid_frame(garbage in proptest::collection::vec(any::<u8>(), 0..600), piece in 1usize..300) {
        let mut input = garbage.clone();
        // A frame boundary the garbage cannot swallow: a blank line, then a fresh frame.
        input.extend_from_slice(b"\r\n\r\n");
        input.extend_from_slice(&frame(OK));
        input.extend_from_slice(&frame(OK));
        let out = items_in_pieces(&input, piece);
        prop_assert!(passed(&out) >= 1, "garbage {:?} swallowed both frames: {:?}", String::from_utf8_lossy(&garbage), out);
        for item in &out {
            if let Item::Pass(b) = item {
                prop_assert_eq!(b.as_slice(), OK.as_bytes());
            }
        }
    }

    /// A frame whose body is any bytes is answered or passed, never left hanging, and what
    /// passes is valid UTF-8 JSON-RPC.
    #[test]
    fn any_body_in_a_well_formed_frame(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut input = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        input.extend_from_slice(&body);
        input.extend_from_slice(&frame(OK));
        let out = items(&input);
        prop_assert!(out.last() == Some(&Item::Pass(OK.as_bytes().to_vec())), "{:?}", out);
        for item in &out {
            match item {
                Item::Pass(b) => {
                    let text = std::str::from_utf8(b);
                    prop_assert!(text.is_ok());
                    prop_assert!(serde_json::from_slice::<jsonrpc::Request>(b).is_ok() || serde_json::from_slice::<jsonrpc::Response>(b).is_ok());
                }
                Item::Invalid { id, .. } => {
                    if let Some(id) = id {
                        prop_assert!(id.is_i64() || id.is_string());
                    }
                }
            }
        }
    }
}
