#!/usr/bin/env bash
# Teeth of the simulator: hand-written mutants of `hardened` must be caught
# by the rule they break. Not part of every CI pass (each mutant is a release
# rebuild of `sim`, about a minute or more on two cores, plus its runs);
# results in docs/mutation.md. `ci/mutants.sh` is a different measure
# (cargo-mutants against reconciler-core's own tests).
#
#   ci/teeth.sh                        every ci/mutants/*.patch
#   ci/teeth.sh ci/mutants/X.patch ... only these
#   TEETH_SEEDS=10000 ci/teeth.sh      a smaller explore budget (default 100,000)
#   ci/teeth.sh --table                the table of the last run again, from
#                                      target/teeth/ (no build, no runs)
#
# Each patch under ci/mutants/ opens with a comment: the bug it models, and
# an `# expect: LABEL[|LABEL...]` line, a kind or `kind/sub-reason` (as
# `sim explore --find` takes them). For each mutant the script applies the
# patch, builds the release `sim`, runs
#   sim explore --variant hardened --platform hardened --seeds $TEETH_SEEDS
# (it stops at the first violation: its label, the seeds to it, seconds) and
#   sim run scenarios/ --variant hardened
# (which files fail, and with which violations), then reverts the patch
# (`git apply -R`; a trap reverts it on any exit, so the tree is never left
# mutated). It prints one table row per mutant.
#
# A mutant is caught when explore's first violation, or a violation of a
# failing corpus file, matches its expected label. Exit 1 if any mutant is
# missed (nothing failed) or caught only by other rules (a side effect, not
# the rule it breaks); exit 2 for a patch that does not apply or build, or a
# tree with local changes to reconciler-core/ or sim/. Raw outputs are kept
# in target/teeth/<mutant>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${TEETH_SEEDS:-100000}
out=target/teeth
sim=target/release/sim
rows="$out/rows.tsv"

# The table, from the rows of the mutants run so far; exits 1 if any is
# missed or caught only by another rule.
table() {
  python3 - "$rows" <<'EOF'
import json, sys
from collections import Counter

def matches(label, expect):
    return any(label == e or label.split("/")[0] == e for e in expect.split("|"))

failed = 0
print("| mutant | expected rule | caught by explore (kind, seeds, s) | caught by corpus (files) | missed |")
print("| --- | --- | --- | --- | --- |")
for line in open(sys.argv[1]):
    name, expect, d, secs = line.rstrip("\n").split("\t")
    explore = json.load(open(f"{d}/explore.json"))
    finding = explore.get("finding")
    labels = []
    if finding:
        seeds_to = finding["seed"] - explore["start_seed"] + 1
        labels.append(finding["label"])
        by_explore = f"{finding['label']}, {seeds_to}, {secs}"
    else:
        by_explore = f"no ({explore['summary']['seeds']} seeds, {secs} s)"
    corpus = json.load(open(f"{d}/corpus.json"))
    files = sorted({run["file"].removeprefix("scenarios/") for run in corpus["runs"] if not run["met"]})
    seen = Counter(l for run in corpus["runs"] if not run["met"] for l in set(run["violations"]))
    labels.extend(seen)
    if files:
        shown = ", ".join(files[:2]) + (", …" if len(files) > 2 else "")
        kinds = ", ".join(f"{l} ×{n}" for l, n in sorted(seen.items()))
        by_corpus = f"{len(files)} files ({shown}): {kinds or 'no violation'}"
    else:
        by_corpus = "no"
    if corpus["sections_not_met"]:
        by_corpus += f" (+{corpus['sections_not_met']} explore/exhaustive sections)"
    if not labels:
        verdict = "**missed**"
        failed += 1
    elif not any(matches(l, expect) for l in labels):
        verdict = "**wrong rule**"
        failed += 1
    else:
        verdict = "no"
    print(f"| {name} | {expect} | {by_explore} | {by_corpus} | {verdict} |")
print(f"\n{failed} of the mutants missed or caught only by another rule")
sys.exit(1 if failed else 0)
EOF
}

if [ "${1:-}" = "--table" ]; then
  table
  exit
fi

if [ "$#" -gt 0 ]; then
  patches=("$@")
else
  patches=(ci/mutants/*.patch)
fi

if ! git diff --quiet HEAD -- reconciler-core sim; then
  echo "teeth: reconciler-core/ or sim/ has local changes; commit or stash them first" >&2
  exit 2
fi

applied=""
revert() {
  if [ -n "$applied" ]; then
    git apply -R "$applied"
    applied=""
  fi
}
trap revert EXIT
trap 'exit 130' INT TERM

mkdir -p "$out"
: >"$rows"

for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  expect=$(sed -n 's/^# expect: //p' "$patch" | head -n 1)
  if [ -z "$expect" ]; then
    echo "teeth: $patch has no '# expect:' line" >&2
    exit 2
  fi
  dir="$out/$name"
  mkdir -p "$dir"
  echo "== $name (expect $expect)" >&2
  git apply "$patch"
  applied=$patch
  if ! cargo build --release -p sim --bin sim -q 2>"$dir/build.log"; then
    echo "teeth: $name does not build; see $dir/build.log" >&2
    exit 2
  fi
  started=$(date +%s.%N)
  set +e
  "$sim" explore --variant hardened --platform hardened --seeds "$seeds" --json \
    >"$dir/explore.json" 2>"$dir/explore.log"
  explore_rc=$?
  ended=$(date +%s.%N)
  "$sim" run scenarios/ --variant hardened --json >"$dir/corpus.json" 2>"$dir/corpus.log"
  corpus_rc=$?
  set -e
  revert
  if [ "$explore_rc" -gt 1 ] || [ "$corpus_rc" -gt 1 ]; then
    echo "teeth: $name: sim failed to run (explore exit $explore_rc, run exit $corpus_rc); see $dir" >&2
    exit 2
  fi
  secs=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t%s\t%s\n' "$name" "$expect" "$dir" "$secs" >>"$rows"
done

table
