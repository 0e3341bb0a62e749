#!/usr/bin/env bash
# Mutation testing of the `hardened` variant with cargo-mutants: how many
# deliberately broken versions of its code the reconciler-core tests catch.
# Not part of every CI pass (about half an hour on two cores); results and
# every survivor are accounted for in docs/mutation.md.
#
#   ci/mutants.sh                  # the scope below, one job
#   ci/mutants.sh --list           # extra arguments go to cargo-mutants
#
# Scope (see docs/mutation.md for why): all of reconciler-core/src/hardened.rs,
# plus the two functions in the crate that only `hardened` relies on:
# `InstanceState::is_terminal` (which answers prove death) and
# `CandidateQuery::after_cursor` (the keyset page boundary). The mutants are
# tested by reconciler-core's own tests, the suite that owns this code.
#
# Installs cargo-mutants if it is missing. Output: mutants.out/ (gitignored);
# exit code as cargo-mutants' (0 all caught, 2 some survived, 3 timeouts, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "== installing cargo-mutants (not found)"
  cargo install cargo-mutants --locked
fi

scope='reconciler-core/src/hardened\.rs|InstanceState::is_terminal|CandidateQuery::after_cursor'

started=$(date +%s)
set +e
cargo mutants --package reconciler-core --re "$scope" --jobs 1 "$@"
code=$?
set -e
echo "wall time: $(($(date +%s) - started)) s (cargo-mutants exit $code)"
exit "$code"
