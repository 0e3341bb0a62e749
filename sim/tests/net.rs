//! The network mode (`--net turmoil`): the corpus gives the same verdicts
//! over HTTP on turmoil's network as in-process (but for the scenarios
//! listed in [`TIMED`], which depend on in-process timing), a wire-level
//! fault changes a verdict in a way the in-process mode cannot show, a
//! network seed replays byte for byte, and the explorer keeps its teeth.

use std::path::{Path, PathBuf};

use reconciler_core::Variant;
use sim::director::{Overrides, Swarm};
use sim::explore::{Find, Plan, Progress, Shard, explore};
use sim::net::Net;
use sim::run::{run_seed, sim_runtime};
use sim::scenario::{Script, collect_files, load, load_all, run_script};
use sim::world::PlatformMode;

/// Scenarios whose verdict rests on in-process timing, with why: over the
/// network each request crosses it twice, each crossing delivered at a
/// turmoil step boundary (`sim::net::TICK`), so a scenario that places an
/// action a few milliseconds after a probe, or sizes a pass to its
/// requests' exact latency, sees a different interleaving.
const TIMED: &[(&str, &str)] = &[
    (
        "pr-toctou-instance-changed",
        "a 90 s answer heard by raising the reconciler's timeouts; cp-http keeps the Go client's own 10 s cap, so over HTTP the probe is a transport error and nothing flips",
    ),
    (
        "toctou-restart-done-after-probe",
        "the same 90 s answer past the HTTP client's 10 s cap",
    ),
    (
        "found-legacy-restart-storm-never-back",
        "shrunk from a swarm run and reproduced with its exact latencies over 20 passes: the network's 50-100 ms per crossing moves the flips against the restarts, and the fourth flip of one workspace (the storm) no longer happens",
    ),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn scripts() -> Vec<Script> {
    let files = collect_files(&[corpus()]).expect("the corpus is readable");
    load_all(&files).unwrap_or_else(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("the corpus does not load:\n{}", text.join("\n"))
    })
}

fn with_net(script: &Script, net: Net) -> Script {
    let mut s = script.clone();
    s.net = net;
    s
}

#[test]
fn every_scenario_not_timed_in_process_gives_the_same_verdicts_in_both_modes() {
    let rt = sim_runtime();
    let mut differences = Vec::new();
    let mut compared = 0;
    for script in scripts() {
        if script.net == Net::Turmoil || TIMED.iter().any(|(n, _)| *n == script.name) {
            continue;
        }
        for &variant in &script.variants {
            let local = run_script(&rt, &script, variant).verdict;
            let net = run_script(&rt, &with_net(&script, Net::Turmoil), variant).verdict;
            compared += 1;
            if (local.flips.clone(), local.labels.clone())
                != (net.flips.clone(), net.labels.clone())
            {
                differences.push(format!(
                    "{} / {variant}: in-process flips {:?} violations {:?}, turmoil flips {:?} violations {:?}",
                    script.name, local.flips, local.labels, net.flips, net.labels
                ));
            }
        }
    }
    assert!(compared >= 50, "only {compared} runs compared");
    assert!(
        differences.is_empty(),
        "{} of {compared} runs differ between the modes:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[test]
fn every_timed_exclusion_names_a_scenario_of_the_corpus() {
    let names: Vec<String> = scripts().into_iter().map(|s| s.name).collect();
    for (name, why) in TIMED {
        assert!(
            names.iter().any(|n| n == name),
            "{name} ({why}) is not in the corpus"
        );
    }
}

#[test]
fn a_reset_on_a_reused_connection_flips_only_over_the_network() {
    let path = corpus().join("net/reset-on-reused-connection-sent-again.yaml");
    let script = load(&path).unwrap_or_else(|e| panic!("{} does not load: {e:?}", path.display()));
    assert_eq!(script.net, Net::Turmoil);
    let rt = sim_runtime();
    for variant in [Variant::Legacy, Variant::Pr2283] {
        let net = run_script(&rt, &script, variant).verdict;
        let local = run_script(&rt, &with_net(&script, Net::InProcess), variant).verdict;
        assert_eq!(
            net.labels,
            vec!["unproven_flip/non_terminal_answer".to_owned()],
            "{variant} over HTTP: the request is sent again and the stopped instance flipped"
        );
        assert!(
            local.flips.is_empty() && local.labels.is_empty(),
            "{variant} in-process: the transport error leaves the row alone, got {local:?}"
        );
    }
}

fn net_swarm(seed: u64, platform: PlatformMode) -> Swarm {
    Swarm::from_seed(
        seed,
        Overrides {
            platform,
            net: Net::Turmoil,
            ..Overrides::default()
        },
    )
}

#[test]
fn a_network_seed_replays_byte_for_byte() {
    let mut faulted = 0;
    for seed in 0..6 {
        let swarm = net_swarm(seed, PlatformMode::AsMerged);
        faulted += usize::from(!swarm.net_faults.faults.is_empty());
        let a = run_seed(&sim_runtime(), Variant::Legacy, &swarm);
        let b = run_seed(
            &sim_runtime(),
            Variant::Legacy,
            &net_swarm(seed, PlatformMode::AsMerged),
        );
        assert_eq!(a.trace.render(), b.trace.render(), "seed {seed}");
        assert_eq!(a.violations, b.violations, "seed {seed}");
    }
    assert!(faulted > 0, "some of these seeds draw network faults");
}

struct Quiet;

impl Progress for Quiet {
    fn seed_done(&mut self, _done: u64, _seed: u64) -> bool {
        true
    }
}

fn net_plan(variant: Variant, platform: PlatformMode, seeds: u64) -> Plan {
    Plan {
        variant,
        start_seed: 0,
        seeds: Some(seeds),
        shard: Shard::ALL,
        overrides: Overrides {
            platform,
            net: Net::Turmoil,
            ..Overrides::default()
        },
        find: Find::default(),
    }
}

/// Seeds of the bounded network-mode explorations run on every `cargo
/// test`; the acceptance run of 2,000 is the ignored test below (nightly).
const QUICK_SEEDS: u64 = 40;

fn hardened_is_clean(seeds: u64) {
    let (summary, finding) = explore(
        &net_plan(Variant::Hardened, PlatformMode::Hardened, seeds),
        &mut Quiet,
    );
    assert_eq!(summary.seeds, seeds);
    assert!(finding.is_none(), "hardened over the network: {finding:?}");
}

fn finds_the_known_bugs(seeds: u64) {
    for variant in [Variant::Legacy, Variant::Pr2283] {
        let (summary, finding) = explore(
            &net_plan(variant, PlatformMode::AsMerged, seeds),
            &mut Quiet,
        );
        let f = finding.unwrap_or_else(|| panic!("{variant}: nothing in {seeds} network seeds"));
        println!(
            "{variant} over the network: {} after {} seeds",
            f.violation, summary.seeds
        );
    }
}

#[test]
fn the_network_explorer_finds_legacy_and_pr2283_bugs_and_hardened_is_clean() {
    hardened_is_clean(QUICK_SEEDS);
    finds_the_known_bugs(QUICK_SEEDS);
}

#[test]
#[ignore = "nightly: 2,000 network seeds take minutes (`cargo test -p sim --test net -- --ignored`, or `ci/check.sh net-explore`)"]
fn two_thousand_network_seeds_hardened_clean_legacy_and_pr2283_found() {
    hardened_is_clean(2_000);
    finds_the_known_bugs(2_000);
}
