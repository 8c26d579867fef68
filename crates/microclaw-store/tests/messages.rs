#![allow(clippy::unwrap_used)]
mod common;

use microclaw_core::ErrorCode;
use microclaw_store::PREVIEW_CHARS;

#[test]
fn pages_walk_backwards_with_before_and_has_more() {
    let t = common::temp_store();
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(
            t.store
                .message_append("k", "user", &format!("m{i}"), i)
                .unwrap()
                .id,
        );
    }
    let (p1, more) = t.store.messages_page("k", 10, None).unwrap().unwrap();
    let texts: Vec<_> = p1.iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts.first().unwrap(), "m15");
    assert_eq!(
        texts.last().unwrap(),
        "m24",
        "newest page, returned oldest first"
    );
    assert!(more);

    let (p2, more) = t
        .store
        .messages_page("k", 10, Some(p1[0].id))
        .unwrap()
        .unwrap();
    assert_eq!((p2[0].text.as_str(), p2[9].text.as_str()), ("m5", "m14"));
    assert!(more);
    let (p3, more) = t
        .store
        .messages_page("k", 10, Some(p2[0].id))
        .unwrap()
        .unwrap();
    assert_eq!(p3.len(), 5);
    assert!(!more, "nothing older than m0");

    let (exact, more) = t.store.messages_page("k", 25, None).unwrap().unwrap();
    assert_eq!(exact.len(), 25);
    assert!(!more, "exactly all messages: no more");
    assert_eq!(exact.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
}

#[test]
fn unknown_session_is_none_and_pages_do_not_mix_sessions() {
    let t = common::temp_store();
    assert!(t.store.messages_page("nobody", 10, None).unwrap().is_none());
    t.store.message_append("a", "user", "for a", 1).unwrap();
    t.store
        .message_append("b", "assistant", "for b", 2)
        .unwrap();
    let (a, _) = t.store.messages_page("a", 10, None).unwrap().unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(
        (
            a[0].text.as_str(),
            a[0].role.as_str(),
            a[0].session_key.as_str()
        ),
        ("for a", "user", "a")
    );
}

#[test]
fn append_keeps_count_preview_and_updated_at_on_the_session() {
    let t = common::temp_store();
    t.store.message_append("k", "user", "short", 7).unwrap();
    let long: String = "é".repeat(PREVIEW_CHARS + 30);
    t.store.message_append("k", "assistant", &long, 9).unwrap();
    let row = t.store.session_get("k").unwrap().unwrap();
    assert_eq!(
        (row.message_count, row.created_at, row.updated_at),
        (2, 7, 9)
    );
    let preview = row.last_message_preview.unwrap();
    assert_eq!(
        preview.chars().count(),
        PREVIEW_CHARS,
        "preview is cut by characters, not bytes"
    );
    assert!(long.starts_with(&preview));
}

#[test]
fn unknown_role_is_rejected_listing_the_allowed_ones() {
    let t = common::temp_store();
    let err = t.store.message_append("k", "robot", "x", 1).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(err.message.contains("user, assistant"), "{}", err.message);
    assert!(
        t.store.session_get("k").unwrap().is_none(),
        "nothing created on bad input"
    );
}
