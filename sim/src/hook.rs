//! Hook points: the instants at which a director may make actors act.
//!
//! Tokio runs the tasks of one runtime in FIFO order whatever the seed, so
//! interleavings come only from here: every store call, control-plane
//! request and answer, re-confirm, flip and pass boundary offers the
//! director a chance to change the world before or after it.

use std::fmt;
use std::str::FromStr;

/// Before or after the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum When {
    /// Just before.
    Before,
    /// Just after.
    After,
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
    /// The flip's write.
    Flip,
    /// A pass boundary.
    Pass,
}

impl Point {
    /// Every point, in pipeline order.
    pub const ALL: [Point; 7] = [
        Point::Select,
        Point::Resolve,
        Point::Probe,
        Point::Answer,
        Point::Reconfirm,
        Point::Flip,
        Point::Pass,
    ];

    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Point::Select => "select",
            Point::Resolve => "resolve",
            Point::Probe => "probe",
            Point::Answer => "answer",
            Point::Reconfirm => "reconfirm",
            Point::Flip => "flip",
            Point::Pass => "pass",
        }
    }
}

impl FromStr for Point {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Point::ALL.into_iter().find(|p| p.as_str() == s).ok_or(())
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
        let w = match self.when {
            When::Before => "before",
            When::After => "after",
        };
        write!(f, "{w} {}", self.point.as_str())
    }
}
