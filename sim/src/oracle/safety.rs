//! Safety: no flip without proof, none after an error, none out of scope.

use indexmap::IndexSet;

use super::history::{History, Pass};
use super::{Kind, Violation};

/// Runs the three safety checks over every pass.
pub fn check(history: &History, out: &mut Vec<Violation>) {
    for pass in &history.passes {
        unproven_flip(pass, out);
        flip_after_error(pass, out);
        out_of_scope(pass, out);
    }
}

/// `unproven_flip` — a flip of workspace W at instant t is proven only if at
/// t the row exists, its status is online or degraded, its runtime is not
/// `external`, its instance_id is a non-empty I, and earlier in the same
/// pass the control plane gave a clean answer *about I* stating a terminal
/// state (`shutting-down`, `terminated`, not found) that was true when it
/// arrived (the instance's real state then was terminal too: a dying
/// instance may have moved on from `shutting-down` to `terminated`). The sub-reason names the first condition that fails:
/// `row_gone`, `status_moved`, `runtime_external`, `instance_cleared`,
/// `instance_changed` (the row's instance is not the one the pass asked
/// about), `no_answer`, `non_terminal_answer`, `stale_answer`; a row that
/// changed after a re-confirm read that saw it in scope is reported as
/// `changed_after_reconfirm` instead of by what changed.
fn unproven_flip(pass: &Pass, out: &mut Vec<Violation>) {
    for flip in &pass.flips {
        let mut violation = |sub: &'static str, detail: String| {
            out.push(Violation {
                kind: Kind::UnprovenFlip,
                sub,
                at: flip.at,
                pass: Some(pass.n),
                ws: Some(flip.ws.clone()),
                detail,
            });
        };
        // When the pass re-confirmed this row and the re-confirm saw it
        // live, whatever the flip then met changed after the re-confirm.
        let reconfirmed_live = pass
            .reconfirmed
            .get(flip.ws)
            .and_then(|(at, row)| row.filter(|r| r.in_scope()).map(|r| (*at, r)));
        let reconfirm_note = reconfirmed_live
            .map(|(at, r)| format!(" (the re-confirm at {} saw {r})", crate::row::fmt_time(at)))
            .unwrap_or_default();
        let changed = |sub: &'static str| {
            if reconfirmed_live.is_some() {
                "changed_after_reconfirm"
            } else {
                sub
            }
        };
        let Some(row) = flip.before else {
            violation(
                "row_gone",
                format!("the row no longer existed at the flip{reconfirm_note}"),
            );
            continue;
        };
        if !row.status.is_live() {
            violation(
                changed("status_moved"),
                format!("status was {} at the flip{reconfirm_note}", row.status),
            );
            continue;
        }
        if row.runtime.as_deref() == Some("external") {
            violation(
                "runtime_external",
                "the row's runtime was external".to_owned(),
            );
            continue;
        }
        let Some(instance) = row.live_instance() else {
            violation(
                changed("instance_cleared"),
                format!("instance_id was NULL or empty at the flip{reconfirm_note}"),
            );
            continue;
        };
        if let Some(asked) = pass.probed_instance(flip.ws).filter(|a| *a != instance) {
            violation(
                changed("instance_changed"),
                format!(
                    "the pass asked about {asked} but the row held {instance} at the flip{reconfirm_note}"
                ),
            );
            continue;
        }
        let about: Vec<_> = pass
            .answers
            .iter()
            .filter(|a| a.at <= flip.at && a.instance == instance)
            .collect();
        let proven = about
            .iter()
            .any(|a| matches!(a.answer, Ok(s) if s.is_terminal() && a.truth.is_terminal()));
        if proven {
            continue;
        }
        if about.is_empty() || about.iter().all(|a| a.answer.is_err()) {
            violation(
                "no_answer",
                format!("no clean control-plane answer about {instance} in this pass"),
            );
        } else if let Some(a) = about
            .iter()
            .find(|a| matches!(a.answer, Ok(s) if !s.is_terminal()))
        {
            let state = a.answer.clone().map(|s| s.to_string()).unwrap_or_default();
            violation(
                "non_terminal_answer",
                format!("the control plane said {instance} was {state}, which is not terminal"),
            );
        } else {
            violation(
                "stale_answer",
                format!("the terminal answer about {instance} was not true when it arrived"),
            );
        }
    }
}

/// `flip_after_error` — a flip of workspace W in a pass where W's probe (a
/// control-plane error or timeout about the instance the pass asked about
/// for W) or W's store reads (`IsRunning`'s lookup, the re-confirm) failed.
fn flip_after_error(pass: &Pass, out: &mut Vec<Violation>) {
    for flip in &pass.flips {
        let probe_failed = pass
            .probed_instance(flip.ws)
            .is_some_and(|i| pass.probe_failed(i));
        if probe_failed || pass.read_failed(flip.ws) {
            out.push(Violation {
                kind: Kind::FlipAfterError,
                sub: if probe_failed {
                    "probe_error"
                } else {
                    "read_error"
                },
                at: flip.at,
                pass: Some(pass.n),
                ws: Some(flip.ws.clone()),
                detail: "flipped although a probe or read of this row failed in the same pass"
                    .to_owned(),
            });
        }
    }
}

/// `out_of_scope` — a probe or flip of a row that was outside the
/// candidate scope (online/degraded, non-empty instance, runtime not
/// external) when it was read: a probe whose instance came from an
/// `IsRunning` lookup of an out-of-scope row (`probed_out_of_scope`), or a
/// flip of a row the pass's candidate query never returned
/// (`flip_not_selected`).
fn out_of_scope(pass: &Pass, out: &mut Vec<Violation>) {
    let mut reported: IndexSet<_> = IndexSet::new();
    for (at, ws, row) in &pass.out_of_scope_probes {
        if reported.insert(*ws) {
            out.push(Violation {
                kind: Kind::OutOfScope,
                sub: "probed_out_of_scope",
                at: *at,
                pass: Some(pass.n),
                ws: Some((*ws).clone()),
                detail: format!("probed after a lookup read the row out of scope: {row}"),
            });
        }
    }
    for flip in &pass.flips {
        if !pass.selected.contains_key(flip.ws) {
            out.push(Violation {
                kind: Kind::OutOfScope,
                sub: "flip_not_selected",
                at: flip.at,
                pass: Some(pass.n),
                ws: Some(flip.ws.clone()),
                detail: "flipped a row the candidate query did not return".to_owned(),
            });
        }
    }
}
