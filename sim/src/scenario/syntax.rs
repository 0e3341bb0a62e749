//! The two small text languages inside scenario values: hook points
//! (`after select ws-1`) and actions (`cp_slow 9s for 2m`). Syntax only;
//! whether a named workspace or instance exists is checked by `validate`.

use reconciler_core::WorkspaceId;

use crate::action::Action;
use crate::actors;
use crate::hook::{Hook, Point, When};

/// The hook-point names, for messages.
fn points() -> String {
    Point::all()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `<before|after> <point> [workspace-id]`.
pub fn parse_hook(text: &str) -> Result<(Hook, Option<WorkspaceId>), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let expected = "expected `<before|after> <point> [workspace-id]`";
    let when = match words.first() {
        Some(&"before") => When::Before,
        Some(&"after") => When::After,
        Some(w) => return Err(format!("{expected}: {w:?} is not `before` or `after`")),
        None => return Err(format!("{expected}, found nothing")),
    };
    let point = match words.get(1) {
        Some(p) => Point::parse(p)
            .ok_or_else(|| format!("unknown hook point {p:?}: expected one of {}", points()))?,
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

/// Every action's syntax, for messages and the schema.
pub fn actions_usage() -> String {
    actors::verbs()
        .map(|v| v.usage)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses one action (the syntax of `Action`'s `Display`), by the verbs of
/// the actors' homes.
pub fn parse_action(text: &str) -> Result<Action, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Err(format!(
            "expected an action, found nothing (one of: {})",
            actions_usage()
        ));
    };
    match actors::verbs().find(|v| v.word == verb) {
        Some(v) => (v.parse)(args),
        None => Err(format!(
            "unknown action {verb:?}: expected one of {}",
            actions_usage()
        )),
    }
}

#[cfg(test)]
mod tests {
    use reconciler_core::Status;

    use super::*;
    use crate::action::CpFailure;

    #[test]
    fn every_action_display_parses_back_to_itself() {
        let all = [
            Action::Restart("ws-1".into()),
            Action::Pause("ws-1".into()),
            Action::Resume("ws-1".into()),
            Action::Hibernate("ws-1".into()),
            Action::Delete("ws-1".into()),
            Action::Purge("ws-1".into()),
            Action::OrphanSweep("ws-1".into()),
            Action::ClearInstance("ws-1".into()),
            Action::Heartbeat("ws-1".into()),
            Action::Degrade("ws-1".into()),
            Action::Recover("ws-1".into()),
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
            Action::CpError {
                count: 3,
                kind: CpFailure::EmptyState,
            },
            Action::CpError {
                count: 1,
                kind: CpFailure::UnknownState,
            },
            Action::CpPartition { for_ms: 30_000 },
            Action::DbError { count: 3 },
        ];
        let verbs: std::collections::BTreeSet<String> = all
            .iter()
            .map(|a| {
                a.to_string()
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        for v in actors::verbs() {
            assert!(
                verbs.contains(v.word),
                "no round-trip case for the verb {}",
                v.word
            );
        }
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
        assert_eq!(
            parse_hook("after restart.stop ws-2"),
            Ok((
                Hook::after(Point::Step(
                    crate::hook::Flow::Restart,
                    crate::hook::Step::Stop
                )),
                Some("ws-2".into())
            ))
        );
    }
}
