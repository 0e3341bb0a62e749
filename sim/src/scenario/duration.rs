//! Durations as scenario files write them: `<int><unit>` with unit
//! `ms|s|m|h`, optionally signed (`updated_at: -10m`), and latencies that
//! are either one duration or an inclusive `{min, max}` range.
//!
//! They parse while the YAML is read, so a malformed duration is reported
//! by the YAML layer at the exact scalar, with what was expected.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::limits::MAX_DURATION_MS;

/// A signed duration in milliseconds, as written in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub i64);

impl Dur {
    /// Parses `<int><unit>` (`ms|s|m|h`), with an optional leading `-`, of at
    /// most [`MAX_DURATION_MS`] either way.
    pub fn parse(text: &str) -> Result<Dur, String> {
        let expected = "a duration like 250ms, 30s, 2m or 1h (an integer and a unit ms|s|m|h)";
        let (neg, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let split = body
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(body.len());
        let (digits, unit) = body.split_at(split);
        if digits.is_empty() {
            return Err(format!("expected {expected}, found {:?}", cut(text)));
        }
        let n: i64 = digits.parse().map_err(|_| too_long(text))?;
        let factor = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "" => {
                return Err(format!(
                    "expected {expected}, found {:?} (the unit is missing)",
                    cut(text)
                ));
            }
            other => {
                return Err(format!(
                    "expected {expected}, found {:?} (unknown unit {:?})",
                    cut(text),
                    cut(other)
                ));
            }
        };
        let ms = n
            .checked_mul(factor)
            .filter(|ms| *ms <= MAX_DURATION_MS)
            .ok_or_else(|| too_long(text))?;
        Ok(Dur(if neg { -ms } else { ms }))
    }

    /// The value in milliseconds, if it is not negative.
    pub fn millis(self) -> Option<u64> {
        u64::try_from(self.0).ok()
    }

    /// As a `std::time::Duration`, if it is not negative.
    pub fn std(self) -> Option<std::time::Duration> {
        self.millis().map(std::time::Duration::from_millis)
    }
}

/// The sentence for a duration past [`MAX_DURATION_MS`] (or past `i64`).
fn too_long(text: &str) -> String {
    format!(
        "duration {:?} is too long: the maximum is {} (a week)",
        cut(text),
        Dur(MAX_DURATION_MS)
    )
}

/// `text`, or its first 20 characters and an ellipsis: a 10,000-digit
/// number is quoted, not printed.
fn cut(text: &str) -> String {
    match text.char_indices().nth(20) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, ms) = if self.0 < 0 {
            ("-", self.0.unsigned_abs())
        } else {
            ("", self.0.unsigned_abs())
        };
        if ms != 0 && ms.is_multiple_of(3_600_000) {
            write!(f, "{sign}{}h", ms / 3_600_000)
        } else if ms != 0 && ms.is_multiple_of(60_000) {
            write!(f, "{sign}{}m", ms / 60_000)
        } else if ms.is_multiple_of(1_000) {
            write!(f, "{sign}{}s", ms / 1_000)
        } else {
            write!(f, "{sign}{ms}ms")
        }
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct DurVisitor;

impl Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration like 250ms, 30s, 2m or 1h")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
        Dur::parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DurVisitor)
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: an integer and a unit ms|s|m|h (e.g. 250ms, 30s, 2m); `updated_at` may carry a leading `-`.",
            "type": "string",
            "pattern": "^-?[0-9]+(ms|s|m|h)$"
        })
    }
}

/// A latency: one fixed duration, or an inclusive range drawn per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    /// Every call takes this long.
    Fixed(Dur),
    /// Each call takes a duration drawn uniformly from `min..=max`.
    Range {
        /// The shortest.
        min: Dur,
        /// The longest.
        max: Dur,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFields {
    min: Dur,
    max: Dur,
}

struct LatencyVisitor;

impl<'de> Visitor<'de> for LatencyVisitor {
    type Value = Latency;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a latency: a duration like 50ms, or a range {min: 1s, max: 9s}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Latency, E> {
        Dur::parse(v).map(Latency::Fixed).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Latency, A::Error> {
        let r = RangeFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Latency::Range {
            min: r.min,
            max: r.max,
        })
    }
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LatencyVisitor)
    }
}

impl JsonSchema for Latency {
    fn schema_name() -> Cow<'static, str> {
        "Latency".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let dur = generator.subschema_for::<Dur>();
        json_schema!({
            "description": "A fixed latency (e.g. 50ms) or an inclusive range {min, max} drawn per call.",
            "oneOf": [
                dur,
                {
                    "type": "object",
                    "properties": { "min": dur, "max": dur },
                    "required": ["min", "max"],
                    "additionalProperties": false
                }
            ]
        })
    }
}
