//! Every maximum the harness enforces, in one place: the sizes and counts a
//! scenario file may hold and the counts the command line accepts.
//!
//! Why maxima at all: a scenario or a flag is input from someone who did
//! not write this code, and an unbounded count is a run that never ends
//! (`passes: 4000000000` grew to 7 GB in a minute) or a parse that eats the
//! machine. Each limit is checked before any work starts and refused with a
//! sentence that names it; each is far above what the corpus, `explore` and
//! `bench` use, so hitting one means a typo or a misunderstanding, not a
//! scenario that needed more. `docs/scenario-authoring.md` (scenarios) and
//! `sim --help` (flags) document them; tests check that both say the values
//! defined here.

use std::time::Duration;

use crate::scenario::duration::Dur;

/// Bytes in a scenario file, checked before the file is read: the corpus's
/// largest file is ~1.5 KB, and a maximal fleet written one row per line
/// fits with room to spare.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Nesting depth of YAML collections (lists and maps inside each other). The
/// deepest construct of the language (`cp.instances.I.latency.{min,max}`)
/// is 5 deep. Checked by one pass over the YAML events before anything is
/// deserialized, so a 100,000-deep file costs 17 levels of nothing.
pub const MAX_NESTING: usize = 16;

/// YAML nodes (keys, values, lists and maps) in one file: enough for a
/// maximal fleet with every field written and as many steps again.
pub const MAX_YAML_NODES: usize = 200_000;

/// Anchors (`&a`) and aliases (`*a`) in one file: the language needs none,
/// and aliases are how a small file expands into a huge one.
pub const MAX_YAML_ALIASES: usize = 100;

/// Rows in a scenario's fleet (the swarm's fleets have 1 to 300).
pub const MAX_FLEET_ROWS: u64 = 5_000;

/// Passes of one run: a simulated week at the reference's 60 s interval
/// (the longest soak a scenario or `--passes` asks for; memory does not grow
/// with passes, time does). A run's cost grows with passes × rows, hence
/// also [`MAX_ROW_PASSES`].
pub const MAX_PASSES: u64 = 10_080;

/// Fleet rows × passes of one scenario run: the work a run may do (each
/// pass may probe every row). A week of a 200-row fleet (2,016,000) fits;
/// it takes ~16 s of a loaded two-core machine and ~15 MiB (release build,
/// `sim bench --only memory`): memory no longer grows with passes, so this
/// bounds time only.
pub const MAX_ROW_PASSES: u64 = 2_500_000;

/// Steps in one scenario.
pub const MAX_STEPS: u64 = 1_000;

/// Actions over all of a scenario's steps.
pub const MAX_ACTIONS: u64 = 10_000;

/// `nth` of a hook step: which firing of the hook the step waits for.
pub const MAX_NTH: u64 = 1_000_000;

/// Entries in one expected `flips` or `violations` list.
pub const MAX_EXPECTED: u64 = 10_000;

/// Seeds of a scenario's `explore:` block.
pub const MAX_FILE_SEEDS: u64 = 100_000;

/// Characters of a name, id, status or runtime: they are printed in tables
/// and traces.
pub const MAX_ID_CHARS: u64 = 64;

/// Any duration, in milliseconds and in either direction: in a scenario (an
/// instant, an interval, a timeout, a latency, `updated_at`, an action's
/// `for`) and on the command line (`explore --duration`). A week; the
/// duration parser itself refuses more, so no caller can forget.
pub const MAX_DURATION_MS: i64 = 7 * 24 * 3_600_000;

/// Errors reported per scenario file: the first ones in file order, then
/// one saying how many more there are (a 10,000-row file of duplicate ids
/// has 20,000 errors; quoting each one's line cost seconds).
pub const MAX_ERRORS_SHOWN: usize = 50;

/// `sim explore --seeds` (and the bench's seed counts): at ~2,000 seeds a
/// second, about six days of one core.
pub const MAX_SEEDS: u64 = 1_000_000_000;

/// `sim explore --shard I/N`: N.
pub const MAX_SHARDS: u64 = 10_000;

/// `sim run --max-schedules`: schedules per scenario and variant in
/// exhaustive mode.
pub const MAX_SCHEDULES: u64 = 1_000_000;

/// `sim bench --day-passes`: ten simulated days.
pub const MAX_BENCH_DAY_PASSES: u64 = 14_400;

/// `sim bench --ranges`: seed ranges per known bug.
pub const MAX_BENCH_RANGES: u64 = 1_000;

/// `sim bench --hunt-cap` and `--baseline-cap`, in seconds: an hour.
pub const MAX_BENCH_CAP_SECS: u64 = 3_600;

/// A count given on the command line, within `1..=max`.
pub fn count_arg(text: &str, max: u64) -> Result<u64, String> {
    let n: u64 = text.replace(['_', ','], "").parse().map_err(|_| {
        format!(
            "expected a whole number from 1 to {}, found {text:?}",
            thousands(max)
        )
    })?;
    if n == 0 || n > max {
        return Err(format!(
            "{} is out of range: the maximum is {} (at least 1)",
            thousands(n),
            thousands(max)
        ));
    }
    Ok(n)
}

/// `--passes`: 1 to [`MAX_PASSES`].
pub fn passes_arg(text: &str) -> Result<u64, String> {
    count_arg(text, MAX_PASSES)
}

/// `--seeds`: 1 to [`MAX_SEEDS`].
pub fn seeds_arg(text: &str) -> Result<u64, String> {
    count_arg(text, MAX_SEEDS)
}

/// `--max-schedules`: 1 to [`MAX_SCHEDULES`].
pub fn schedules_arg(text: &str) -> Result<u64, String> {
    count_arg(text, MAX_SCHEDULES)
}

/// A wall-clock budget given on the command line: the scenario language's
/// duration syntax (`30s`, `5m`, `2h`, `250ms`), positive, at most
/// [`MAX_DURATION_MS`]. One parser for both, so a unit that works in a file
/// works on the command line.
pub fn duration_arg(text: &str) -> Result<Duration, String> {
    match Dur::parse(text)?.std() {
        Some(x) if !x.is_zero() => Ok(x),
        _ => Err(format!("expected a positive duration, found {text:?}")),
    }
}

/// A count with thousands separators, as limits are written in messages.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_refused_outside_one_to_max_with_the_maximum_named() {
        assert_eq!(count_arg("1440", MAX_PASSES), Ok(1_440));
        assert_eq!(count_arg("1_000", MAX_PASSES), Ok(1_000));
        let over = count_arg("4000000000", MAX_PASSES).unwrap_err();
        assert!(over.contains("the maximum is 10,080"), "{over}");
        assert!(
            count_arg("0", MAX_PASSES)
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(
            count_arg("many", MAX_PASSES)
                .unwrap_err()
                .contains("whole number")
        );
    }

    #[test]
    fn durations_use_the_scenario_units_and_the_maximum() {
        assert_eq!(duration_arg("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration_arg("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration_arg("168h"), Ok(Duration::from_secs(7 * 86_400)));
        let over = duration_arg("169h").unwrap_err();
        assert!(over.contains("the maximum is 168h (a week)"), "{over}");
        assert!(duration_arg("0s").unwrap_err().contains("positive"));
        assert!(duration_arg("-5m").unwrap_err().contains("positive"));
        assert!(duration_arg("5x").unwrap_err().contains("unknown unit"));
        assert!(duration_arg("30").unwrap_err().contains("unit is missing"));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_440), "1,440");
        assert_eq!(thousands(1_000_000_000), "1,000,000,000");
    }
}
