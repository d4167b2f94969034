//! JSON text from the guest. QuickJS's JSON.stringify escapes unpaired UTF-16 surrogates
//! (`"\ud800"`), which is valid JSON but has no Rust string form; serde_json refuses it. Such
//! escapes become U+FFFD before parsing, as a browser's TextDecoder would do.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// A JSON value as its text: what the guest's JSON.stringify handed over, checked once (valid
/// JSON nested at most [`MAX_DEPTH`] levels, lone surrogates replaced) and never built into a
/// tree. Clones share the text: the overlay, the mutation and the result hold one copy.
#[derive(Clone, PartialEq, Eq)]
pub struct Json(Arc<str>);

impl Json {
    /// Checks JSON text from the guest without building it.
    pub fn from_guest(text: &[u8]) -> Result<Json, String> {
        let text = replace_lone_surrogates(text);
        let raw = serde_json::from_slice::<&serde_json::value::RawValue>(&text)
            .map_err(|e| format!("not valid JSON: {e}"))?;
        let depth = nesting_depth(raw.get().as_bytes());
        if depth > MAX_DEPTH {
            return Err(format!(
                "nested {depth} levels deep, more than the {MAX_DEPTH} the host accepts"
            ));
        }
        Ok(Json(Arc::from(raw.get())))
    }

    /// The text of a value the host built itself.
    pub fn from_value(value: &Value) -> Json {
        Json(Arc::from(
            serde_json::to_string(value).expect("JSON values serialise"),
        ))
    }

    /// Text the host composed from checked JSON (the caller vouches for it).
    pub(crate) fn from_text(text: String) -> Json {
        Json(Arc::from(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value built from the text (for tests and small host-side reads).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0).expect("checked JSON parses")
    }
}

impl fmt::Debug for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Json({})", &self.0)
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
pub fn parse(text: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice(&replace_lone_surrogates(text))
}

pub(crate) fn replace_lone_surrogates(text: &[u8]) -> Cow<'_, [u8]> {
    if !text
        .windows(3)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && matches!(w[2], b'd' | b'D'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' {
            out.push(text[i]);
            i += 1;
            continue;
        }
        // Every backslash in JSON starts an escape: copy it whole.
        let Some(unit) = escape_unit(text, i) else {
            out.extend_from_slice(&text[i..(i + 2).min(text.len())]);
            i += 2;
            continue;
        };
        let is_high = (0xD800..0xDC00).contains(&unit);
        let is_low = (0xDC00..0xE000).contains(&unit);
        let paired_low = is_high
            && escape_unit(text, i + 6).is_some_and(|next| (0xDC00..0xE000).contains(&next));
        if paired_low {
            out.extend_from_slice(&text[i..i + 12]);
            i += 12;
        } else if is_high || is_low {
            out.extend_from_slice(b"\\ufffd");
            i += 6;
        } else {
            out.extend_from_slice(&text[i..i + 6]);
            i += 6;
        }
    }
    Cow::Owned(out)
}

/// The code unit of a `\uXXXX` escape starting at `at`.
fn escape_unit(text: &[u8], at: usize) -> Option<u32> {
    let escape = text.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(&escape[2..]).ok()?, 16).ok()
}

/// How deep the host lets JSON values nest, the same as serde_json's own limit on what it reads
/// from the guest: QuickJS on WASI has no stack check, so the host keeps deeper values out.
pub const MAX_DEPTH: usize = 128;

/// Checks JSON text the host passes into the sandbox (arguments, extension responses): it must
/// parse (serde_json validates it without building it) and nest at most [`MAX_DEPTH`] levels.
pub fn check_passable(text: &[u8]) -> Result<(), String> {
    let text = replace_lone_surrogates(text);
    serde_json::from_slice::<&serde_json::value::RawValue>(&text)
        .map_err(|e| format!("not valid JSON: {e}"))?;
    let depth = nesting_depth(&text);
    if depth > MAX_DEPTH {
        return Err(format!(
            "nested {depth} levels deep, more than the {MAX_DEPTH} the sandbox accepts"
        ));
    }
    Ok(())
}

/// The deepest nesting of arrays and objects in valid JSON text (strings skipped).
pub fn nesting_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in text {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(parse(br#""\ud800x""#).unwrap(), json!("\u{fffd}x"));
        assert_eq!(
            parse(br#"["\udc00", "a\ud83d"]"#).unwrap(),
            json!(["\u{fffd}", "a\u{fffd}"])
        );
    }

    #[test]
    fn passable_text_is_valid_json_nested_at_most_max_depth() {
        assert!(check_passable(b"{\"a\": [1, \"]]]\\\"[\"]}").is_ok());
        let deep = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(check_passable(deep.as_bytes()).is_ok());
        let deeper = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(
            check_passable(deeper.as_bytes())
                .unwrap_err()
                .contains("nested 129")
        );
        assert!(
            check_passable(b"{\"a\":")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(check_passable(b"\"\\ud800\"").is_ok());
    }

    #[test]
    fn guest_json_is_kept_as_checked_text() {
        let json = Json::from_guest(br#"{"a":[1,"\ud800"]}"#).unwrap();
        assert_eq!(json.as_str(), r#"{"a":[1,"\ufffd"]}"#);
        assert_eq!(json.value(), json!({"a": [1, "\u{fffd}"]}));
        let shared = json.clone();
        assert!(std::ptr::eq(shared.as_str(), json.as_str()));
        let deeper = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(
            Json::from_guest(deeper.as_bytes())
                .unwrap_err()
                .contains("nested 129")
        );
        assert!(
            Json::from_guest(b"[1,")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(Json::from_guest(b"1 2").is_err());
    }

    #[test]
    fn pairs_and_other_escapes_are_untouched() {
        assert_eq!(parse(br#""\ud83d\ude00""#).unwrap(), json!("\u{1f600}"));
        assert_eq!(parse(br#""\\ud800""#).unwrap(), json!("\\ud800"));
        assert_eq!(parse(br#"{"a":"\n\u0041"}"#).unwrap(), json!({"a": "\nA"}));
    }
}
