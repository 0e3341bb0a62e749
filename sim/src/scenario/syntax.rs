//! The two small text languages inside scenario values: hook points
//! (`after select ws-1`) and actions (`cp_slow 9s for 2m`). Syntax only;
//! whether a named workspace or instance exists is checked by `validate`.

use reconciler_core::{InstanceId, Status, WorkspaceId};

use super::duration::Dur;
use crate::action::{Action, CpFailure};
use crate::hook::{Hook, Point, When};

/// The hook-point words, for messages.
const POINTS: &str = "select, resolve, probe, answer, reconfirm, flip, pass";

/// Parses `<before|after> <point> [workspace-id]`.
pub fn parse_hook(text: &str) -> Result<(Hook, Option<WorkspaceId>), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let expected = format!(
        "expected `<before|after> <{}> [workspace-id]`",
        POINTS.replace(", ", "|")
    );
    let when = match words.first() {
        Some(&"before") => When::Before,
        Some(&"after") => When::After,
        Some(w) => return Err(format!("{expected}: {w:?} is not `before` or `after`")),
        None => return Err(format!("{expected}, found nothing")),
    };
    let point = match words.get(1) {
        Some(p) => p
            .parse::<Point>()
            .map_err(|()| format!("unknown hook point {p:?}: expected one of {POINTS}"))?,
        None => return Err(format!("{expected}: the hook point is missing")),
    };
    if words.len() > 3 {
        return Err(format!("{expected}: unexpected {:?}", words[3..].join(" ")));
    }
    Ok((
        Hook { when, point },
        words.get(2).map(|w| WorkspaceId::from(*w)),
    ))
}

/// Every action verb with its arguments, for messages.
pub const ACTIONS: &str = "delete WS, orphan_sweep WS, clear_instance WS, reprovision WS, \
degrade WS, recover WS, pause WS, resume WS, set_status WS STATUS, terminate I, stop I, \
start I, cp_slow LATENCY for DURATION, cp_error [COUNT] [transport|5xx|garbage], \
cp_partition for DURATION, db_error [COUNT]";

/// Parses one action (the syntax of `Action`'s `Display`).
pub fn parse_action(text: &str) -> Result<Action, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Err(format!(
            "expected an action, found nothing (one of: {ACTIONS})"
        ));
    };
    let usage = |u: &str| format!("`{verb}` takes {u}, found {text:?}");
    let ws = |args: &[&str]| match args {
        [w] => Ok(WorkspaceId::from(*w)),
        _ => Err(usage("one workspace id (e.g. `{verb} ws-1`)").replace("{verb}", verb)),
    };
    let inst = |args: &[&str]| match args {
        [i] => Ok(InstanceId::from(*i)),
        _ => Err(usage("one instance id (e.g. `{verb} i-1`)").replace("{verb}", verb)),
    };
    let positive = |d: &str| -> Result<u64, String> {
        let dur = Dur::parse(d)?;
        match dur.millis() {
            Some(ms) if ms > 0 => Ok(ms),
            _ => Err(format!("expected a positive duration, found {d:?}")),
        }
    };
    let count = |c: &str| -> Result<u32, String> {
        match c.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("expected a positive count, found {c:?}")),
        }
    };
    Ok(match verb {
        "delete" => Action::Delete(ws(args)?),
        "orphan_sweep" => Action::OrphanSweep(ws(args)?),
        "clear_instance" => Action::ClearInstance(ws(args)?),
        "reprovision" => Action::Reprovision(ws(args)?),
        "degrade" => Action::Degrade(ws(args)?),
        "recover" => Action::Recover(ws(args)?),
        "pause" => Action::Pause(ws(args)?),
        "resume" => Action::Resume(ws(args)?),
        "set_status" => match args {
            [w, s] => Action::SetStatus(WorkspaceId::from(*w), Status::parse(s)),
            _ => {
                return Err(usage(
                    "a workspace id and a status (e.g. `set_status ws-1 paused`)",
                ));
            }
        },
        "terminate" => Action::Terminate(inst(args)?),
        "stop" => Action::Stop(inst(args)?),
        "start" => Action::Start(inst(args)?),
        "cp_slow" => match args {
            [lat, "for", d] => Action::CpSlow {
                latency_ms: positive(lat)?,
                for_ms: positive(d)?,
            },
            _ => return Err(usage("`LATENCY for DURATION` (e.g. `cp_slow 9s for 2m`)")),
        },
        "cp_partition" => match args {
            ["for", d] => Action::CpPartition {
                for_ms: positive(d)?,
            },
            _ => return Err(usage("`for DURATION` (e.g. `cp_partition for 30s`)")),
        },
        "cp_error" => {
            let (n, kind) = match args {
                [] => (1, CpFailure::Transport),
                [a] if a.chars().all(|c| c.is_ascii_digit()) => (count(a)?, CpFailure::Transport),
                [k] => (1, failure(k)?),
                [a, k] => (count(a)?, failure(k)?),
                _ => {
                    return Err(usage(
                        "`[COUNT] [transport|5xx|garbage]` (e.g. `cp_error 2 5xx`)",
                    ));
                }
            };
            Action::CpError { count: n, kind }
        }
        "db_error" => match args {
            [] => Action::DbError { count: 1 },
            [a] => Action::DbError { count: count(a)? },
            _ => return Err(usage("an optional count (e.g. `db_error 2`)")),
        },
        other => {
            return Err(format!(
                "unknown action {other:?}: expected one of {ACTIONS}"
            ));
        }
    })
}

fn failure(k: &str) -> Result<CpFailure, String> {
    match k {
        "transport" => Ok(CpFailure::Transport),
        "5xx" => Ok(CpFailure::Status5xx),
        "garbage" => Ok(CpFailure::Garbage),
        _ => Err(format!(
            "unknown control-plane failure {k:?}: expected transport, 5xx or garbage"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_display_parses_back_to_itself() {
        let all = [
            Action::Delete("ws-1".into()),
            Action::OrphanSweep("ws-1".into()),
            Action::ClearInstance("ws-1".into()),
            Action::Reprovision("ws-1".into()),
            Action::Degrade("ws-1".into()),
            Action::Recover("ws-1".into()),
            Action::Pause("ws-1".into()),
            Action::Resume("ws-1".into()),
            Action::SetStatus("ws-1".into(), Status::Paused),
            Action::Terminate("i-1".into()),
            Action::Stop("i-1".into()),
            Action::Start("i-1".into()),
            Action::CpSlow {
                latency_ms: 9_000,
                for_ms: 120_000,
            },
            Action::CpError {
                count: 2,
                kind: CpFailure::Status5xx,
            },
            Action::CpError {
                count: 1,
                kind: CpFailure::Garbage,
            },
            Action::CpPartition { for_ms: 30_000 },
            Action::DbError { count: 3 },
        ];
        for a in all {
            assert_eq!(parse_action(&a.to_string()), Ok(a.clone()), "{a}");
        }
    }

    #[test]
    fn defaults_and_errors() {
        assert_eq!(
            parse_action("cp_error"),
            Ok(Action::CpError {
                count: 1,
                kind: CpFailure::Transport
            })
        );
        assert_eq!(parse_action("db_error"), Ok(Action::DbError { count: 1 }));
        assert!(
            parse_action("explode ws-1")
                .unwrap_err()
                .contains("unknown action")
        );
        assert!(
            parse_action("cp_slow 0s for 1m")
                .unwrap_err()
                .contains("positive")
        );
        assert!(
            parse_hook("after teleport")
                .unwrap_err()
                .contains("unknown hook point")
        );
        assert!(parse_hook("during select").is_err());
        assert_eq!(
            parse_hook("before flip ws-2"),
            Ok((Hook::before(Point::Flip), Some("ws-2".into())))
        );
    }
}
