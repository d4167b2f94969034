//! docs/errors.md lists exactly the codes the bridge reports, and docs/bridge-api.md's ErrorCode
//! type and rejection table agree with them.

use std::path::Path;

use nexus_bridge::{ApiErrorCode, ErrorCode};

fn doc(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first column of every table row under `heading`, up to the next heading of its level.
fn table_codes(text: &str, heading: &str) -> Vec<String> {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    let level = heading.chars().take_while(|c| *c == '#').count();
    let body = &text[start + heading.len()..];
    let end = body
        .lines()
        .scan(0, |offset, line| {
            let at = *offset;
            *offset += line.len() + 1;
            Some((at, line))
        })
        .find(|(_, line)| {
            line.starts_with('#') && line.chars().take_while(|c| *c == '#').count() <= level
        })
        .map_or(body.len(), |(at, _)| at);
    body[..end]
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

fn names<T: std::fmt::Display>(codes: &[T]) -> Vec<String> {
    codes.iter().map(ToString::to_string).collect()
}

#[test]
fn errors_md_lists_every_handler_error_code() {
    let text = doc("errors.md");
    let bridge = &text[text.find("## Bridge").expect("a Bridge section")..];
    assert_eq!(
        table_codes(bridge, "### Handler failures"),
        names(ErrorCode::ALL)
    );
}

#[test]
fn errors_md_lists_every_api_error_code() {
    let text = doc("errors.md");
    let bridge = &text[text.find("## Bridge").expect("a Bridge section")..];
    assert_eq!(
        table_codes(bridge, "### API misuse"),
        names(ApiErrorCode::ALL)
    );
}

#[test]
fn the_api_contract_names_the_same_codes() {
    let text = doc("bridge-api.md");
    for code in ErrorCode::ALL {
        assert!(
            text.contains(&format!("'{code}'")),
            "bridge-api.md's ErrorCode lacks '{code}'"
        );
    }
    assert_eq!(
        table_codes(&text, "## Two kinds of failure"),
        names(ApiErrorCode::ALL)
    );
}
