//! The scenario parser fuzzed: proptest mutates the corpus files
//! (`scenarios/**/*.yaml`) — bytes changed, cut and inserted, YAML and
//! scenario tokens spliced in, lines duplicated (a few times or thousands),
//! swapped or borrowed from other files, numbers and durations made
//! extreme, values wrapped in deep nesting, indentation shifted — and feeds
//! each result to the same load path `sim run` uses. Every input must come
//! back either as a scenario or as errors that are located (a line and
//! column, or the file as a whole for its size), readable (no line wider
//! than 600 characters) and free of parser-internal text; none may panic or
//! take more than `HANG` (counted as a hang). A sample of the rejected
//! inputs also goes through the real binary, which must exit 2 with a
//! located error and run nothing.
//!
//! How to run it:
//!
//! ```sh
//! cargo test -p sim --test fuzz                        # 2,000 inputs (CI)
//! SIM_FUZZ_CASES=100000 cargo test -p sim --test fuzz -- --nocapture   # ~1 min
//! ```
//!
//! The summary line (`fuzzed N inputs: … crashes 0, hangs 0`) is printed
//! with `--nocapture`; `SIM_FUZZ_MESSAGES=1` also prints every distinct
//! error message shape (quoted text and numbers folded) with its count, to
//! read what users are told. The runner is seeded, so a count always covers the
//! same inputs; `SIM_FUZZ_SEED` (any text) draws a different sequence. A
//! failure is shrunk by proptest to a small mutation list and printed.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Inputs per run unless `SIM_FUZZ_CASES` says otherwise: CI-sized.
const DEFAULT_CASES: u32 = 2_000;

/// An input that takes longer than this to load counts as a hang (they take
/// well under a millisecond; this only catches runaway work).
const HANG: Duration = Duration::from_secs(5);

/// Widest line a report may print.
const MAX_LINE: usize = 600;

/// The most one repetition adds: twice the size limit, so files over it
/// are tried too, without the fuzzer itself using gigabytes.
const MAX_GROWTH: usize = 2 << 20;

/// Rejected inputs also run through the real binary.
const BINARY_SAMPLE: usize = 25;

/// Text a user never wrote and a parser should never print.
const INTERNAL: [&str; 13] = [
    "budget breached",
    "BudgetBreach",
    "Nodes {",
    "Depth {",
    "Error {",
    "from_str_multiple",
    "DuplicateKeyPolicy",
    "Option<",
    "externally tagged enum",
    "sequence start",
    "unit value",
    "tagged enum",
    "unit enum",
];

/// Tokens spliced into the text: YAML syntax, the language's words, and
/// values at the edges of what the language accepts.
const TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!tag ",
    "|\n",
    ">-\n",
    "'",
    "\"",
    "%YAML 1.2\n",
    "---\n",
    "...\n",
    "\t",
    "\n",
    " ",
    "null",
    "~",
    "true",
    "-1",
    "0",
    "1.5",
    "4000000000",
    "18446744073709551616",
    "1e309",
    ".nan",
    "-.inf",
    "9999h",
    "168h",
    "-0ms",
    "99999999999999999999ms",
    "1ms",
    "after select",
    "before flip ws-1",
    "after answer ws-9",
    "do: ",
    "on: ",
    "at: ",
    "nth: ",
    "passes: ",
    "fleet:",
    "expect:",
    "steps:",
    "explore:",
    "variants: [legacy]",
    "cp_error 4294967296",
    "db_error 99999999999",
    "cp_slow 1ms for 1h",
    "cp_partition for 200h",
    "unproven_flip/typo",
    "missed_dead",
    "{ min: 9s, max: 1s }",
    "\u{FEFF}",
    "é",
    "\u{0}",
    "\r\n",
    "\u{2028}",
];

/// One change to a file's text.
#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the byte at a position.
    Byte(Index, u8),
    /// Cut up to `len` bytes at a position.
    Cut(Index, usize),
    /// Insert a token at a position.
    Insert(Index, Index),
    /// Insert a token of `len` copies of one character (a huge scalar).
    Long(Index, usize),
    /// Repeat a line `times` times.
    Repeat(Index, usize),
    /// Swap two lines.
    Swap(Index, Index),
    /// Insert a line of another corpus file.
    Borrow(Index, Index, Index),
    /// Replace a number (a run of digits) with an extreme token.
    Number(Index, Index),
    /// Wrap what follows a `: ` in `depth` flow lists.
    Nest(Index, usize),
    /// Shift a line's indentation by `delta` spaces.
    Indent(Index, i8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let any_index = any::<Index>;
    prop_oneof![
        6 => (any_index(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        4 => (any_index(), 1..64usize).prop_map(|(i, n)| Mutation::Cut(i, n)),
        8 => (any_index(), any_index()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        1 => (any_index(), prop_oneof![1..200usize, Just(50_000usize)])
            .prop_map(|(i, n)| Mutation::Long(i, n)),
        3 => (any_index(), prop_oneof![9 => 1..8usize, 1 => 1_000..12_000usize])
            .prop_map(|(i, n)| Mutation::Repeat(i, n)),
        2 => (any_index(), any_index()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        3 => (any_index(), any_index(), any_index()).prop_map(|(a, f, l)| Mutation::Borrow(a, f, l)),
        4 => (any_index(), any_index()).prop_map(|(i, t)| Mutation::Number(i, t)),
        1 => (any_index(), prop_oneof![9 => 1..40usize, 1 => Just(100_000usize)])
            .prop_map(|(i, d)| Mutation::Nest(i, d)),
        2 => (any_index(), -4i8..=4).prop_map(|(i, d)| Mutation::Indent(i, d)),
    ]
}

/// A corpus file and the changes to make to it.
fn input(files: usize) -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (0..files, proptest::collection::vec(mutation(), 1..5))
}

/// The corpus, sorted by path.
fn corpus() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("the scenarios folder is readable")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a corpus file is text");
            (p, text)
        })
        .collect()
}

/// Byte offsets where lines start.
fn line_starts(text: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|i| *i <= text.len())
        .collect()
}

/// The line at `i` (without its newline) and its byte range.
fn line(text: &[u8], i: &Index) -> (usize, usize) {
    let starts = line_starts(text);
    let start = starts[i.index(starts.len())];
    let end = text[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(text.len(), |p| start + p);
    (start, end)
}

fn apply(text: &mut Vec<u8>, m: &Mutation, corpus: &[(PathBuf, String)]) {
    let at = |i: &Index, text: &Vec<u8>| i.index(text.len() + 1);
    match m {
        Mutation::Byte(i, b) => {
            if !text.is_empty() {
                let p = i.index(text.len());
                text[p] = *b;
            }
        }
        Mutation::Cut(i, n) => {
            let p = at(i, text);
            let end = (p + n).min(text.len());
            text.drain(p..end);
        }
        Mutation::Insert(i, t) => {
            let p = at(i, text);
            let token = TOKENS[t.index(TOKENS.len())].as_bytes();
            text.splice(p..p, token.iter().copied());
        }
        Mutation::Long(i, n) => {
            let p = at(i, text);
            text.splice(p..p, std::iter::repeat_n(b'z', *n));
        }
        Mutation::Repeat(i, n) => {
            let (start, end) = line(text, i);
            let mut copy = text[start..end].to_vec();
            copy.push(b'\n');
            // Past the size limit more text only tests the size check.
            let times = (*n).min(MAX_GROWTH / copy.len());
            let block: Vec<u8> = copy.repeat(times);
            text.splice(start..start, block);
        }
        Mutation::Swap(a, b) => {
            let (a0, a1) = line(text, a);
            let (b0, b1) = line(text, b);
            if a1 <= b0 {
                let (la, lb) = (text[a0..a1].to_vec(), text[b0..b1].to_vec());
                text.splice(b0..b1, la);
                text.splice(a0..a1, lb);
            }
        }
        Mutation::Borrow(at_line, f, l) => {
            let other = corpus[f.index(corpus.len())].1.as_bytes();
            let (o0, o1) = line(other, l);
            let mut borrowed = other[o0..o1].to_vec();
            borrowed.push(b'\n');
            let (start, _) = line(text, at_line);
            text.splice(start..start, borrowed);
        }
        Mutation::Number(i, t) => {
            let digits: Vec<usize> = (0..text.len())
                .filter(|&k| text[k].is_ascii_digit() && (k == 0 || !text[k - 1].is_ascii_digit()))
                .collect();
            if !digits.is_empty() {
                let start = digits[i.index(digits.len())];
                let end = text[start..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(text.len(), |p| start + p);
                let token = TOKENS[t.index(TOKENS.len())].as_bytes();
                text.splice(start..end, token.iter().copied());
            }
        }
        Mutation::Nest(i, depth) => {
            let colons: Vec<usize> = text
                .windows(2)
                .enumerate()
                .filter(|(_, w)| w == b": ")
                .map(|(k, _)| k + 2)
                .collect();
            if !colons.is_empty() {
                let start = colons[i.index(colons.len())];
                let end = text[start..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(text.len(), |p| start + p);
                let mut wrapped = vec![b'['; *depth];
                wrapped.extend_from_slice(&text[start..end]);
                wrapped.extend(std::iter::repeat_n(b']', *depth));
                text.splice(start..end, wrapped);
            }
        }
        Mutation::Indent(i, delta) => {
            let (start, end) = line(text, i);
            if *delta >= 0 {
                let pad = usize::try_from(*delta).unwrap_or(0);
                text.splice(start..start, std::iter::repeat_n(b' ', pad));
            } else {
                let cut = usize::from(delta.unsigned_abs());
                let spaces = text[start..end].iter().take_while(|b| **b == b' ').count();
                text.drain(start..start + spaces.min(cut));
            }
        }
    }
}

/// What the run saw, for the summary and the binary sample.
#[derive(Default)]
struct Tally {
    inputs: u64,
    accepted: u64,
    rejected: u64,
    errors: u64,
    hangs: u64,
    slowest: Duration,
    biggest: usize,
    sample: Vec<String>,
    shapes: std::collections::BTreeMap<String, u64>,
}

/// A message with its quoted parts and numbers folded, so messages that
/// differ only in the user's text count as one.
fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '"' | '`' => {
                quoted = !quoted;
                out.push(c);
            }
            _ if quoted => {}
            '0'..='9' => {
                if !out.ends_with('N') {
                    out.push('N');
                }
            }
            _ => out.push(c),
        }
    }
    out.chars().take(160).collect()
}

#[allow(
    clippy::disallowed_methods,
    reason = "a stopwatch that flags runaway inputs as hangs; it never reaches a simulated run"
)]
fn stopwatch() -> std::time::Instant {
    std::time::Instant::now()
}

/// Loads one mutated text and checks what came back.
fn check(text: &str, tally: &RefCell<Tally>) -> Result<(), TestCaseError> {
    let file = Path::new("fuzzed.yaml");
    let started = stopwatch();
    let loaded = sim::scenario::load_str(file, text);
    let took = started.elapsed();
    let mut t = tally.borrow_mut();
    if took > Duration::from_secs(1) && !Path::new("/tmp/lim/slow.yaml").exists() {
        std::fs::write("/tmp/lim/slow.yaml", text).unwrap();
    }
    t.inputs += 1;
    t.slowest = t.slowest.max(took);
    t.biggest = t.biggest.max(text.len());
    if took > HANG {
        t.hangs += 1;
        return Err(TestCaseError::fail(format!(
            "loading took {took:?} (a hang is over {HANG:?})"
        )));
    }
    let errors = match loaded {
        Ok(_) => {
            t.accepted += 1;
            return Ok(());
        }
        Err(errors) => errors,
    };
    t.rejected += 1;
    t.errors += u64::try_from(errors.len()).unwrap_or(u64::MAX);
    prop_assert!(!errors.is_empty(), "rejected without an error");
    for e in &errors {
        *t.shapes.entry(shape(&e.message)).or_insert(0) += 1;
        let whole_file = e.message.starts_with("the file is ");
        prop_assert!(
            e.at.line > 0 || whole_file,
            "an error without a location: {}",
            e.message
        );
        let shown = e.to_string();
        for l in shown.lines() {
            prop_assert!(
                l.chars().count() <= MAX_LINE,
                "a {}-character line: {}",
                l.chars().count(),
                l.chars().take(200).collect::<String>()
            );
        }
        for internal in INTERNAL {
            prop_assert!(
                !shown.contains(internal),
                "parser-internal text {internal:?}: {shown}"
            );
        }
    }
    let every = (t.rejected / 40).max(1);
    if t.sample.len() < BINARY_SAMPLE && t.rejected.is_multiple_of(every) && text.len() < 200_000 {
        t.sample.push(text.to_owned());
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("SIM_FUZZ_CASES")
        .ok()
        .and_then(|c| c.replace(['_', ','], "").parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn seed() -> [u8; 32] {
    let mut seed = *b"reconciler-sim/fuzz/scenarios/01";
    if let Ok(text) = std::env::var("SIM_FUZZ_SEED") {
        for (i, b) in text.bytes().enumerate() {
            seed[i % 32] ^= b;
        }
    }
    seed
}

#[test]
fn mutated_corpus_files_load_or_are_refused_with_located_readable_errors() {
    let corpus = corpus();
    assert!(corpus.len() >= 10, "the corpus is where it should be");
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed()));
    let tally = RefCell::new(Tally::default());
    let result = runner.run(&input(corpus.len()), |(f, mutations)| {
        let mut bytes = corpus[f].1.clone().into_bytes();
        for m in &mutations {
            apply(&mut bytes, m, &corpus);
        }
        check(&String::from_utf8_lossy(&bytes), &tally)
    });
    let t = tally.into_inner();
    println!(
        "fuzzed {} inputs: {} loaded, {} refused ({} errors), crashes 0, hangs {}; slowest {:?}, largest {} bytes",
        t.inputs, t.accepted, t.rejected, t.errors, t.hangs, t.slowest, t.biggest
    );
    if std::env::var_os("SIM_FUZZ_MESSAGES").is_some() {
        for (shape, n) in &t.shapes {
            println!("{n:>8}  {shape}");
        }
    }
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        t.accepted > 0 && t.rejected > 0,
        "the mutations both keep and break files"
    );

    // The same inputs through `sim run`: exit 2, a located error, nothing run.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    for (k, text) in t.sample.iter().enumerate() {
        let file = dir.join(format!("case-{k}.yaml"));
        std::fs::write(&file, text).expect("the case is written");
        let out = Command::new(env!("CARGO_BIN_EXE_sim"))
            .arg("run")
            .arg(&file)
            .output()
            .expect("the sim binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}:\n{stderr}", file.display());
        assert!(out.stdout.is_empty(), "{}: something ran", file.display());
        let located = format!("{}:", file.display());
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&located) && l.contains(": error: ")),
            "{}: no located error:\n{stderr}",
            file.display()
        );
    }
}
