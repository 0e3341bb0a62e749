//! A run as lanes, spans and marks: the data the HTML page draws and its
//! snapshot pins. Built from a whole trace and the oracle's violations,
//! nothing else, so the picture shows exactly what the text trace says.

use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::hook::Flow;
use crate::oracle::Violation;
use crate::trace::{Caller, Effect, Entry, Event, FlowId, Trace};

/// How far the opening view reaches either side of the first violation's
/// window, at least.
const MIN_PAD: Duration = Duration::from_millis(100);

/// Log lines the violation panel lists (the latest before the violation).
const PANEL_LOGS: usize = 12;

/// The whole picture of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Picture {
    /// What ran (scenario or seed, variant).
    pub title: String,
    /// The run's last instant, in microseconds.
    pub end: u64,
    /// The lanes, top to bottom.
    pub lanes: Vec<Lane>,
    /// Time spans (passes, requests in flight, flows, instance states).
    pub spans: Vec<Span>,
    /// Instant events.
    pub marks: Vec<Mark>,
    /// The oracle's violations, in time order.
    pub violations: Vec<Marker>,
    /// The window the page opens on, in microseconds.
    pub focus: (u64, u64),
    /// The trace's text, one line per entry (marks and evidence refer to
    /// lines by index).
    pub lines: Vec<String>,
}

/// One actor's lane.
#[derive(Clone, Debug, Serialize)]
pub struct Lane {
    /// The name shown in the gutter (`r0`, `cloud i3`, `flow restart`).
    pub name: String,
    /// Its group, for filtering: replica, logs, store, cp, platform,
    /// actors, cloud.
    pub group: &'static str,
    /// How many rows of overlapping spans it stacks.
    pub rows: u32,
}

/// Something that lasted: from one entry to another.
#[derive(Clone, Debug, Serialize)]
pub struct Span {
    /// Lane index.
    pub lane: u32,
    /// Row within the lane (overlapping spans stack).
    pub row: u32,
    /// Start, microseconds.
    pub from: u64,
    /// End, microseconds.
    pub to: u64,
    /// Drawn inside the span.
    pub label: String,
    /// Style class.
    pub k: String,
    /// The trace line that opened it.
    pub i: usize,
}

/// One entry drawn at its instant.
#[derive(Clone, Debug, Serialize)]
pub struct Mark {
    /// The trace line.
    pub i: usize,
    /// Lane index.
    pub lane: u32,
    /// Row within the lane.
    pub row: u32,
    /// Instant, microseconds.
    pub at: u64,
    /// Style class.
    pub k: &'static str,
    /// What the reconciler believed here (an answer, the row it flipped
    /// on), when the entry says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub belief: Option<String>,
    /// Ground truth at the same instant, beside the belief.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truth: Option<String>,
}

/// A violation where it happened, with the lines the oracle decided on.
#[derive(Clone, Debug, Serialize)]
pub struct Marker {
    /// Instant, microseconds.
    pub at: u64,
    /// `kind/sub`.
    pub label: String,
    /// The oracle's sentence, as `replay` prints it.
    pub sentence: String,
    /// Trace lines the oracle used.
    pub evidence: Vec<usize>,
    /// The reconciler's log lines just before it (trace lines).
    pub logs: Vec<usize>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Builds lanes, spans and marks as it reads the trace.
#[derive(Default)]
struct Builder {
    lanes: IndexMap<String, &'static str>,
    spans: Vec<Span>,
    marks: Vec<Mark>,
    open_pass: IndexMap<u8, (usize, u64, u64)>,
    open_probe: IndexMap<(u8, String), (usize, u64)>,
    open_flow: IndexMap<FlowId, usize>,
    flow_span: IndexMap<FlowId, usize>,
    flow_marks: Vec<(usize, FlowId)>,
    open_state: IndexMap<String, usize>,
}

impl Builder {
    fn lane(&mut self, name: String, group: &'static str) -> u32 {
        let (idx, _) = self.lanes.insert_full(name, group);
        u32::try_from(idx).unwrap_or(u32::MAX)
    }

    fn mark(&mut self, i: usize, lane: u32, at: u64, k: &'static str) -> &mut Mark {
        self.marks.push(Mark {
            i,
            lane,
            row: 0,
            at,
            k,
            belief: None,
            truth: None,
        });
        self.marks.last_mut().expect("just pushed")
    }

    fn span(&mut self, i: usize, lane: u32, from: u64, label: String, k: String) -> usize {
        self.spans.push(Span {
            lane,
            row: 0,
            from,
            to: from,
            label,
            k,
            i,
        });
        self.spans.len() - 1
    }

    fn cloud_state(&mut self, i: usize, at: u64, instance: String, state: String) {
        if let Some(open) = self.open_state.shift_remove(&instance) {
            self.spans[open].to = at;
        }
        let lane = self.lane(format!("cloud {instance}"), "cloud");
        let k = format!("st-{state}");
        let s = self.span(i, lane, at, state, k);
        self.open_state.insert(instance, s);
    }

    fn entry(&mut self, i: usize, e: &Entry) {
        let at = micros(e.at);
        match &e.event {
            Event::Fleet { row, state } => {
                let lane = self.lane("store".to_owned(), "store");
                self.mark(i, lane, at, "fleet");
                if let (Some(inst), Some(s)) = (row.live_instance(), state) {
                    self.cloud_state(i, at, inst.to_string(), s.to_string());
                }
            }
            Event::PassStart { r, n } => {
                self.lane(r.to_string(), "replica");
                self.open_pass.insert(r.0, (i, at, *n));
            }
            Event::PassEnd { r, .. } => {
                if let Some((start, from, n)) = self.open_pass.shift_remove(&r.0) {
                    let lane = self.lane(r.to_string(), "replica");
                    let s = self.span(start, lane, from, format!("pass #{n}"), "pass".into());
                    self.spans[s].to = at;
                }
            }
            Event::Select { r, .. } => {
                let lane = self.lane(r.to_string(), "replica");
                self.mark(i, lane, at, "select");
            }
            Event::Read { r, row, .. } => {
                let lane = self.lane(r.to_string(), "replica");
                let m = self.mark(i, lane, at, "read");
                m.truth = Some(row.as_ref().map_or("no row".into(), ToString::to_string));
            }
            Event::Probe { r, instance } => {
                let lane = self.lane(r.to_string(), "replica");
                self.mark(i, lane, at, "probe");
                self.open_probe.insert((r.0, instance.to_string()), (i, at));
            }
            Event::Answer {
                r,
                instance,
                answer,
                truth,
            } => {
                let believed = match answer {
                    Ok(s) => s.to_string(),
                    Err(e) => format!("error: {e}"),
                };
                let wrong = answer.as_ref() != Ok(truth);
                let k = if wrong { "answer-wrong" } else { "answer" };
                let lane = self.lane(r.to_string(), "replica");
                let m = self.mark(i, lane, at, k);
                m.belief = Some(believed.clone());
                m.truth = Some(truth.to_string());
                let cp = self.lane("control plane".to_owned(), "cp");
                if let Some((start, from)) =
                    self.open_probe.shift_remove(&(r.0, instance.to_string()))
                {
                    let s = self.span(
                        start,
                        cp,
                        from,
                        format!("{instance}: {believed}"),
                        k.to_owned(),
                    );
                    self.spans[s].to = at;
                }
                self.mark(i, cp, at, k);
            }
            Event::Abandoned { r, .. } => {
                let lane = self.lane(r.to_string(), "replica");
                self.mark(i, lane, at, "fault");
            }
            Event::StoreFault { by, .. } => {
                let store = self.lane("store".to_owned(), "store");
                self.mark(i, store, at, "fault");
                if let Caller::Reconciler(r, _) = by {
                    let lane = self.lane(r.to_string(), "replica");
                    self.mark(i, lane, at, "fault");
                }
            }
            Event::Claim {
                r,
                instance,
                before,
                wrote,
                ..
            } => {
                let lane = self.lane(r.to_string(), "replica");
                let m = self.mark(i, lane, at, if *wrote { "claim" } else { "claim-lost" });
                m.belief = Some(format!("the row still holds {instance}"));
                m.truth = Some(before.as_ref().map_or("no row".into(), ToString::to_string));
                let store = self.lane("store".to_owned(), "store");
                self.mark(i, store, at, if *wrote { "write" } else { "claim-lost" });
            }
            Event::Flip { r, proven, row, .. } => {
                let lane = self.lane(r.to_string(), "replica");
                let m = self.mark(i, lane, at, "flip");
                m.belief = Some(proven.as_ref().map_or_else(
                    || "offline (no instance proven dead)".to_owned(),
                    |p| format!("{p} is dead"),
                ));
                m.truth = Some(row.as_ref().map_or("no row".into(), ToString::to_string));
            }
            Event::Offline { .. } => {
                let lane = self.lane("offline handler".to_owned(), "platform");
                self.mark(i, lane, at, "offline");
            }
            Event::RestartRequested { r, .. } => {
                let lane = self.lane(r.to_string(), "replica");
                self.mark(i, lane, at, "restart");
            }
            Event::FlowStart { flow, ws, .. } => {
                let lane = self.lane(flow_lane(flow.kind), "platform");
                let s = self.span(
                    i,
                    lane,
                    at,
                    format!("{} {ws}", flow.id),
                    format!("flow-{}", flow.kind.as_str()),
                );
                self.open_flow.insert(flow.id, s);
                self.flow_span.insert(flow.id, s);
                self.mark(i, lane, at, "flow");
                self.flow_marks.push((self.marks.len() - 1, flow.id));
            }
            Event::Step { flow, effect, .. } => {
                let lane = self.lane(flow_lane(flow.kind), "platform");
                let k = match effect {
                    Effect::Wrote(_) => "write",
                    Effect::NoMatch => "claim-lost",
                    Effect::Stopped { .. } => "stop",
                    Effect::Launched(_) => "launch",
                    Effect::Read(_) | Effect::Waited(_) => "step",
                };
                self.mark(i, lane, at, k);
                self.flow_marks.push((self.marks.len() - 1, flow.id));
                if matches!(effect, Effect::Wrote(_) | Effect::NoMatch) {
                    let store = self.lane("store".to_owned(), "store");
                    self.mark(i, store, at, k);
                }
            }
            Event::FlowEnd { flow, refused, .. } => {
                let lane = self.lane(flow_lane(flow.kind), "platform");
                if let Some(s) = self.open_flow.shift_remove(&flow.id) {
                    self.spans[s].to = at;
                }
                self.mark(
                    i,
                    lane,
                    at,
                    if refused.is_some() { "refused" } else { "flow" },
                );
                self.flow_marks.push((self.marks.len() - 1, flow.id));
            }
            Event::Act { row, .. } => {
                let lane = self.lane("actors".to_owned(), "actors");
                self.mark(i, lane, at, "actor");
                if row.is_some() {
                    let store = self.lane("store".to_owned(), "store");
                    self.mark(i, store, at, "write");
                }
            }
            Event::Cloud { instance, state } => {
                self.cloud_state(i, at, instance.to_string(), state.to_string());
                let lane = self.lane(format!("cloud {instance}"), "cloud");
                self.mark(i, lane, at, "cloud");
            }
            Event::Log(line) => {
                let lane = self.lane("reconciler logs".to_owned(), "logs");
                let k = match line.level {
                    tracing::Level::ERROR => "log-error",
                    tracing::Level::WARN => "log-warn",
                    tracing::Level::INFO => "log-info",
                    _ => "log-debug",
                };
                self.mark(i, lane, at, k);
            }
        }
    }

    /// Closes what the run left open at `end`, stacks overlapping spans and
    /// puts flow marks on their flow's row.
    fn finish(mut self, end: u64) -> (Vec<Lane>, Vec<Span>, Vec<Mark>) {
        let open: Vec<usize> = self
            .open_flow
            .values()
            .chain(self.open_state.values())
            .copied()
            .collect();
        for s in open {
            self.spans[s].to = end;
        }
        for (r, (start, from, n)) in std::mem::take(&mut self.open_pass) {
            let lane = self.lane(format!("r{r}"), "replica");
            let s = self.span(start, lane, from, format!("pass #{n} (cut)"), "pass".into());
            self.spans[s].to = end;
        }
        let mut order: Vec<usize> = (0..self.spans.len()).collect();
        order.sort_by_key(|&s| (self.spans[s].lane, self.spans[s].from, self.spans[s].i));
        let mut rows = vec![1u32; self.lanes.len()];
        let mut ends: IndexMap<u32, Vec<u64>> = IndexMap::new();
        for s in order {
            let span = &mut self.spans[s];
            let lane_ends = ends.entry(span.lane).or_default();
            let row = match lane_ends.iter().position(|&e| e <= span.from) {
                Some(r) => r,
                None => {
                    lane_ends.push(0);
                    lane_ends.len() - 1
                }
            };
            lane_ends[row] = span.to.max(span.from + 1);
            span.row = u32::try_from(row).unwrap_or(0);
            let lane = span.lane as usize;
            rows[lane] = rows[lane].max(span.row + 1);
        }
        for (m, flow) in &self.flow_marks {
            if let Some(&s) = self.flow_span.get(flow) {
                self.marks[*m].row = self.spans[s].row;
            }
        }
        let lanes = self
            .lanes
            .into_iter()
            .zip(rows)
            .map(|((name, group), rows)| Lane { name, group, rows })
            .collect();
        (lanes, self.spans, self.marks)
    }
}

fn flow_lane(kind: Flow) -> String {
    format!("flow {}", kind.as_str())
}

/// The order groups are drawn in, top to bottom.
fn group_rank(group: &str) -> u8 {
    match group {
        "replica" => 0,
        "logs" => 1,
        "store" => 2,
        "cp" => 3,
        "platform" => 4,
        "actors" => 5,
        _ => 6,
    }
}

impl Picture {
    /// The picture of a run: `trace` must be whole (kept with `Keep::All`),
    /// so that the violations' evidence positions are its lines.
    pub fn new(title: String, trace: &Trace, violations: &[Violation]) -> Self {
        let mut b = Builder::default();
        let mut lines = Vec::with_capacity(trace.entries().len());
        for (i, e) in trace.entries().enumerate() {
            b.entry(i, e);
            lines.push(e.to_string());
        }
        let end = micros(trace.last_at());
        let (lanes, spans, marks) = b.finish(end);
        let (lanes, spans, marks) = sort_lanes(lanes, spans, marks);
        let entries: Vec<&Entry> = trace.entries().collect();
        let violations: Vec<Marker> = violations.iter().map(|v| marker(v, &entries)).collect();
        let focus = focus(violations.first(), &entries, end);
        Picture {
            title,
            end,
            lanes,
            spans,
            marks,
            violations,
            focus,
            lines,
        }
    }
}

/// Reorders lanes by group (stable within one), renumbering spans and
/// marks.
fn sort_lanes(
    lanes: Vec<Lane>,
    mut spans: Vec<Span>,
    mut marks: Vec<Mark>,
) -> (Vec<Lane>, Vec<Span>, Vec<Mark>) {
    let mut order: Vec<usize> = (0..lanes.len()).collect();
    order.sort_by_key(|&l| (group_rank(lanes[l].group), l));
    let mut new_index = vec![0u32; lanes.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = u32::try_from(new).unwrap_or(u32::MAX);
    }
    for s in &mut spans {
        s.lane = new_index[s.lane as usize];
    }
    for m in &mut marks {
        m.lane = new_index[m.lane as usize];
    }
    let mut slots: Vec<Option<Lane>> = lanes.into_iter().map(Some).collect();
    let lanes = order.iter().filter_map(|&l| slots[l].take()).collect();
    (lanes, spans, marks)
}

/// Where violation `v` stands in `entries` (the whole trace): the
/// positions of its evidence found there, and how many entries came at or
/// before its instant. The page's marker and the Mermaid window both start
/// from it.
pub(crate) fn anchor(v: &Violation, entries: &[&Entry]) -> (Vec<usize>, usize) {
    let evidence = v
        .evidence
        .iter()
        .filter_map(|&e| usize::try_from(e).ok())
        .filter(|&e| e < entries.len())
        .collect();
    (evidence, entries.partition_point(|e| e.at <= v.at))
}

fn marker(v: &Violation, entries: &[&Entry]) -> Marker {
    let (evidence, upto) = anchor(v, entries);
    let mut logs: Vec<usize> = (0..upto)
        .rev()
        .filter(|&i| matches!(entries[i].event, Event::Log(_)))
        .take(PANEL_LOGS)
        .collect();
    logs.reverse();
    Marker {
        at: micros(v.at),
        label: v.label(),
        sentence: v.to_string(),
        evidence,
        logs,
    }
}

/// The window around the first violation: from its earliest evidence to
/// the violation, padded by half its width (at least [`MIN_PAD`]); the
/// whole run when there is none.
fn focus(first: Option<&Marker>, entries: &[&Entry], end: u64) -> (u64, u64) {
    let Some(v) = first else {
        return (0, end.max(1));
    };
    let times = v
        .evidence
        .iter()
        .map(|&i| micros(entries[i].at))
        .chain([v.at]);
    let lo = times.clone().min().unwrap_or(v.at);
    let hi = times.max().unwrap_or(v.at);
    let pad = ((hi - lo) / 2).max(micros(MIN_PAD));
    (lo.saturating_sub(pad), hi + pad)
}
