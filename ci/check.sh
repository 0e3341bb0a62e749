#!/usr/bin/env bash
# The CI steps, one script for every caller: `.ci/run` runs them all, the
# GitHub workflows (ci/github/reconciler-sim.yml, and the nightly
# ci/github/reconciler-sim-nightly.yml) run them one job at a time.
#
#   ci/check.sh                  every step below except `build` and the
#                                nightly's steps, in order
#   ci/check.sh lint             the workflows are valid and run only these
#                                steps; cargo fmt --check; clippy -D warnings
#   ci/check.sh build            build once for a test matrix: a nextest
#                                archive of the workspace's tests at
#                                $TEST_ARCHIVE and the release `sim` binary
#   ci/check.sh test [I/N]       the README's test command (`cargo test
#                                --workspace`) as nextest runs it: `cargo
#                                nextest run --workspace` with the `ci` profile
#                                (JUnit at target/nextest/ci/junit.xml); I/N
#                                runs only partition I of N (1-based); runs the
#                                archive at $TEST_ARCHIVE instead of building,
#                                if set
#   ci/check.sh determinism      release `sim`: the digest of 1,000 seeds'
#                                traces on every core and on one (--jobs 1),
#                                sharded, and (when the debug binary exists)
#                                in the debug build: all equal; then 200
#                                seeds in the network mode (--net turmoil),
#                                every core and one
#   ci/check.sh explore [I/N]    release `sim explore` over $EXPLORE_SEEDS
#                                seeds (default 10,000), shard I of N (0-based);
#                                a violation fails and prints its replay command
#   ci/check.sh picture          the race picture in a real browser: installs
#                                Chromium from Debian's packages if missing,
#                                writes the HTML page of every finding under
#                                scenarios/found/ (one per file, so per kind,
#                                with the reconciler's logs) into $PICTURE_DIR (default
#                                target/picture), opens each headless, and
#                                fails unless its script ran without error,
#                                drew lanes and shows its violation marker;
#                                saves a screenshot of each (a few seconds a
#                                page: the full run runs it)
#
# The nightly (not part of the full run):
#
#   ci/check.sh build-sim        the release `sim` binary only
#   ci/check.sh nightly-shard I/N V
#                                release `sim explore --variant V --shard I/N
#                                --keep-going --json --digest` over
#                                $NIGHTLY_SEEDS seeds (default 16,000,000, the
#                                whole run), its report written to
#                                $NIGHTLY_DIR/V-shard-I-of-N.json (default
#                                target/nightly); a violation is data here, so
#                                only a failure to run fails the step
#   ci/check.sh net-explore      release `sim explore --net turmoil` over
#                                $NET_SEEDS seeds (default 2,000): hardened
#                                clean on the hardened platform, legacy and
#                                pr2283 each with a violation
#   ci/check.sh merge DIR        `sim merge DIR`: the shards' reports as one
#                                run (summary, digest, lowest failing seed with
#                                its replay command); fails on a violation or
#                                when a shard is missing (and appends the report
#                                to $GITHUB_STEP_SUMMARY when set)
#
# Not part of the full run nor of the nightly: `ci/teeth.sh` (hand-written
# mutants of `hardened`, each of which `sim explore` or the corpus must catch
# by the rule it breaks; a release rebuild per mutant) and `ci/mutants.sh`
# (cargo-mutants over reconciler-core's own tests); see docs/mutation.md.
#
# Postgres for the tests (`test` and the full run): DATABASE_URL if set, else
# the testcontainers image named by RECONCILER_SIM_PG_IMAGE, else, with
# Docker, the image ci/postgres-image.sh builds locally (no registry needed).
#
# One target selection for the tests (debug, the whole workspace) so the
# build cache is shared; the only other build is `-p sim --bin sim` in release,
# which the README's explore command builds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
step() { printf '\n== %s (+%ss)\n' "$1" "$(($(date +%s) - started))"; }
die() {
  printf 'ci/check.sh: %s\n' "$*" >&2
  exit 2
}

# Set only where a `build` job made the archive (the workflow); unset, `test`
# builds, so a stale archive can never be tested by mistake.
archive="${TEST_ARCHIVE:-}"
target_dir="${CARGO_TARGET_DIR:-target}"
explore_seeds="${EXPLORE_SEEDS:-10000}"
# hardened is explored on the platform with the fix it needs
# (docs/decisions.md); EXPLORE_PLATFORM=as-merged shows the platform's own
# races through hardened's restarts instead.
explore_platform="${EXPLORE_PLATFORM:-hardened}"
digest_seeds="${DIGEST_SEEDS:-1000}"
# The network mode (--net turmoil) is slower per seed: fewer seeds.
net_digest_seeds="${NET_DIGEST_SEEDS:-200}"
nightly_seeds="${NIGHTLY_SEEDS:-16000000}"
nightly_dir="${NIGHTLY_DIR:-target/nightly}"

need_nextest() {
  if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest (not found)"
    cargo install cargo-nextest --locked
  fi
}

# Exports what the Postgres tests need to find a server (see the header).
prepare_postgres() {
  if [ -n "${DATABASE_URL:-}" ] || [ -n "${RECONCILER_SIM_PG_IMAGE:-}" ]; then
    return
  fi
  if docker info >/dev/null 2>&1; then
    step "Postgres image (built locally: no registry here)"
    ci/postgres-image.sh
    export RECONCILER_SIM_PG_IMAGE=reconciler-sim/postgres:15-bookworm
  fi
}

# The release `sim` binary: $SIM_BIN when a previous job built it, else built
# here (the same `-p sim --bin sim` the README's explore command builds).
sim_release() {
  if [ -n "${SIM_BIN:-}" ]; then
    [ -x "$SIM_BIN" ] || die "SIM_BIN=$SIM_BIN is not an executable"
    printf '%s\n' "$SIM_BIN"
    return
  fi
  cargo build --release -p sim --bin sim >&2
  printf '%s\n' "$target_dir/release/sim"
}

lint() {
  step "the GitHub workflows run only ci/check.sh steps"
  python3 ci/check_workflow.py
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy"
  cargo clippy --workspace --all-targets -- -D warnings
}

build() {
  [ -n "$archive" ] || die "build: set TEST_ARCHIVE to the archive to write"
  need_nextest
  step "cargo nextest archive --workspace (debug)"
  mkdir -p "$(dirname "$archive")"
  cargo nextest archive --workspace --archive-file "$archive"
  step "cargo build --release -p sim --bin sim"
  sim_release >/dev/null
}

test_suite() {
  local partition=()
  if [ -n "${1:-}" ]; then
    [[ "$1" =~ ^[0-9]+/[0-9]+$ ]] || die "test: expected a partition I/N, got '$1'"
    partition=(--partition "count:$1")
  fi
  need_nextest
  prepare_postgres
  if [ -n "$archive" ]; then
    # Built by `build` in another job: extract over the checkout so that
    # target/debug/sim sits where the CLI tests were compiled to find it.
    step "cargo nextest run (from $archive) ${partition[*]}"
    cargo nextest run --profile ci --archive-file "$archive" \
      --workspace-remap . --extract-to . --extract-overwrite "${partition[@]}"
  else
    step "cargo nextest run --workspace ${partition[*]}"
    cargo nextest run --workspace --profile ci "${partition[@]}"
  fi
}

# Prints the `<hex>/<seeds>` digest of an explore run of $digest_seeds seeds
# (or $seeds when set);
# if the run fails (a violation), shows its report and fails the step.
digest_of() {
  local bin=$1 log out
  shift
  log=$(mktemp)
  if ! out=$("$bin" explore --platform "$explore_platform" --seeds "${seeds:-$digest_seeds}" --digest "$@" 2>"$log"); then
    cat "$log" >&2
    rm -f "$log"
    echo "determinism: $bin explore $* failed" >&2
    exit 1
  fi
  rm -f "$log"
  awk '$1 == "digest" { print $2 }' <<<"$out"
}

determinism() {
  step "determinism: trace digest of $digest_seeds seeds (release, every core and one, sharded)"
  local bin first second s0 s1 sharded
  bin=$(sim_release)
  first=$(digest_of "$bin")
  second=$(digest_of "$bin" --jobs 1)
  s0=$(digest_of "$bin" --shard 0/2)
  s1=$(digest_of "$bin" --shard 1/2)
  [ -n "$first" ] && [ -n "$s0" ] && [ -n "$s1" ] || die "determinism: sim printed no digest"
  sharded=$(printf '%016x/%d' $((0x${s0%/*} ^ 0x${s1%/*})) $((${s0#*/} + ${s1#*/})))
  printf 'release, all cores  %s\nrelease, --jobs 1   %s\nshards 0/2^1/2      %s\n' "$first" "$second" "$sharded"
  local ok=1
  [ "$first" = "$second" ] || ok=0
  [ "$first" = "$sharded" ] || ok=0
  if [ -x "$target_dir/debug/sim" ]; then
    local debug
    debug=$(digest_of "$target_dir/debug/sim")
    printf 'debug build         %s\n' "$debug"
    [ "$first" = "$debug" ] || ok=0
  fi
  if [ "$ok" != 1 ]; then
    echo "determinism: FAILED: the same seeds gave different traces" >&2
    exit 1
  fi
  echo "determinism: identical"
  step "determinism: trace digest of $net_digest_seeds seeds in the network mode (--net turmoil; every core and one)"
  local net_first net_second
  net_first=$(seeds=$net_digest_seeds digest_of "$bin" --net turmoil)
  net_second=$(seeds=$net_digest_seeds digest_of "$bin" --net turmoil --jobs 1)
  printf 'turmoil, all cores  %s\nturmoil, --jobs 1   %s\n' "$net_first" "$net_second"
  if [ -z "$net_first" ] || [ "$net_first" != "$net_second" ]; then
    echo "determinism: FAILED: the same seeds gave different traces in the network mode" >&2
    exit 1
  fi
  echo "determinism: identical in the network mode"
}

explore_budget() {
  local shard=${1:-0/1}
  step "sim explore --platform $explore_platform --seeds $explore_seeds --shard $shard (release)"
  local bin
  bin=$(sim_release)
  "$bin" explore --platform "$explore_platform" --seeds "$explore_seeds" --shard "$shard"
}

picture_dir="${PICTURE_DIR:-target/picture}"

# Chromium's binary, installed from the distribution's packages if missing.
need_chromium() {
  local bin
  for bin in chromium chromium-browser; do
    if command -v "$bin" >/dev/null 2>&1; then
      command -v "$bin"
      return
    fi
  done
  step "installing chromium (apt-get, not found)" >&2
  command -v apt-get >/dev/null 2>&1 || die "picture: no chromium and no apt-get to install it"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  command -v chromium
}

# Opens one page headless: its DOM after the script ran (virtual time lets
# the script finish), then a screenshot. Fails with the page's own words.
check_page() {
  local chromium=$1 page=$2 dom body
  dom=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 \
    --dump-dom "file://$PWD/$page" 2>/dev/null) || die "picture: chromium could not open $page"
  body=$(grep -o '<body[^>]*>' <<<"$dom" | head -n 1)
  if grep -q 'data-error=' <<<"$body" || ! grep -q 'data-ready="1"' <<<"$body"; then
    echo "picture: $page: the script did not finish: $body" >&2
    grep -o '<div id="error"[^<]*' <<<"$dom" >&2 || true
    exit 1
  fi
  grep -Eq 'data-lanes="[1-9][0-9]*"' <<<"$body" || { echo "picture: $page drew no lane: $body" >&2; exit 1; }
  grep -q 'class="violation-marker"' <<<"$dom" || { echo "picture: $page shows no violation marker" >&2; exit 1; }
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 \
    --window-size=1400,900 --screenshot="$PWD/${page%.html}.png" "file://$PWD/$page" >/dev/null 2>&1 ||
    die "picture: chromium could not screenshot $page"
  printf '%-70s ok  %s\n' "$page" "$(grep -o 'data-render-ms="[0-9]*"' <<<"$body")"
}

picture() {
  step "the race picture in headless Chromium (one page per finding under scenarios/found/)"
  local chromium bin file page n=0
  chromium=$(need_chromium)
  bin=$(sim_release)
  mkdir -p "$picture_dir"
  # Each file there is one kind/sub-reason found and shrunk: every kind the
  # corpus shows gets its page.
  for file in scenarios/found/*.yaml; do
    page="$picture_dir/$(basename "$file" .yaml).html"
    rm -f "$page"
    "$bin" run "$file" --log info --html "$page" >/dev/null 2>&1 || true
    [ -s "$page" ] || die "picture: sim wrote no page for $file"
    check_page "$chromium" "$page"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "picture: no scenario under scenarios/found/"
  echo "picture: $n pages drawn and checked"
}

# The network mode's acceptance run (nightly): 2,000 seeds over turmoil,
# hardened clean on the hardened platform, legacy and pr2283 each found.
net_explore() {
  step "sim explore --net turmoil --seeds ${NET_SEEDS:-2000}: hardened clean, legacy and pr2283 found (release)"
  local bin
  bin=$(sim_release)
  "$bin" explore --net turmoil --platform hardened --seeds "${NET_SEEDS:-2000}" \
    || die "net-explore: hardened is not clean over the network"
  local v rc
  for v in legacy pr2283; do
    rc=0
    "$bin" explore --net turmoil --variant "$v" --seeds "${NET_SEEDS:-2000}" >/dev/null 2>&1 || rc=$?
    [ "$rc" = 1 ] || die "net-explore: $v: expected a violation (exit 1) in ${NET_SEEDS:-2000} network seeds, got exit $rc"
  done
  echo "net-explore: hardened clean, legacy and pr2283 found"
}

build_sim() {
  step "cargo build --release -p sim --bin sim"
  sim_release >/dev/null
}

# One shard of the nightly exploration. Exit 1 from sim (a violation) still
# leaves a complete report: the merge decides; anything else fails the step.
nightly_shard() {
  local shard=${1:-} variant=${2:-}
  [[ "$shard" =~ ^[0-9]+/[0-9]+$ ]] || die "nightly-shard: expected a shard I/N, got '$shard'"
  [ -n "$variant" ] || die "nightly-shard: expected a variant after the shard"
  local bin out rc=0
  bin=$(sim_release)
  mkdir -p "$nightly_dir"
  out="$nightly_dir/$variant-shard-${shard%/*}-of-${shard#*/}.json"
  step "sim explore --variant $variant --platform $explore_platform --seeds $nightly_seeds --shard $shard --keep-going -> $out"
  "$bin" explore --variant "$variant" --platform "$explore_platform" --seeds "$nightly_seeds" --shard "$shard" \
    --keep-going --json --digest >"$out" || rc=$?
  case $rc in
    0) echo "shard $shard of $variant: no violation" ;;
    1) echo "shard $shard of $variant: violation(s); the merge reports the lowest" ;;
    *)
      rm -f "$out"
      echo "nightly-shard: sim explore failed (exit $rc)" >&2
      exit 1
      ;;
  esac
}

merge_shards() {
  local dir=${1:-}
  [ -n "$dir" ] || die "merge: expected the folder of the shards' reports"
  step "sim merge $dir"
  local bin report rc=0
  bin=$(sim_release)
  report=$("$bin" merge "$dir") || rc=$?
  printf '%s\n' "$report"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -n "$report" ]; then
    printf '### sim merge %s\n\n```\n%s\n```\n' "$dir" "$report" >>"$GITHUB_STEP_SUMMARY"
  fi
  return "$rc"
}

case "${1:-all}" in
  all)
    [ $# -le 1 ] || die "the full run takes no arguments"
    lint
    test_suite
    determinism
    explore_budget
    picture
    ;;
  lint) lint ;;
  build) build ;;
  test) test_suite "${2:-}" ;;
  determinism) determinism ;;
  explore) explore_budget "${2:-}" ;;
  picture) picture ;;
  build-sim) build_sim ;;
  nightly-shard) nightly_shard "${2:-}" "${3:-}" ;;
  merge) merge_shards "${2:-}" ;;
  net-explore) net_explore ;;
  *) die "unknown step '$1': expected lint, build, test [I/N], determinism, explore [I/N], picture, build-sim, nightly-shard I/N V, merge DIR or net-explore" ;;
esac
step "done"
