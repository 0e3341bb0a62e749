//! The loop around the passes: its schedule, a pass that overruns the
//! interval, and a token cancelled before the loop starts. (Boot pass and
//! exit on cancel are PR behaviour 15, in `pr_behaviours.rs`; cancellation
//! mid-pass is in `timing.rs`.)

mod common;

use std::time::Duration;

use common::*;
use reconciler_core::{InstanceState, Variant};
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

per_variant!(
    one_pass_per_interval,
    overrunning_pass_is_followed_at_once,
    cancelled_before_start_runs_no_pass,
);

/// Runs the loop and cancels it `at` into the run; returns when `run`
/// returned and what the observer saw.
async fn run_until_cancelled(rec: &mut Rec, at: Duration) -> (Duration, Passes) {
    let cancel = CancellationToken::new();
    let mut passes = Passes::default();
    let start = Instant::now();
    let (returned_at, ()) = tokio::join!(
        async {
            rec.run(&cancel, &mut passes).await;
            start.elapsed()
        },
        async {
            sleep(at).await;
            cancel.cancel();
        }
    );
    (returned_at, passes)
}

/// Passes at 0, 60, 120 and 180 s; cancelled at 200 s between passes. Each
/// pass re-reads the table: a row that dies between passes is flipped by the
/// next one. Nothing restarts it here, so `legacy` and `pr2283`, which wrote
/// no status, flip it again at 180 s; `hardened` claimed it and does not.
async fn one_pass_per_interval(variant: Variant) {
    let w = World::new(fleet(2));
    w.cp.state("i-01", InstanceState::Running);
    w.cp.state("i-02", InstanceState::Running);
    let mut rec = w.reconciler(variant);

    let (returned_at, passes) = tokio::join!(run_until_cancelled(&mut rec, secs(200)), async {
        sleep(secs(90)).await;
        w.cp.state("i-02", InstanceState::Terminated);
    })
    .0;

    let (starts, flips_per_pass, flipped_at): (Vec<u64>, Vec<Vec<&str>>, Vec<u64>) = match variant {
        Variant::Legacy | Variant::Pr2283 => (
            vec![0, 60, 120, 180],
            vec![vec![], vec![], vec!["ws-02"], vec!["ws-02"]],
            vec![120, 180],
        ),
        Variant::Hardened => (
            vec![0, 60, 120, 180],
            vec![vec![], vec![], vec!["ws-02"], vec![]],
            vec![120],
        ),
    };
    assert_eq!(passes.start_secs(), starts, "{variant}");
    let flips: Vec<Vec<String>> = passes
        .finished
        .iter()
        .map(|(_, _, r)| strs(&r.flipped))
        .collect();
    assert_eq!(flips, flips_per_pass, "{variant}");
    assert_eq!(returned_at, secs(200), "{variant}");
    let expected_calls: Vec<(String, std::time::Duration)> = flipped_at
        .into_iter()
        .map(|t| ("ws-02".to_owned(), secs(t)))
        .collect();
    assert_eq!(w.handler.called_at(), expected_calls, "{variant}");
}

/// Twenty rows at 8 s per answer. `legacy`'s pass takes 160 s, overrunning
/// the 60 s interval: the missed tick fires as soon as it ends, so the second
/// pass starts at 160 s (and is abandoned at the 170 s cancel). The deadline-
/// bound variants finish in 45 s and keep to the 60 s schedule.
async fn overrunning_pass_is_followed_at_once(variant: Variant) {
    let w = World::new(fleet(20));
    for k in 1..=20 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    w.cp.latency(secs(8));
    let mut rec = w.reconciler(variant);

    let (returned_at, passes) = run_until_cancelled(&mut rec, secs(170)).await;

    let (starts, ends): (Vec<u64>, Vec<u64>) = match variant {
        Variant::Legacy => (vec![0, 160], vec![160]),
        Variant::Pr2283 | Variant::Hardened => (vec![0, 60, 120], vec![45, 105, 165]),
    };
    assert_eq!(passes.start_secs(), starts, "{variant}");
    let finished: Vec<u64> = passes
        .finished
        .iter()
        .map(|(_, t, _)| t.as_secs())
        .collect();
    assert_eq!(finished, ends, "{variant}");
    assert_eq!(returned_at, secs(170), "{variant}");
}

/// A token cancelled before `run` starts: no pass at all, not even the boot
/// pass.
async fn cancelled_before_start_runs_no_pass(variant: Variant) {
    let w = World::new(fleet(1));
    w.cp.state("i-01", InstanceState::Terminated);
    let mut rec = w.reconciler(variant);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let mut passes = Passes::default();
    let start = Instant::now();

    rec.run(&cancel, &mut passes).await;

    let expected_passes = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => 0,
    };
    assert_eq!(passes.started.len(), expected_passes, "{variant}");
    assert_eq!(start.elapsed(), Duration::ZERO, "{variant}");
    assert!(w.store.calls().is_empty(), "{variant}");
    assert!(w.handler.called().is_empty(), "{variant}");
}
