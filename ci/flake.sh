#!/usr/bin/env bash
# Flake check: runs the whole test suite K times (default 20) exactly as CI
# does (`ci/check.sh test`), keeps each run's JUnit report, and reports every
# test whose result was not the same in all K runs. Exit 0 when no result
# changed and nothing failed, 1 otherwise, 2 on bad arguments.
#
#   ci/flake.sh            # K = 20
#   ci/flake.sh 5
#
# The tests are built once before the first run (later runs find nothing to
# rebuild). Postgres is found as `ci/check.sh` finds it: DATABASE_URL, else
# RECONCILER_SIM_PG_IMAGE, else the locally built image. Reports go to
# target/flake/run-<i>.xml and the summary to target/flake/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

k="${1:-20}"
if ! [[ "$k" =~ ^[1-9][0-9]*$ ]]; then
  echo "ci/flake.sh: K must be a positive number of runs, got '$k'" >&2
  exit 2
fi

target_dir="${CARGO_TARGET_DIR:-target}"
out="$target_dir/flake"
rm -rf "$out"
mkdir -p "$out"

started=$(date +%s)
echo "== building the suite once"
cargo nextest run --workspace --profile ci --no-run

for i in $(seq 1 "$k"); do
  run_started=$(date +%s)
  rm -f "$target_dir/nextest/ci/junit.xml"
  set +e
  bash ci/check.sh test >"$out/run-$i.log" 2>&1
  code=$?
  set -e
  if [ ! -f "$target_dir/nextest/ci/junit.xml" ]; then
    echo "run $i: no JUnit report (exit $code); see $out/run-$i.log" >&2
    tail -n 20 "$out/run-$i.log" >&2
    exit 1
  fi
  cp "$target_dir/nextest/ci/junit.xml" "$out/run-$i.xml"
  printf 'run %2d/%d: exit %d, %ss\n' "$i" "$k" "$code" "$(($(date +%s) - run_started))"
done

python3 - "$out" "$k" "$(($(date +%s) - started))" <<'PY' | tee "$out/summary.txt"
import sys
import xml.etree.ElementTree as ET

out, k, wall = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
results = {}  # test -> [result per run]
per_run = []
for i in range(1, k + 1):
    root = ET.parse(f"{out}/run-{i}.xml").getroot()
    seen = 0
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            result = "failed"
        elif case.find("skipped") is not None:
            result = "skipped"
        else:
            result = "passed"
        results.setdefault(name, [None] * k)[i - 1] = result
        seen += 1
    per_run.append(seen)

changed = {t: r for t, r in results.items() if len(set(r)) > 1}
always_failed = [t for t, r in results.items() if set(r) == {"failed"}]
print(f"runs              {k}")
print(f"tests per run     {min(per_run)}" + ("" if min(per_run) == max(per_run) else f"..{max(per_run)}"))
print(f"distinct tests    {len(results)}")
print(f"changed results   {len(changed)}")
print(f"failed every run  {len(always_failed)}")
print(f"wall time         {wall} s")
for t, r in sorted(changed.items()):
    runs = ", ".join(f"{i + 1}:{x or 'absent'}" for i, x in enumerate(r))
    print(f"CHANGED {t}: {runs}")
for t in sorted(always_failed):
    print(f"FAILED  {t}")
sys.exit(1 if changed or always_failed else 0)
PY
