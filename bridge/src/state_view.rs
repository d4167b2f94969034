//! `$state` as the handler sees it: the panel's state at the start of the current segment,
//! overlaid with the handler's own writes since then.
//!
//! The snapshot keeps each top-level value as the JSON text it arrived in: a read hands that text
//! to the guest as it is, and nothing walks a large state that the handler does not read. A
//! resumed handler gets the panel's latest state as a fresh snapshot (its earlier segments'
//! writes are part of it), so the overlay only ever holds the current segment's writes.

use std::collections::{BTreeMap, HashMap};

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::guest_json::Json;

/// The state an execution (or a resumed segment) starts from.
#[derive(Debug, Clone)]
pub enum StateInput {
    /// Values converted from JavaScript objects (the `stateSnapshot` field).
    Values(Map<String, Value>),
    /// The JSON text of an object (the `stateJson` field), parsed on a bridge thread.
    Json(Vec<u8>),
}

impl Default for StateInput {
    fn default() -> Self {
        StateInput::Values(Map::new())
    }
}

#[derive(Debug, Clone, Default)]
pub struct StateView {
    snapshot: BTreeMap<String, Box<RawValue>>,
    overlay: HashMap<String, Overlay>,
}

#[derive(Debug, Clone)]
enum Overlay {
    /// `None` = set to undefined (reads as absent, recorded as a set). The text is shared with
    /// the recorded mutation.
    Set(Option<Json>),
    Deleted,
}

/// A value read from the view: the snapshot's text, or a value written in this segment.
pub enum StateValue<'a> {
    Raw(&'a RawValue),
    Written(&'a Json),
}

impl StateValue<'_> {
    pub fn to_json(&self) -> Vec<u8> {
        match self {
            StateValue::Raw(raw) => raw.get().as_bytes().to_vec(),
            StateValue::Written(value) => value.as_str().as_bytes().to_vec(),
        }
    }
}

impl StateView {
    /// Builds the view; fails with a message when `stateJson` is not the JSON text of an object.
    pub fn new(input: StateInput) -> Result<Self, String> {
        let snapshot = match input {
            StateInput::Values(values) => values
                .into_iter()
                .map(|(key, value)| {
                    let text = serde_json::to_string(&value).expect("JSON values serialise");
                    (
                        key,
                        RawValue::from_string(text).expect("serialised JSON is valid"),
                    )
                })
                .collect(),
            StateInput::Json(text) => {
                parse_object(&crate::guest_json::replace_lone_surrogates(&text)).map_err(|e| {
                    format!("the state snapshot is not the JSON text of an object: {e}")
                })?
            }
        };
        Ok(StateView {
            snapshot,
            overlay: HashMap::new(),
        })
    }

    pub fn get(&self, key: &str) -> Option<StateValue<'_>> {
        match self.overlay.get(key) {
            Some(Overlay::Set(value)) => value.as_ref().map(StateValue::Written),
            Some(Overlay::Deleted) => None,
            None => self.snapshot.get(key).map(|raw| StateValue::Raw(raw)),
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn set(&mut self, key: String, value: Option<Json>) {
        self.overlay.insert(key, Overlay::Set(value));
    }

    pub fn delete(&mut self, key: String) {
        self.overlay.insert(key, Overlay::Deleted);
    }

    /// Keys with a defined value: the snapshot's in key order, then new keys in no particular order.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .snapshot
            .keys()
            .map(String::as_str)
            .filter(|k| self.contains(k))
            .collect();
        for (key, entry) in &self.overlay {
            if matches!(entry, Overlay::Set(Some(_))) && !self.snapshot.contains_key(key) {
                keys.push(key);
            }
        }
        keys
    }
}

/// Splits the JSON text of an object into its keys and the text of each value. Values are only
/// validated and sliced (serde_json skips them iteratively), never built: any depth costs the
/// host no stack, and the guest's JSON.parse reads them.
fn parse_object(text: &[u8]) -> Result<BTreeMap<String, Box<RawValue>>, String> {
    let mut entries = BTreeMap::new();
    let mut at = skip_whitespace(text, 0);
    if text.get(at) != Some(&b'{') {
        return Err("expected `{`".into());
    }
    at = skip_whitespace(text, at + 1);
    if text.get(at) == Some(&b'}') {
        return trailing(text, at + 1).map(|()| entries);
    }
    loop {
        let (key, end) = next::<String>(text, at)?;
        at = skip_whitespace(text, end);
        if text.get(at) != Some(&b':') {
            return Err(format!("expected `:` at byte {at}"));
        }
        let (value, end) = next::<Box<RawValue>>(text, at + 1)?;
        entries.insert(key, value);
        at = skip_whitespace(text, end);
        match text.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => return trailing(text, at + 1).map(|()| entries),
            _ => return Err(format!("expected `,` or `}}` at byte {at}")),
        }
    }
}

/// One JSON value starting at `at` (after optional whitespace), and the offset just past it.
fn next<T: serde::de::DeserializeOwned>(text: &[u8], at: usize) -> Result<(T, usize), String> {
    let mut stream = serde_json::Deserializer::from_slice(&text[at..]).into_iter::<T>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, at + stream.byte_offset())),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("unexpected end of input".into()),
    }
}

fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    while matches!(text.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

fn trailing(text: &[u8], at: usize) -> Result<(), String> {
    match skip_whitespace(text, at) == text.len() {
        true => Ok(()),
        false => Err(format!("trailing characters at byte {at}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(view: &StateView, key: &str) -> Option<Value> {
        view.get(key)
            .map(|v| serde_json::from_slice(&v.to_json()).unwrap())
    }

    #[test]
    fn writes_and_deletes_overlay_the_snapshot() {
        let snapshot = json!({"a": 1, "b": 2}).as_object().unwrap().clone();
        let mut view = StateView::new(StateInput::Values(snapshot)).unwrap();
        view.set("a".into(), Some(Json::from_value(&json!(10))));
        view.delete("b".into());
        view.set("c".into(), Some(Json::from_value(&json!(3))));
        view.set("d".into(), None);
        assert_eq!(read(&view, "a"), Some(json!(10)));
        assert_eq!(read(&view, "b"), None);
        assert_eq!(read(&view, "c"), Some(json!(3)));
        assert_eq!(read(&view, "d"), None);
        assert_eq!(view.keys(), vec!["a", "c"]);
    }

    #[test]
    fn json_snapshots_are_read_as_their_text() {
        let view = StateView::new(StateInput::Json(
            br#"{"todos":[{"id":1,"done":true}],"n":2.5}"#.to_vec(),
        ))
        .unwrap();
        assert_eq!(
            view.get("todos").unwrap().to_json(),
            br#"[{"id":1,"done":true}]"#
        );
        assert_eq!(read(&view, "n"), Some(json!(2.5)));
        assert_eq!(view.keys(), vec!["n", "todos"]);
    }

    #[test]
    fn json_snapshots_must_be_objects() {
        for bad in [
            &b"[1]"[..],
            b"1",
            b"{\"a\":",
            b"{} x",
            b"",
            b"{\"a\" 1}",
            b"{\"a\":1,}",
        ] {
            let error = StateView::new(StateInput::Json(bad.to_vec())).unwrap_err();
            assert!(error.contains("state snapshot"), "{error}");
        }
    }

    #[test]
    fn deep_values_are_kept_as_text_without_recursing_on_the_host() {
        // serde_json skips a raw value iteratively: depth costs the host no stack.
        let deep = format!("{{\"k\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let view = StateView::new(StateInput::Json(deep.into_bytes())).unwrap();
        assert!(view.contains("k"));
    }

    #[test]
    fn lone_surrogates_in_a_snapshot_become_replacement_characters() {
        let view = StateView::new(StateInput::Json(br#"{"s":"a\ud800b"}"#.to_vec())).unwrap();
        assert_eq!(read(&view, "s"), Some(json!("a\u{fffd}b")));
    }
}
