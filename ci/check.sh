#!/usr/bin/env bash
# The whole CI pass, one script for every caller (.ci/run, the GitHub
# workflow): prepare the machine, then lint, then the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
step() { printf '\n== %s (+%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

if [ -x ci/postgres-image.sh ] && [ -z "${DATABASE_URL:-}" ] && [ -z "${RECONCILER_SIM_PG_IMAGE:-}" ]; then
  if docker info >/dev/null 2>&1; then
    step "Postgres image (built locally: no registry here)"
    ci/postgres-image.sh
    export RECONCILER_SIM_PG_IMAGE=reconciler-sim/postgres:15-bookworm
  fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
cargo test --workspace

step "done"
