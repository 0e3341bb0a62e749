//! The wire format: the request path, and the answer body read the way the
//! platform's Go client reads it.
//!
//! The Go client unmarshals the body into `struct { State string
//! `json:"state"` }` with `encoding/json` and compares `State` with
//! `"running"`. What that accepts decides which answers count as "not
//! running, no error" (and so flip in `legacy` and `pr2283`), so this module
//! reproduces `encoding/json`'s rules rather than serde's defaults:
//!
//! | body | Go | here |
//! | --- | --- | --- |
//! | `null`, `{}`, `{"state":null}`, `{"state":""}` | no error, `State == ""` | the word `""` |
//! | `{"State":"x"}`, `{"STATE":"x"}`, `{"ſtate":"x"}` | keys match case-insensitively (Unicode simple folding) | same |
//! | `{"state":"a","state":"b"}` | the last one wins | same |
//! | `{"state":"a","state":null}` | `null` leaves the field alone: `"a"` | same |
//! | unknown keys | ignored | ignored |
//! | invalid UTF-8 in the value | replaced by U+FFFD, no error | same (an unknown word) |
//! | `{"state":5}`, `[]`, `"x"`, `true` | type error | [`DecodeError`] |
//! | empty, truncated or trailing garbage | syntax error | [`DecodeError`] |
//!
//! Known difference: serde_json refuses nesting deeper than 128 levels
//! (in ignored keys too) where Go allows 10,000; such a body is a decode
//! error here. No control plane sends one.

use std::fmt;

use reconciler_core::{InstanceId, InstanceState};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The path of the request about `instance`.
///
/// The id is one path segment, so every byte outside RFC 3986's unreserved
/// set is percent-encoded: an id holding `/`, `?` or a space still asks
/// about that id and nothing else.
pub(crate) fn path(instance: &InstanceId) -> String {
    const PREFIX: &str = "/cp/instances/";
    let mut path = String::with_capacity(PREFIX.len() + instance.0.len());
    path.push_str(PREFIX);
    for byte in instance.0.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// The states a 2xx answer can name. `NotFound` is a 404, never a word, and
/// `Unrecognized` is what every other word becomes.
const WIRE_STATES: [InstanceState; 6] = [
    InstanceState::Pending,
    InstanceState::Running,
    InstanceState::Stopping,
    InstanceState::Stopped,
    InstanceState::ShuttingDown,
    InstanceState::Terminated,
];

/// The answer a decoded `state` word stands for: a known word (exactly, as
/// Go's `==` compares) is that state, anything else — the empty word
/// included — is [`InstanceState::Unrecognized`].
pub(crate) fn classify(word: &str) -> InstanceState {
    WIRE_STATES
        .into_iter()
        .find(|state| state.as_str() == word)
        .unwrap_or(InstanceState::Unrecognized)
}

/// A 2xx body that Go's `json.Unmarshal` would reject.
#[derive(Debug)]
pub(crate) struct DecodeError(serde_json::Error);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The `state` word of a 2xx body, `""` when absent or `null`.
pub(crate) fn decode_state(body: &[u8]) -> Result<String, DecodeError> {
    serde_json::from_slice::<Answer>(body)
        .map(|answer| String::from_utf8_lossy(&answer.0).into_owned())
        .map_err(DecodeError)
}

/// The decoded body: the raw bytes of the last non-null `state` value.
struct Answer(Vec<u8>);

impl<'de> de::Deserialize<'de> for Answer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnswerVisitor)
    }
}

/// Accepts what Go accepts into a struct: an object, or `null`.
struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = Answer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Answer, E> {
        Ok(Answer(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut state = Vec::new();
        while let Some(Key(is_state)) = map.next_key()? {
            if !is_state {
                map.next_value::<IgnoredAny>()?;
            } else if let Some(Word(word)) = map.next_value::<Option<Word>>()? {
                state = word;
            }
        }
        Ok(Answer(state))
    }
}

/// An object key, reduced to whether Go would store its value in `State`.
struct Key(bool);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Raw bytes, so that a key with invalid UTF-8 is a key that matches
        // nothing (as in Go) rather than an error.
        deserializer
            .deserialize_bytes(BytesVisitor)
            .map(|key| Key(is_state_key(&key)))
    }
}

/// Go's case-insensitive field match for the one field, `state`: ASCII
/// case, plus U+017F (ſ), which Unicode's simple folding maps to `s`. No
/// other character folds to `t`, `a` or `e`.
fn is_state_key(key: &[u8]) -> bool {
    String::from_utf8_lossy(key)
        .chars()
        .map(|c| {
            if c == 'ſ' {
                's'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .eq("state".chars())
}

/// A string value as raw bytes (escapes resolved, UTF-8 not enforced).
struct Word(Vec<u8>);

impl<'de> de::Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(BytesVisitor).map(Word)
    }
}

/// Collects a JSON string's bytes; any other type is a type error.
struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        Ok(v.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(body: &str) -> String {
        decode_state(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn rejects(body: &[u8]) -> bool {
        decode_state(body).is_err()
    }

    #[test]
    fn empty_bodies_decode_to_the_empty_word() {
        for body in [
            "null",
            "{}",
            r#"{"state":null}"#,
            r#"{"state":""}"#,
            " {} \n",
        ] {
            assert_eq!(word(body), "", "{body}");
        }
    }

    #[test]
    fn keys_match_as_go_folds_them() {
        for body in [
            r#"{"state":"running"}"#,
            r#"{"State":"running"}"#,
            r#"{"STATE":"running"}"#,
            r#"{"ſtate":"running"}"#,
            r#"{"st\u0061te":"running"}"#,
        ] {
            assert_eq!(word(body), "running", "{body}");
        }
        assert_eq!(word(r#"{"states":"running","stat":"running"}"#), "");
    }

    #[test]
    fn the_last_state_wins_and_null_keeps_the_previous_one() {
        assert_eq!(word(r#"{"state":"pending","STATE":"running"}"#), "running");
        assert_eq!(word(r#"{"state":"running","state":null}"#), "running");
    }

    #[test]
    fn other_keys_are_ignored_whatever_they_hold() {
        assert_eq!(
            word(r#"{"id":"i-1","tags":{"a":[1,2.5,null,true]},"state":"stopped","n":-1e9}"#),
            "stopped"
        );
    }

    #[test]
    fn values_are_not_case_folded() {
        assert_eq!(
            classify(&word(r#"{"state":"Running"}"#)),
            InstanceState::Unrecognized
        );
    }

    #[test]
    fn invalid_utf8_in_the_word_is_an_unknown_word_not_an_error() {
        let state = decode_state(b"{\"state\":\"run\xffning\"}").expect("decodes");
        assert_eq!(state, "run\u{fffd}ning");
        assert_eq!(classify(&state), InstanceState::Unrecognized);
        // Go turns a lone surrogate escape into U+FFFD too: still a word,
        // still unknown.
        let state = decode_state(br#"{"state":"\ud800running"}"#).expect("decodes");
        assert_eq!(classify(&state), InstanceState::Unrecognized);
    }

    #[test]
    fn a_key_with_invalid_utf8_matches_nothing() {
        let state = decode_state(b"{\"st\xffate\":\"running\",\"x\":1}").expect("decodes");
        assert_eq!(state, "");
    }

    #[test]
    fn wrong_types_and_bad_syntax_are_errors() {
        for body in [
            &br#"{"state":5}"#[..],
            br#"{"state":true}"#,
            br#"{"state":["running"]}"#,
            br#"{"state":{}}"#,
            br#"{"state":"running","state":5}"#,
            b"[]",
            br#""running""#,
            b"true",
            b"1",
            b"",
            b"   ",
            br#"{"state":"runn"#,
            br#"{"state":"running"} x"#,
            br#"{"state":"running"}{}"#,
            b"<html>running</html>",
        ] {
            assert!(rejects(body), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn only_the_six_instance_states_are_words() {
        for state in WIRE_STATES {
            assert_eq!(classify(state.as_str()), state);
        }
        for other in ["", "not-found", "unrecognized", "hibernating", "running "] {
            assert_eq!(classify(other), InstanceState::Unrecognized, "{other:?}");
        }
    }

    #[test]
    fn the_path_encodes_the_id_as_one_segment() {
        assert_eq!(
            path(&InstanceId::from("i-0aB9._~")),
            "/cp/instances/i-0aB9._~"
        );
        assert_eq!(
            path(&InstanceId::from("a/b?c d%é")),
            "/cp/instances/a%2Fb%3Fc%20d%25%C3%A9"
        );
    }
}
