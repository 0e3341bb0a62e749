//! The flip as the platform's code runs it: the offline handler writes no
//! status, records the event and starts `RestartByID`, whose coalescing is
//! per replica.

use std::path::Path;

use reconciler_core::{Status, Variant};
use sim::hook::Flow;
use sim::scenario::{ScriptRun, load_str, run_script};
use sim::trace::{Effect, Event};

fn run(text: &str, variant: Variant) -> ScriptRun {
    let script = load_str(Path::new("inline.yaml"), text).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    run_script(&sim::run::sim_runtime(), &script, variant)
}

fn events(run: &ScriptRun) -> Vec<&Event> {
    run.outcome.trace.entries().map(|e| &e.event).collect()
}

const DEAD_ROW: &str = "
name: flip-as-merged
about: One dead workspace, one pass.
fleet:
  - { id: ws-1, status: online, instance: i-1, state: terminated }
passes: 1
expect:
  legacy:   { flips: [ws-1], violations: [] }
  pr2283:   { flips: [ws-1], violations: [] }
  hardened: { flips: [ws-1], violations: [] }
";

#[test]
fn legacy_and_pr2283_write_no_status_and_the_event_and_restart_follow() {
    for variant in [Variant::Legacy, Variant::Pr2283] {
        let run = run(DEAD_ROW, variant);
        assert!(
            run.verdict.met(),
            "{variant}: {:?}",
            run.verdict.differences
        );
        let ev = events(&run);
        let flip = ev
            .iter()
            .position(|e| matches!(e, Event::Flip { .. }))
            .unwrap_or_else(|| panic!("{variant}: no flip"));
        let Event::Flip {
            row: Some(row),
            proven,
            ..
        } = ev[flip]
        else {
            panic!("{variant}: the flip saw no row");
        };
        assert_eq!(
            row.status,
            Status::Online,
            "{variant}: the row is still online at the flip"
        );
        assert_eq!(
            *proven, None,
            "{variant}: the merged signature hands over no instance"
        );
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Claim { .. })),
            "{variant}: the merged reconciler writes nothing"
        );
        assert!(
            matches!(ev[flip + 1], Event::Offline { .. }),
            "{variant}: WORKSPACE_OFFLINE follows"
        );
        assert!(
            matches!(
                ev[flip + 2],
                Event::RestartRequested {
                    started: Some(_),
                    ..
                }
            ),
            "{variant}: a restart starts: {:?}",
            ev[flip + 2]
        );
        // The first write to the row is the restart's, not the reconciler's.
        let first_write = ev.iter().find_map(|e| match e {
            Event::Step {
                flow,
                step,
                effect: Effect::Wrote(r),
                ..
            } => Some((flow.kind, *step, r.status.clone())),
            _ => None,
        });
        assert_eq!(
            first_write,
            Some((Flow::Restart, sim::hook::Step::Status, Status::Provisioning)),
            "{variant}"
        );
    }
}

#[test]
fn hardened_claims_the_row_and_hands_the_instance_over() {
    let run = run(DEAD_ROW, Variant::Hardened);
    assert!(run.verdict.met(), "{:?}", run.verdict.differences);
    let ev = events(&run);
    let claim = ev
        .iter()
        .position(|e| matches!(e, Event::Claim { wrote: true, .. }))
        .expect("a claim");
    let Event::Flip {
        row: Some(row),
        proven,
        ..
    } = ev[claim + 1]
    else {
        panic!("the flip follows the claim: {:?}", ev[claim + 1]);
    };
    assert_eq!(
        row.status,
        Status::Offline,
        "the claim took the row out of scope"
    );
    assert_eq!(proven.as_ref().map(|i| i.0.as_str()), Some("i-1"));
}

const RESTART_FAILS: &str = "
name: restart-skipped
about: The restart's status read fails, so it gives up; the next pass meets the row again.
fleet:
  - { id: ws-1, status: online, instance: i-1, state: terminated }
passes: 2
steps:
  - on: before restart.read ws-1
    do: db_error
expect:
  legacy:   { flips: [ws-1, ws-1], violations: [] }
  pr2283:   { flips: [ws-1, ws-1], violations: [] }
  hardened: { flips: [ws-1], violations: [] }
";

#[test]
fn a_row_a_restart_skipped_is_flipped_again_on_a_later_pass() {
    for variant in Variant::ALL {
        let run = run(RESTART_FAILS, variant);
        assert!(
            run.verdict.met(),
            "{variant}: {:?}",
            run.verdict.differences
        );
    }
    // hardened's claim took the row out of scope: its one flip (above)
    // is all, whatever became of the restart.
}
