//! The limits that hold while a scenario's YAML is read, before any of it
//! is deserialized: the file's size, its nesting depth ([`too_deep_at`], a
//! pass over the YAML events that builds nothing), its number of nodes,
//! anchors and aliases, and one document per file (serde-saphyr's budget,
//! which counts as it reads). A 100,000-deep or a 200,000-row file stops at
//! the limit instead of being built first.
//!
//! A breach reaches the user as a sentence naming the limit
//! ([`sentence`]), never as the YAML layer's own report.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::{Event, Parser};

use super::model::Pos;

use crate::limits::{
    MAX_FILE_BYTES, MAX_FLEET_ROWS, MAX_NESTING, MAX_STEPS, MAX_YAML_ALIASES, MAX_YAML_NODES,
    thousands,
};

/// [`MAX_YAML_NODES`] as the messages count.
const NODES: u64 = MAX_YAML_NODES as u64;

/// The YAML reader's options: the budget below, everything else default.
pub fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_NESTING,
            flow_nesting_limit: MAX_NESTING + 1,
            max_nodes: MAX_YAML_NODES,
            max_aliases: MAX_YAML_ALIASES,
            max_anchors: MAX_YAML_ALIASES,
            max_documents: 1,
        },
    }
}

/// Where `source`'s lists and maps first nest deeper than [`MAX_NESTING`],
/// found by reading its YAML events only (no value is built, so a
/// 100,000-deep file costs 17 levels of nothing). A syntax error ends the
/// pass without a finding: the deserializer then reports it, located.
pub fn too_deep_at(source: &str) -> Option<Pos> {
    // The scanner looks up to 1,024 characters ahead for a key; its own
    // nesting limits sit above that, so it stops at none before this does.
    let options = serde_saphyr::granit_parser::options! {
        flow_nesting_limit: 4_096,
        block_nesting_limit: 4_096,
    };
    let mut depth = 0usize;
    for item in Parser::new_from_str_with_options(source, options) {
        let (event, span) = item.ok()?;
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Pos {
                        line: u64::try_from(span.start.line()).unwrap_or(u64::MAX),
                        column: u64::try_from(span.start.col()).map_or(u64::MAX, |c| c + 1),
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The sentence for a file of `bytes` bytes, over [`MAX_FILE_BYTES`].
pub fn file_too_big(bytes: u64) -> String {
    format!(
        "the file is {} bytes: the maximum is {} bytes (1 MiB) for a scenario file",
        thousands(bytes),
        thousands(MAX_FILE_BYTES)
    )
}

/// The sentence for nesting past [`MAX_NESTING`], whether the budget or the
/// YAML scanner (which counts `[`/`{` as it reads) notices first.
pub fn too_deep() -> String {
    format!(
        "lists and maps nest more than {MAX_NESTING} deep here: the maximum nesting is \
         {MAX_NESTING} (the deepest scenario field is 5 deep)"
    )
}

/// What a budget breach means, as a sentence naming the limit.
pub fn sentence(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => too_deep(),
        BudgetBreach::Nodes { .. } => format!(
            "the file holds more than {} YAML values (keys, values, lists and maps): the \
             maximum is {} (a fleet holds at most {} rows, a scenario at most {} steps)",
            thousands(NODES),
            thousands(NODES),
            thousands(MAX_FLEET_ROWS),
            thousands(MAX_STEPS)
        ),
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. } => format!(
            "the file uses more YAML anchors and aliases (`&name`, `*name`) than a scenario may: \
             the maximum is {MAX_YAML_ALIASES} of each"
        ),
        BudgetBreach::Documents { .. } => {
            "the file holds more than one YAML document (`---`): expected one scenario per file"
                .to_owned()
        }
        _ => format!(
            "the file is larger than a scenario may be once read (at most {} bytes, {} YAML \
             values, nesting {MAX_NESTING} deep)",
            thousands(MAX_FILE_BYTES),
            thousands(NODES)
        ),
    }
}
