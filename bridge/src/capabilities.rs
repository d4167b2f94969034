//! Capability tokens: `state:read:<key|*>`, `state:write:<key|*>`, `events:emit:<name|*>`,
//! `view:update:<id|*>`, `ext:<name|*>`. Nothing is allowed unless a token grants it.

use std::collections::HashSet;

/// What a host call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability<'a> {
    StateRead(&'a str),
    StateWrite(&'a str),
    EventsEmit(&'a str),
    ViewUpdate(&'a str),
    Ext(&'a str),
}

impl Capability<'_> {
    /// The token that would grant this capability, as named in a PERMISSION_DENIED message.
    pub fn token(&self) -> String {
        match self {
            Capability::StateRead(key) => format!("state:read:{key}"),
            Capability::StateWrite(key) => format!("state:write:{key}"),
            Capability::EventsEmit(name) => format!("events:emit:{name}"),
            Capability::ViewUpdate(id) => format!("view:update:{id}"),
            Capability::Ext(name) => format!("ext:{name}"),
        }
    }

    fn prefix(&self) -> &'static str {
        match self {
            Capability::StateRead(_) => "state:read:",
            Capability::StateWrite(_) => "state:write:",
            Capability::EventsEmit(_) => "events:emit:",
            Capability::ViewUpdate(_) => "view:update:",
            Capability::Ext(_) => "ext:",
        }
    }

    fn subject(&self) -> &str {
        match self {
            Capability::StateRead(s)
            | Capability::StateWrite(s)
            | Capability::EventsEmit(s)
            | Capability::ViewUpdate(s)
            | Capability::Ext(s) => s,
        }
    }
}

/// The tokens granted to one execution.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    tokens: HashSet<String>,
}

impl Capabilities {
    pub fn new<I, S>(tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Capabilities {
            tokens: tokens.into_iter().map(Into::into).collect(),
        }
    }

    pub fn allows(&self, capability: Capability<'_>) -> bool {
        let prefix = capability.prefix();
        let exact = format!("{prefix}{}", capability.subject());
        self.tokens.contains(&exact) || self.tokens.contains(&format!("{prefix}*"))
    }

    /// `Err(token)` names the missing token.
    pub fn check(&self, capability: Capability<'_>) -> Result<(), String> {
        if self.allows(capability) {
            Ok(())
        } else {
            Err(capability.token())
        }
    }

    /// Whether every key of $state may be read (enumerating $state needs it).
    pub fn reads_everything(&self) -> bool {
        self.tokens.contains("state:read:*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_allowed_by_default() {
        let caps = Capabilities::default();
        assert_eq!(
            caps.check(Capability::StateRead("count")),
            Err("state:read:count".into())
        );
        assert_eq!(caps.check(Capability::Ext("http")), Err("ext:http".into()));
    }

    #[test]
    fn exact_tokens_grant_only_their_subject() {
        let caps =
            Capabilities::new(["state:write:count", "events:emit:saved", "view:update:list"]);
        assert!(caps.allows(Capability::StateWrite("count")));
        assert!(!caps.allows(Capability::StateWrite("other")));
        assert!(!caps.allows(Capability::StateRead("count")));
        assert!(caps.allows(Capability::EventsEmit("saved")));
        assert!(caps.allows(Capability::ViewUpdate("list")));
        assert!(!caps.allows(Capability::ViewUpdate("*")));
    }

    #[test]
    fn wildcards_grant_every_subject_of_their_kind() {
        let caps = Capabilities::new(["state:read:*", "ext:*"]);
        assert!(caps.allows(Capability::StateRead("anything")));
        assert!(caps.allows(Capability::Ext("http")));
        assert!(!caps.allows(Capability::StateWrite("anything")));
        assert!(caps.reads_everything());
    }

    #[test]
    fn a_token_for_one_kind_does_not_leak_into_another() {
        let caps = Capabilities::new(["state:read:ext:http"]);
        assert!(!caps.allows(Capability::Ext("http")));
        assert!(caps.allows(Capability::StateRead("ext:http")));
    }
}
