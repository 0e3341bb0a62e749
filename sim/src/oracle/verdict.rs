//! The oracle's vocabulary: kinds of violation, their sub-reasons (one enum
//! from which the oracle, `--find`, the scenario language and the schema
//! all derive), and a violation as reported.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use reconciler_core::WorkspaceId;

use crate::row::fmt_time;
use crate::trace::Replica;

/// The kinds of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A flip not proven by a clean, true, terminal answer about the row's
    /// current instance (safety).
    UnprovenFlip,
    /// A flip of a row whose probe or reads errored in the same pass
    /// (safety).
    FlipAfterError,
    /// A select, probe or flip of a row outside the candidate scope
    /// (safety).
    OutOfScope,
    /// The offline handler called without the decision the variant's own
    /// rules require (safety).
    UnlicensedRestart,
    /// What a flip's restart cost: an instance killed, two provisions
    /// racing, an owner's decision undone (harm).
    RestartHarm,
    /// Flips of one workspace, again and again, whose restarts never bring
    /// it back (harm).
    RestartStorm,
    /// A dead workspace left in scope too long (liveness).
    MissedDead,
    /// A pass that ran past its deadline (timeliness).
    CycleOverrun,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 8] = [
        Kind::UnprovenFlip,
        Kind::FlipAfterError,
        Kind::OutOfScope,
        Kind::UnlicensedRestart,
        Kind::RestartHarm,
        Kind::RestartStorm,
        Kind::MissedDead,
        Kind::CycleOverrun,
    ];

    /// The name used in reports, scenario files and `--find`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UnprovenFlip => "unproven_flip",
            Kind::FlipAfterError => "flip_after_error",
            Kind::OutOfScope => "out_of_scope",
            Kind::UnlicensedRestart => "unlicensed_restart",
            Kind::RestartHarm => "restart_harm",
            Kind::RestartStorm => "restart_storm",
            Kind::MissedDead => "missed_dead",
            Kind::CycleOverrun => "cycle_overrun",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The sub-reasons of this kind.
    pub fn subs(self) -> impl Iterator<Item = Sub> {
        Sub::ALL.into_iter().filter(move |s| s.kind() == self)
    }

    /// True for liveness and timeliness failures (as opposed to safety and
    /// harm).
    pub fn is_liveness(self) -> bool {
        matches!(self, Kind::MissedDead | Kind::CycleOverrun)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why exactly a rule was broken; each belongs to one [`Kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(
    missing_docs,
    reason = "each variant is documented by the rule that reports it"
)]
pub enum Sub {
    RowGone,
    StatusMoved,
    RuntimeExternal,
    InstanceCleared,
    InstanceChanged,
    NoAnswer,
    NonTerminalAnswer,
    StaleAnswer,
    ChangedAfterReconfirm,
    ProbeError,
    ReadError,
    SelectedOutOfScope,
    ProbedOutOfScope,
    FlipNotSelected,
    ClaimNotMatched,
    NoClaim,
    ReconfirmDisagreed,
    NoReconfirm,
    NoNegativeProbe,
    KilledLiveInstance,
    RacingProvisions,
    UndidOwner,
    DuringManualRestart,
    NeverBack,
    DegradedRow,
    OnlineRow,
    PastDeadline,
}

impl Sub {
    /// Every sub-reason, grouped by kind in report order.
    pub const ALL: [Sub; 27] = [
        Sub::RowGone,
        Sub::StatusMoved,
        Sub::RuntimeExternal,
        Sub::InstanceCleared,
        Sub::InstanceChanged,
        Sub::NoAnswer,
        Sub::NonTerminalAnswer,
        Sub::StaleAnswer,
        Sub::ChangedAfterReconfirm,
        Sub::ProbeError,
        Sub::ReadError,
        Sub::SelectedOutOfScope,
        Sub::ProbedOutOfScope,
        Sub::FlipNotSelected,
        Sub::ClaimNotMatched,
        Sub::NoClaim,
        Sub::ReconfirmDisagreed,
        Sub::NoReconfirm,
        Sub::NoNegativeProbe,
        Sub::KilledLiveInstance,
        Sub::RacingProvisions,
        Sub::UndidOwner,
        Sub::DuringManualRestart,
        Sub::NeverBack,
        Sub::DegradedRow,
        Sub::OnlineRow,
        Sub::PastDeadline,
    ];

    /// The kind it belongs to.
    pub fn kind(self) -> Kind {
        use Sub::*;
        match self {
            RowGone
            | StatusMoved
            | RuntimeExternal
            | InstanceCleared
            | InstanceChanged
            | NoAnswer
            | NonTerminalAnswer
            | StaleAnswer
            | ChangedAfterReconfirm => Kind::UnprovenFlip,
            ProbeError | ReadError => Kind::FlipAfterError,
            SelectedOutOfScope | ProbedOutOfScope | FlipNotSelected => Kind::OutOfScope,
            ClaimNotMatched | NoClaim | ReconfirmDisagreed | NoReconfirm | NoNegativeProbe => {
                Kind::UnlicensedRestart
            }
            KilledLiveInstance | RacingProvisions | UndidOwner | DuringManualRestart => {
                Kind::RestartHarm
            }
            NeverBack => Kind::RestartStorm,
            DegradedRow | OnlineRow => Kind::MissedDead,
            PastDeadline => Kind::CycleOverrun,
        }
    }

    /// The name used after the `/` of a label.
    pub fn as_str(self) -> &'static str {
        use Sub::*;
        match self {
            RowGone => "row_gone",
            StatusMoved => "status_moved",
            RuntimeExternal => "runtime_external",
            InstanceCleared => "instance_cleared",
            InstanceChanged => "instance_changed",
            NoAnswer => "no_answer",
            NonTerminalAnswer => "non_terminal_answer",
            StaleAnswer => "stale_answer",
            ChangedAfterReconfirm => "changed_after_reconfirm",
            ProbeError => "probe_error",
            ReadError => "read_error",
            SelectedOutOfScope => "selected_out_of_scope",
            ProbedOutOfScope => "probed_out_of_scope",
            FlipNotSelected => "flip_not_selected",
            ClaimNotMatched => "claim_not_matched",
            NoClaim => "no_claim",
            ReconfirmDisagreed => "reconfirm_disagreed",
            NoReconfirm => "no_reconfirm",
            NoNegativeProbe => "no_negative_probe",
            KilledLiveInstance => "killed_live_instance",
            RacingProvisions => "racing_provisions",
            UndidOwner => "undid_owner",
            DuringManualRestart => "during_manual_restart",
            NeverBack => "never_back",
            DegradedRow => "degraded_row",
            OnlineRow => "online_row",
            PastDeadline => "past_deadline",
        }
    }
}

impl fmt::Display for Sub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind(), self.as_str())
    }
}

/// A violation label as written by a user: `kind` alone (any sub-reason)
/// or `kind/sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// The kind.
    pub kind: Kind,
    /// The sub-reason, if the label names one.
    pub sub: Option<Sub>,
}

impl Label {
    /// True when `v` is what this label describes.
    pub fn matches(&self, v: &Violation) -> bool {
        v.sub.kind() == self.kind && self.sub.is_none_or(|s| s == v.sub)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            Some(s) => write!(f, "{s}"),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl FromStr for Label {
    type Err = String;

    /// Parses `kind` or `kind/sub`; an unknown kind or sub-reason is an
    /// error that lists the valid ones.
    fn from_str(text: &str) -> Result<Self, String> {
        let (kind, sub) = match text.split_once('/') {
            Some((k, s)) => (k, Some(s)),
            None => (text, None),
        };
        let kind = Kind::parse(kind).ok_or_else(|| {
            format!(
                "unknown violation kind {kind:?}: expected one of {}",
                Kind::ALL.map(Kind::as_str).join(", ")
            )
        })?;
        let sub = match sub {
            None => None,
            Some(s) => Some(kind.subs().find(|x| x.as_str() == s).ok_or_else(|| {
                format!(
                    "unknown sub-reason {s:?} of {kind}: expected one of {}",
                    kind.subs().map(Sub::as_str).collect::<Vec<_>>().join(", ")
                )
            })?),
        };
        Ok(Label { kind, sub })
    }
}

/// One violation found in a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// What rule was broken, and exactly how.
    pub sub: Sub,
    /// When.
    pub at: Duration,
    /// The replica and pass it happened in, when it is about one.
    pub pass: Option<(Replica, u64)>,
    /// The workspace concerned.
    pub ws: Option<WorkspaceId>,
    /// A sentence for humans.
    pub detail: String,
    /// The trace entries (by position, from 0) the oracle decided on: the
    /// answer, the row at the flip, the step that did harm.
    pub evidence: Vec<u64>,
}

impl Violation {
    /// The rule broken.
    pub fn kind(&self) -> Kind {
        self.sub.kind()
    }

    /// `kind/sub`, the label `--find` and scenario files match.
    pub fn label(&self) -> String {
        self.sub.to_string()
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.sub, fmt_time(self.at))?;
        if let Some((r, p)) = self.pass {
            write!(f, " in {r} pass #{p}")?;
        }
        if let Some(ws) = &self.ws {
            write!(f, " on {ws}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sub_belongs_to_a_kind_and_every_kind_has_one() {
        for k in Kind::ALL {
            assert!(k.subs().count() > 0, "{k}");
        }
        for s in Sub::ALL {
            let label: Label = s.to_string().parse().expect("a sub's label parses");
            assert_eq!(
                label,
                Label {
                    kind: s.kind(),
                    sub: Some(s)
                }
            );
        }
        let mut names: Vec<String> = Sub::ALL.iter().map(ToString::to_string).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Sub::ALL.len());
    }

    #[test]
    fn unknown_labels_list_the_valid_ones() {
        let e = "unproven_flip/typo".parse::<Label>().unwrap_err();
        assert!(
            e.contains("unknown sub-reason \"typo\"") && e.contains("row_gone"),
            "{e}"
        );
        let e = "nonsense".parse::<Label>().unwrap_err();
        assert!(
            e.contains("unknown violation kind") && e.contains("restart_harm"),
            "{e}"
        );
        assert_eq!(
            "missed_dead".parse::<Label>(),
            Ok(Label {
                kind: Kind::MissedDead,
                sub: None
            })
        );
    }
}
