//! Hook points: the instants at which a director may make actors act.
//!
//! Tokio runs the tasks of one runtime in FIFO order whatever the seed, so
//! interleavings come only from here: every store call, control-plane
//! request and answer, re-confirm, claim, flip and pass boundary of the
//! reconciler, and every step of the platform's multi-step flows, offers the
//! director a chance to change the world before or after it.

use std::fmt;

/// Before or after the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum When {
    /// Just before.
    Before,
    /// Just after.
    After,
}

impl When {
    /// The word scenario files use.
    pub fn as_str(self) -> &'static str {
        match self {
            When::Before => "before",
            When::After => "after",
        }
    }
}

/// One of the platform's flows that take several steps, each of which is a
/// hook point (`shared/reference/platform-flows.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flow {
    /// `RestartByID`, started by the offline handler (a flip).
    Restart,
    /// The owner's `POST /workspaces/:id/restart`.
    ManualRestart,
    /// The owner pauses the workspace.
    Pause,
    /// The owner resumes a paused workspace.
    Resume,
    /// The platform hibernates an idle workspace.
    Hibernate,
    /// The owner (soft-)deletes the workspace.
    Delete,
}

impl Flow {
    /// Every flow, in a stable order.
    pub const ALL: [Flow; 6] = [
        Flow::Restart,
        Flow::ManualRestart,
        Flow::Pause,
        Flow::Resume,
        Flow::Hibernate,
        Flow::Delete,
    ];

    /// The name in hook points (`restart.stop`) and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Restart => "restart",
            Flow::ManualRestart => "manual_restart",
            Flow::Pause => "pause",
            Flow::Resume => "resume",
            Flow::Hibernate => "hibernate",
            Flow::Delete => "delete",
        }
    }

    /// The steps this flow can take, under either platform mode, in the
    /// order they run.
    pub fn steps(self) -> &'static [Step] {
        use Step::*;
        match self {
            Flow::Restart => &[Read, Claim, Wait, Stop, Status, Launch, Record, Online],
            Flow::ManualRestart => &[Read, Claim, Stop, Status, Launch, Record, Online],
            Flow::Pause => &[Read, Claim, Stop, Status],
            Flow::Resume => &[Read, Claim, Status, Launch, Record, Online],
            Flow::Hibernate => &[Claim, Stop, Status],
            Flow::Delete => &[Claim, Status, Stop],
        }
    }
}

/// One step of a [`Flow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The flow's first read of the row.
    Read,
    /// A guarded status write that decides whether the flow goes on (the
    /// Hibernate pattern; under the hardened platform every flow starts so).
    Claim,
    /// `RestartByID`'s 10 s sleep when the row is `provisioning`.
    Wait,
    /// Stop: the control plane terminates (or, for a pause, stops) an
    /// instance.
    Stop,
    /// The flow's unguarded status write.
    Status,
    /// Provision: the control plane launches a new instance.
    Launch,
    /// Provision: the new instance's id is recorded on the row.
    Record,
    /// Provision: the new instance runs, its agent registers, the row is
    /// `online` again.
    Online,
}

impl Step {
    /// The name in hook points (`restart.stop`).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Read => "read",
            Step::Claim => "claim",
            Step::Wait => "wait",
            Step::Stop => "stop",
            Step::Status => "status",
            Step::Launch => "launch",
            Step::Record => "record",
            Step::Online => "online",
        }
    }
}

/// The operation at a hook point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Point {
    /// The candidate query.
    Select,
    /// `IsRunning`'s instance lookup (legacy, pr2283).
    Resolve,
    /// The control-plane request's outbound leg; "after" is when the
    /// control plane reads the instance's state.
    Probe,
    /// The answer's return leg; "after" is when the reconciler has it.
    Answer,
    /// The re-confirm read (pr2283).
    Reconfirm,
    /// `hardened`'s guarded claim write.
    Claim,
    /// The flip: the call to the offline handler.
    Flip,
    /// A pass boundary.
    Pass,
    /// A step of one of the platform's flows.
    Step(Flow, Step),
}

impl Point {
    /// The reconciler's points, in pipeline order.
    pub const RECONCILER: [Point; 8] = [
        Point::Select,
        Point::Resolve,
        Point::Probe,
        Point::Answer,
        Point::Reconfirm,
        Point::Claim,
        Point::Flip,
        Point::Pass,
    ];

    /// Every point: the reconciler's, then each flow's steps.
    pub fn all() -> impl Iterator<Item = Point> {
        Point::RECONCILER.into_iter().chain(
            Flow::ALL
                .into_iter()
                .flat_map(|f| f.steps().iter().map(move |s| Point::Step(f, *s))),
        )
    }

    /// Parses the name scenario files use (`probe`, `restart.stop`).
    pub fn parse(s: &str) -> Option<Point> {
        Point::all().find(|p| p.to_string() == s)
    }

    /// True for a point of the reconciler itself (as opposed to a platform
    /// flow's step).
    pub fn is_reconciler(self) -> bool {
        !matches!(self, Point::Step(..))
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Point::Select => "select",
            Point::Resolve => "resolve",
            Point::Probe => "probe",
            Point::Answer => "answer",
            Point::Reconfirm => "reconfirm",
            Point::Claim => "claim",
            Point::Flip => "flip",
            Point::Pass => "pass",
            Point::Step(flow, step) => {
                return write!(f, "{}.{}", flow.as_str(), step.as_str());
            }
        })
    }
}

/// A hook point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hook {
    /// Before or after.
    pub when: When,
    /// Which operation.
    pub point: Point,
}

impl Hook {
    /// Shorthand for `Hook { when: Before, point }`.
    pub fn before(point: Point) -> Self {
        Self {
            when: When::Before,
            point,
        }
    }

    /// Shorthand for `Hook { when: After, point }`.
    pub fn after(point: Point) -> Self {
        Self {
            when: When::After,
            point,
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.when.as_str(), self.point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_parses_back_from_its_name() {
        let all: Vec<Point> = Point::all().collect();
        assert_eq!(all.len(), 8 + 8 + 7 + 4 + 6 + 3 + 3);
        for p in all {
            assert_eq!(Point::parse(&p.to_string()), Some(p), "{p}");
        }
        assert_eq!(
            Point::parse("restart.stop"),
            Some(Point::Step(Flow::Restart, Step::Stop))
        );
        assert_eq!(Point::parse("pause.wait"), None, "pause has no wait step");
        assert_eq!(Point::parse("teleport"), None);
    }
}
