//! The network faults of the network mode: what turmoil can do to the link
//! between the reconciler's host and the control plane's, drawn from the
//! run's seed (stream `"net"`) and applied between turmoil steps.

use std::fmt;
use std::time::Duration;

use rand::RngExt;

use super::{CP, RECONCILER};
use crate::row::fmt_time;
use crate::seed::child_rng;

/// One fault on the link, for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkFault {
    /// Both directions drop every message, then the link is repaired.
    Partition,
    /// Only the control plane's answers are dropped (requests arrive).
    PartitionAnswers,
    /// Messages are held on the link, then released all at once.
    Hold,
    /// Every message takes this long to cross.
    Latency(Duration),
}

/// The network faults of one run, in time order: (start, fault, how long).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetFaults {
    /// The faults.
    pub faults: Vec<(Duration, LinkFault, Duration)>,
}

/// The longest a drawn fault lasts: past the 10 s request cap, so that a
/// partition can cost a request.
const LONGEST_MS: u64 = 20_000;

/// At most this many faults a run.
const MOST: usize = 3;

impl NetFaults {
    /// Draws up to three faults from `seed`, each starting within `span`
    /// (about the run's length); one run in three has none.
    pub fn draw(seed: u64, span: Duration) -> Self {
        let mut rng = child_rng(seed, "net");
        let n = rng.random_range(0..=MOST);
        let span_ms = u64::try_from(span.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut faults: Vec<(Duration, LinkFault, Duration)> = (0..n)
            .map(|_| {
                let at = Duration::from_millis(rng.random_range(0..span_ms));
                let fault = match rng.random_range(0..4) {
                    0 => LinkFault::Partition,
                    1 => LinkFault::PartitionAnswers,
                    2 => LinkFault::Hold,
                    _ => LinkFault::Latency(Duration::from_millis(rng.random_range(1..=2_000))),
                };
                let lasts = Duration::from_millis(rng.random_range(100..=LONGEST_MS));
                (at, fault, lasts)
            })
            .collect();
        faults.sort_by_key(|(at, _, _)| *at);
        Self { faults }
    }

    /// The start and end of every fault as link events, in time order
    /// (ends before starts at the same instant, and in drawing order
    /// otherwise).
    pub(crate) fn events(&self) -> Vec<(Duration, LinkEvent)> {
        let mut events = Vec::with_capacity(2 * self.faults.len());
        for (at, fault, lasts) in &self.faults {
            events.push((*at, LinkEvent::Start(*fault)));
            events.push((*at + *lasts, LinkEvent::End(*fault)));
        }
        events.sort_by_key(|(at, e)| (*at, matches!(e, LinkEvent::Start(_))));
        events
    }
}

impl fmt::Display for NetFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.faults.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self
            .faults
            .iter()
            .map(|(at, fault, lasts)| {
                let what = match fault {
                    LinkFault::Partition => "partition".to_owned(),
                    LinkFault::PartitionAnswers => "answers partitioned".to_owned(),
                    LinkFault::Hold => "hold".to_owned(),
                    LinkFault::Latency(d) => format!("latency {} ms", d.as_millis()),
                };
                format!("{what} at {} for {}", fmt_time(*at), fmt_time(*lasts))
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// A fault starting or ending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkEvent {
    /// The fault starts.
    Start(LinkFault),
    /// It ends.
    End(LinkFault),
}

impl LinkEvent {
    /// Applies the event to the link of `sim`.
    pub(crate) fn apply(self, sim: &turmoil::Sim<'_>) {
        match self {
            LinkEvent::Start(LinkFault::Partition) => sim.partition(RECONCILER, CP),
            LinkEvent::End(LinkFault::Partition) => sim.repair(RECONCILER, CP),
            LinkEvent::Start(LinkFault::PartitionAnswers) => sim.partition_oneway(CP, RECONCILER),
            LinkEvent::End(LinkFault::PartitionAnswers) => sim.repair_oneway(CP, RECONCILER),
            LinkEvent::Start(LinkFault::Hold) => sim.hold(RECONCILER, CP),
            LinkEvent::End(LinkFault::Hold) => sim.release(RECONCILER, CP),
            LinkEvent::Start(LinkFault::Latency(d)) => sim.set_link_latency(RECONCILER, CP, d),
            LinkEvent::End(LinkFault::Latency(_)) => {
                sim.set_link_latency(RECONCILER, CP, Duration::ZERO);
            }
        }
    }
}
