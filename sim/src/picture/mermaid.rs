//! A Mermaid sequence diagram of the window around the first violation,
//! small enough to paste into an issue or a pull request (GitHub renders
//! Mermaid in Markdown).

use std::fmt::Write as _;

use indexmap::IndexSet;

use super::model::anchor;
use crate::oracle::Violation;
use crate::row::fmt_time;
use crate::trace::{Caller, Effect, Entry, Event, Trace};

/// Messages the diagram shows at most, the violation's note aside.
pub const MAX_MESSAGES: usize = 40;

/// Entries before the earliest evidence shown for context.
const CONTEXT: usize = 6;

/// The diagram, or `None` when the run has no violation. `trace` must be
/// whole, so that the evidence positions are its entries.
pub fn diagram(trace: &Trace, violations: &[Violation]) -> Option<String> {
    let v = violations.first()?;
    let entries: Vec<&Entry> = trace.entries().collect();
    let (evidence, upto) = anchor(v, &entries);
    let last = evidence
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(upto.saturating_sub(1));
    let first = evidence
        .iter()
        .copied()
        .min()
        .unwrap_or(last)
        .saturating_sub(CONTEXT);
    let mut shown: Vec<(usize, Message)> = (first..=last.min(entries.len().saturating_sub(1)))
        .filter_map(|i| message(entries[i]).map(|m| (i, m)))
        .collect();
    // Too many: keep the evidence and the messages nearest the violation.
    if shown.len() > MAX_MESSAGES {
        let mut keep: Vec<(usize, Message)> = Vec::with_capacity(MAX_MESSAGES);
        let room =
            MAX_MESSAGES.saturating_sub(shown.iter().filter(|(i, _)| evidence.contains(i)).count());
        let mut others = 0;
        for (i, m) in shown.into_iter().rev() {
            if evidence.contains(&i) {
                keep.push((i, m));
            } else if others < room {
                others += 1;
                keep.push((i, m));
            }
        }
        keep.reverse();
        shown = keep;
    }
    let mut participants: IndexSet<String> = IndexSet::new();
    for (_, m) in &shown {
        participants.insert(m.from.clone());
        participants.insert(m.to.clone());
    }
    let mut out = String::from("sequenceDiagram\n");
    for p in &participants {
        let _ = writeln!(out, "    participant {p}");
    }
    for (i, m) in &shown {
        let star = if evidence.contains(i) { "★ " } else { "" };
        let text = clean(&format!("{} {star}{}", fmt_time(entries[*i].at), m.text));
        if m.from == m.to {
            let _ = writeln!(out, "    Note over {}: {text}", m.from);
        } else {
            let _ = writeln!(out, "    {}{}{}: {text}", m.from, m.arrow, m.to);
        }
    }
    let span = match (participants.first(), participants.last()) {
        (Some(a), Some(b)) if a != b => format!("{a},{b}"),
        (Some(a), _) => a.clone(),
        _ => "Oracle".to_owned(),
    };
    let _ = writeln!(
        out,
        "    Note over {span}: {}",
        clean(&format!("VIOLATION {v}"))
    );
    Some(out)
}

/// One arrow (or a note, when `from == to`).
struct Message {
    from: String,
    to: String,
    arrow: &'static str,
    text: String,
}

fn msg(from: impl Into<String>, to: impl Into<String>, reply: bool, text: String) -> Message {
    Message {
        from: from.into(),
        to: to.into(),
        arrow: if reply { "-->>" } else { "->>" },
        text,
    }
}

/// The trace line without its time column, for a message's text.
fn words(e: &Entry) -> String {
    let line = e.to_string();
    line.split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ")
}

fn message(e: &Entry) -> Option<Message> {
    let text = words(e);
    Some(match &e.event {
        Event::Fleet { .. } | Event::PassEnd { .. } | Event::Log(_) => return None,
        Event::PassStart { r, .. } => msg(r.to_string(), r.to_string(), false, text),
        Event::Select { r, .. } => msg("Store", r.to_string(), true, text),
        Event::Read { r, .. } => msg("Store", r.to_string(), true, text),
        Event::Probe { r, .. } => msg(r.to_string(), "CP", false, text),
        Event::Answer { r, .. } => msg("CP", r.to_string(), true, text),
        Event::Abandoned { r, .. } => msg(r.to_string(), r.to_string(), false, text),
        Event::StoreFault { by, .. } => match by {
            Caller::Reconciler(r, _) => msg("Store", r.to_string(), true, text),
            Caller::Flow(..) => msg("Store", "Platform", true, text),
        },
        Event::Claim { r, .. } => msg(r.to_string(), "Store", false, text),
        Event::Flip { r, .. } => msg(r.to_string(), "Platform", false, text),
        Event::Offline { .. } | Event::RestartRequested { .. } | Event::FlowStart { .. } => {
            msg("Platform", "Platform", false, text)
        }
        Event::Step { effect, .. } => match effect {
            Effect::Read(_) | Effect::Wrote(_) | Effect::NoMatch => {
                msg("Platform", "Store", false, text)
            }
            Effect::Stopped { .. } | Effect::Launched(_) => msg("Platform", "Cloud", false, text),
            Effect::Waited(_) => msg("Platform", "Platform", false, text),
        },
        Event::FlowEnd { .. } => msg("Platform", "Platform", false, text),
        Event::Act { .. } => msg("Actors", "Store", false, text),
        Event::Cloud { .. } => msg("Cloud", "Cloud", false, text),
    })
}

/// Mermaid's message text ends at a newline, reads `;` as a separator and
/// `#` as the start of an entity: `;` becomes `,`, `#` its entity code.
fn clean(text: &str) -> String {
    text.replace(';', ",")
        .replace('#', "#35;")
        .replace("->", "→")
        .replace('\n', " ")
}
