//! JSON text from the guest. QuickJS's JSON.stringify escapes unpaired UTF-16 surrogates
//! (`"\ud800"`), which is valid JSON but has no Rust string form; serde_json refuses it. Such
//! escapes become U+FFFD before parsing, as a browser's TextDecoder would do.

use std::borrow::Cow;

use serde_json::Value;

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
    fn pairs_and_other_escapes_are_untouched() {
        assert_eq!(parse(br#""\ud83d\ude00""#).unwrap(), json!("\u{1f600}"));
        assert_eq!(parse(br#""\\ud800""#).unwrap(), json!("\\ud800"));
        assert_eq!(parse(br#"{"a":"\n\u0041"}"#).unwrap(), json!({"a": "\nA"}));
    }
}
