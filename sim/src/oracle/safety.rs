//! Safety: no flip without proof, none after an error, none out of scope,
//! none without the decision the variant's own rules require.

use std::time::Duration;

use reconciler_core::{InstanceId, InstanceState, Variant, WorkspaceId};

use super::definitions::{external, in_scope, instance_of, live_status, terminal};
use super::pass::Pass;
use super::truth::Truth;
use super::{Sub, Violation};
use crate::row::{Row, fmt_time};

/// A flip as the trace recorded it: the offline handler's call.
pub struct Flip<'a> {
    /// When.
    pub at: Duration,
    /// Its trace entry.
    pub entry: u64,
    /// The workspace.
    pub ws: &'a WorkspaceId,
    /// The instance handed over as proven dead, if any.
    pub proven: Option<&'a InstanceId>,
    /// Ground truth at the call.
    pub row: Option<&'a Row>,
}

/// How a variant decides to flip, as the oracle understands it from the
/// specification — the oracle's own table, not the variant's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// `IsRunning` said "not running" (legacy).
    NegativeProbe,
    /// `IsRunning` said "not running" and a re-confirm read agreed (pr2283).
    Reconfirm,
    /// A guarded claim of the row on the proven instance matched (hardened).
    Claim,
}

fn protocol(variant: Variant) -> Protocol {
    match variant {
        Variant::Legacy => Protocol::NegativeProbe,
        Variant::Pr2283 => Protocol::Reconfirm,
        Variant::Hardened => Protocol::Claim,
    }
}

fn violation(
    pass: &Pass,
    sub: Sub,
    at: Duration,
    ws: &WorkspaceId,
    detail: String,
    evidence: Vec<u64>,
) -> Violation {
    Violation {
        sub,
        at,
        pass: Some((pass.r, pass.n)),
        ws: Some(ws.clone()),
        detail,
        evidence,
    }
}

/// Judges one flip by every safety rule.
pub fn judge(variant: Variant, pass: &Pass, flip: &Flip, out: &mut Vec<Violation>) {
    let protocol = protocol(variant);
    if let Some(v) = unlicensed_restart(protocol, pass, flip) {
        out.push(v);
        if protocol == Protocol::Claim {
            // A claim-based variant's decision is its claim; a flip without
            // a matched one is judged by this rule alone.
            return;
        }
    }
    let decision = match (protocol, pass.claims.get(flip.ws)) {
        (Protocol::Claim, Some(c)) => (c.at, c.before.as_ref(), c.entry),
        _ => (flip.at, flip.row, flip.entry),
    };
    if let Some(v) = unproven_flip(pass, flip.ws, decision) {
        out.push(v);
    }
    if let Some(v) = flip_after_error(pass, flip) {
        out.push(v);
    }
    if !pass.selected.contains_key(flip.ws) {
        out.push(violation(
            pass,
            Sub::FlipNotSelected,
            flip.at,
            flip.ws,
            "flipped a row the candidate query did not return".to_owned(),
            vec![flip.entry],
        ));
    }
}

/// `unlicensed_restart` — the offline handler was called for W without the
/// decision the variant's own rules require, in the same pass, before the
/// call:
/// * `legacy` (and `pr2283` first): `IsRunning` said "not running" — its
///   lookup found no instance, or the last clean answer about the instance
///   it found was a state other than `running` (a 404 is an error to it):
///   otherwise `no_negative_probe`;
/// * `pr2283`: then a re-confirm read returned the row with a live status
///   and the captured, non-empty instance: `no_reconfirm` when there was no
///   re-confirm, `reconfirm_disagreed` when it returned anything else;
/// * `hardened`: a claim of W guarded on the instance handed to the
///   handler wrote a row, and no earlier call of the pass used it (one
///   claim licenses one restart): `no_claim` when there was none on that
///   instance or an earlier call used it, `claim_not_matched` when it wrote
///   nothing.
fn unlicensed_restart(protocol: Protocol, pass: &Pass, flip: &Flip) -> Option<Violation> {
    let ws = flip.ws;
    let fail = |sub: Sub, detail: String, mut evidence: Vec<u64>| {
        evidence.push(flip.entry);
        Some(violation(pass, sub, flip.at, ws, detail, evidence))
    };
    if protocol == Protocol::Claim {
        return match pass.claims.get(ws) {
            Some(c) if Some(&c.instance) == flip.proven && c.wrote && !c.spent => None,
            Some(c) if Some(&c.instance) == flip.proven && c.wrote => fail(
                Sub::NoClaim,
                format!(
                    "a second restart requested on the one claim at {}: each restart needs a claim of its own",
                    fmt_time(c.at)
                ),
                vec![c.entry],
            ),
            Some(c) if Some(&c.instance) == flip.proven => fail(
                Sub::ClaimNotMatched,
                format!(
                    "restart requested although the claim on {} at {} matched no row",
                    c.instance,
                    fmt_time(c.at)
                ),
                vec![c.entry],
            ),
            _ => fail(
                Sub::NoClaim,
                "restart requested without a claim of the row on the instance proven dead"
                    .to_owned(),
                Vec::new(),
            ),
        };
    }
    let negative = match pass.resolved.get(ws) {
        Some((_, None)) => true,
        Some((_, Some(i))) => pass
            .answers
            .iter()
            .rev()
            .find(|a| &a.instance == i && a.at <= flip.at)
            .is_some_and(|a| {
                matches!(a.answer, Ok(s) if s != InstanceState::Running && s != InstanceState::NotFound)
            }),
        None => false,
    };
    if !negative {
        return fail(
            Sub::NoNegativeProbe,
            "restart requested although IsRunning did not say \"not running\" in this pass"
                .to_owned(),
            pass.resolved
                .get(ws)
                .map(|(e, _)| vec![*e])
                .unwrap_or_default(),
        );
    }
    if protocol == Protocol::NegativeProbe {
        return None;
    }
    let captured = pass.selected.get(ws).and_then(Option::as_ref);
    match pass.reconfirmed.get(ws) {
        None => fail(
            Sub::NoReconfirm,
            "restart requested without a re-confirm read".to_owned(),
            Vec::new(),
        ),
        Some((at, entry, row)) => {
            let agrees = row.as_ref().is_some_and(|r| {
                live_status(&r.status) && instance_of(r).is_some() && instance_of(r) == captured
            });
            if agrees {
                None
            } else {
                fail(
                    Sub::ReconfirmDisagreed,
                    format!(
                        "restart requested although the re-confirm at {} returned {}",
                        fmt_time(*at),
                        row.as_ref()
                            .map_or_else(|| "no row".to_owned(), ToString::to_string)
                    ),
                    vec![*entry],
                )
            }
        }
    }
}

/// `unproven_flip` — a flip of workspace W decided at instant t is proven
/// only if at t the row exists, its status is online or degraded, its
/// runtime is not `external`, its instance_id is a non-empty I, the pass
/// asked the control plane about I (not about another instance), and
/// earlier in the same pass the control plane gave a clean answer about I
/// stating a terminal state (`shutting-down`, `terminated`, not found) that
/// was true when it arrived (the instance's real state then was terminal
/// too). The decision's instant is the offline handler's call, except for a
/// claim-based variant, whose decision is its matched claim (judged on the
/// row just before it). The sub-reason names the first condition that
/// fails: `row_gone`, `status_moved`, `runtime_external`,
/// `instance_cleared`, `instance_changed`, `no_answer`,
/// `non_terminal_answer`, `stale_answer`; a row that changed after a
/// re-confirm read that saw it in scope is `changed_after_reconfirm`
/// instead of what changed.
fn unproven_flip(
    pass: &Pass,
    ws: &WorkspaceId,
    (at, row, entry): (Duration, Option<&Row>, u64),
) -> Option<Violation> {
    let reconfirmed_live = pass
        .reconfirmed
        .get(ws)
        .and_then(|(t, e, r)| r.as_ref().filter(|r| in_scope(r)).map(|r| (*t, *e, r)));
    let note = reconfirmed_live
        .map(|(t, _, r)| format!(" (the re-confirm at {} saw {r})", fmt_time(t)))
        .unwrap_or_default();
    let mut evidence = vec![entry];
    if let Some((_, e, _)) = reconfirmed_live {
        evidence.push(e);
    }
    let changed = |sub: Sub| {
        if reconfirmed_live.is_some() {
            Sub::ChangedAfterReconfirm
        } else {
            sub
        }
    };
    let fail = |sub: Sub, detail: String, evidence: Vec<u64>| {
        Some(violation(pass, sub, at, ws, detail, evidence))
    };
    let Some(row) = row else {
        return fail(
            Sub::RowGone,
            format!("the row no longer existed at the flip{note}"),
            evidence,
        );
    };
    if !live_status(&row.status) {
        return fail(
            changed(Sub::StatusMoved),
            format!("status was {} at the flip{note}", row.status),
            evidence,
        );
    }
    if external(row) {
        return fail(
            Sub::RuntimeExternal,
            "the row's runtime was external".to_owned(),
            evidence,
        );
    }
    let Some(instance) = instance_of(row) else {
        return fail(
            changed(Sub::InstanceCleared),
            format!("instance_id was NULL or empty at the flip{note}"),
            evidence,
        );
    };
    if let Some(asked) = pass.probed_instance(ws).filter(|a| *a != instance) {
        return fail(
            changed(Sub::InstanceChanged),
            format!("the pass asked about {asked} but the row held {instance} at the flip{note}"),
            evidence,
        );
    }
    let about: Vec<_> = pass
        .answers
        .iter()
        .filter(|a| a.at <= at && &a.instance == instance)
        .collect();
    evidence.extend(about.iter().map(|a| a.entry));
    let proven = about
        .iter()
        .any(|a| matches!(a.answer, Ok(s) if terminal(s) && terminal(a.truth)));
    if proven {
        return None;
    }
    if about.iter().all(|a| a.answer.is_err()) {
        fail(
            Sub::NoAnswer,
            format!("no clean control-plane answer about {instance} in this pass"),
            evidence,
        )
    } else if let Some(a) = about
        .iter()
        .find(|a| matches!(a.answer, Ok(s) if !terminal(s)))
    {
        let state = a.answer.clone().map(|s| s.to_string()).unwrap_or_default();
        fail(
            Sub::NonTerminalAnswer,
            format!(
                "the control plane said {instance} was {state}, which is not terminal (truth: {})",
                a.truth
            ),
            evidence,
        )
    } else {
        fail(
            Sub::StaleAnswer,
            format!("the terminal answer about {instance} was not true when it arrived"),
            evidence,
        )
    }
}

/// `flip_after_error` — a flip of workspace W in a pass where W's probe (a
/// control-plane error, a timeout, or an empty or unknown state about the
/// instance the pass asked about for W) or W's store reads (`IsRunning`'s
/// lookup, the re-confirm, the claim) failed.
fn flip_after_error(pass: &Pass, flip: &Flip) -> Option<Violation> {
    let probe_failed = pass
        .probed_instance(flip.ws)
        .is_some_and(|i| pass.failed_probes.contains(i) || pass.cut_probes.contains(i));
    let read_failed = pass.failed_reads.contains(flip.ws);
    if !probe_failed && !read_failed {
        return None;
    }
    Some(violation(
        pass,
        if probe_failed {
            Sub::ProbeError
        } else {
            Sub::ReadError
        },
        flip.at,
        flip.ws,
        "flipped although a probe or read of this row failed in the same pass".to_owned(),
        vec![flip.entry],
    ))
}

/// `out_of_scope/selected_out_of_scope` — the candidate query returned a
/// row that was not in scope (online/degraded, non-empty instance, runtime
/// not external) at that instant, or with an instance the row did not hold.
pub fn selected(
    pass: &Pass,
    truth: &Truth,
    rows: &[(WorkspaceId, Option<InstanceId>)],
    at: Duration,
    entry: u64,
    out: &mut Vec<Violation>,
) {
    for (ws, captured) in rows {
        let row = truth.row(ws);
        let fits = row.is_some_and(|r| {
            in_scope(r) && captured.as_ref().is_none_or(|c| instance_of(r) == Some(c))
        });
        if !fits {
            out.push(violation(
                pass,
                Sub::SelectedOutOfScope,
                at,
                ws,
                format!(
                    "the candidate query returned a row that was out of scope: {}",
                    row.map_or_else(|| "no row".to_owned(), ToString::to_string)
                ),
                vec![entry],
            ));
        }
    }
}

/// `out_of_scope/probed_out_of_scope`, at a lookup: `IsRunning`'s lookup
/// read a row that was out of scope but had an instance, so a probe of it
/// follows.
pub fn resolved(
    pass: &Pass,
    ws: &WorkspaceId,
    row: Option<&Row>,
    at: Duration,
    entry: u64,
    out: &mut Vec<Violation>,
) {
    let Some(row) = row.filter(|r| instance_of(r).is_some() && !in_scope(r)) else {
        return;
    };
    if pass.resolved.contains_key(ws) {
        return;
    }
    out.push(violation(
        pass,
        Sub::ProbedOutOfScope,
        at,
        ws,
        format!("probed after a lookup read the row out of scope: {row}"),
        vec![entry],
    ));
}

/// `out_of_scope/probed_out_of_scope`, at a probe: the pass asked the
/// control plane about an instance that none of its reads (the candidate
/// query, a lookup) returned from a row, whatever the variant.
pub fn probed(
    pass: &Pass,
    instance: &InstanceId,
    at: Duration,
    entry: u64,
    out: &mut Vec<Violation>,
) {
    if pass.read.contains(instance) {
        return;
    }
    out.push(Violation {
        sub: Sub::ProbedOutOfScope,
        at,
        pass: Some((pass.r, pass.n)),
        ws: None,
        detail: format!("probed {instance}, which no read of this pass returned"),
        evidence: vec![entry],
    });
}
