#!/usr/bin/env bash
# Builds a local Postgres image for the testcontainers path of the Postgres
# tests, from Debian packages, for machines that cannot pull from any image
# registry.
#
#   ci/postgres-image.sh            # builds reconciler-sim/postgres:15-bookworm
#   RECONCILER_SIM_PG_IMAGE=reconciler-sim/postgres:15-bookworm \
#     cargo nextest run -p integration-tests --test postgres
#
# The image behaves like the official `postgres` image as far as
# testcontainers-modules' Postgres module relies on it: it honours
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, accepts extra server
# arguments (`-c fsync=off`), and prints "database system is ready to accept
# connections" twice, once on stdout (the temporary init server) and once on
# stderr (the real server), which is exactly what the module waits for.
#
# Idempotent: if the tag already exists, nothing is done. The Debian mirror is
# read at run time from the machine's apt sources, never written here.
set -euo pipefail

TAG="${POSTGRES_IMAGE_TAG:-reconciler-sim/postgres:15-bookworm}"
SUITE=bookworm
SOURCES=/etc/apt/sources.list.d/debian.sources

log() { printf '[postgres-image] %s\n' "$*" >&2; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "image $TAG already exists; nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (debootstrap needs it)"
  exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# The first `URIs:` line of the main Debian source (not the security one).
MIRROR="$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' "$SOURCES")"
if [ -z "$MIRROR" ]; then
  log "no URIs: line found in $SOURCES; cannot pick a Debian mirror"
  exit 1
fi

ROOT="$(mktemp -d /var/tmp/reconciler-sim-pgroot.XXXXXX)"
cleanup() { rm -rf --one-file-system "$ROOT"; }
trap cleanup EXIT

start=$SECONDS
log "debootstrap $SUITE (minbase + postgresql-15) into $ROOT from $MIRROR"
debootstrap --variant=minbase --include=postgresql-15 "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || {
  tail -n 30 "$ROOT.log" >&2
  rm -f "$ROOT.log"
  exit 1
}
rm -f "$ROOT.log"
log "debootstrap done in $((SECONDS - start)) s"

# Slim the root: package caches and docs are not needed to run a server.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/*
# The package's postinst creates a default cluster; the entrypoint makes its
# own in $PGDATA, so drop it.
rm -rf "$ROOT"/var/lib/postgresql/15/main "$ROOT"/etc/postgresql/15/main

cat >"$ROOT/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
# A small stand-in for the official image's entrypoint (see
# ci/postgres-image.sh in reconciler-sim).
set -eu

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# Extra arguments are server options, as with the official image.
if [ "${1:-}" != "" ] && [ "${1#-}" = "$1" ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=
  auth=trust
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    auth=scram-sha-256
  fi
  if [ "${POSTGRES_HOST_AUTH_METHOD:-}" != "" ]; then
    auth="$POSTGRES_HOST_AUTH_METHOD"
  fi
  initdb --username="$POSTGRES_USER" ${pwfile:+--pwfile="$pwfile"} \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="$auth"
  [ -n "$pwfile" ] && rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # The temporary server: unix socket only, its log on stdout.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start 2>&1
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres \
      -c "CREATE DATABASE \"$POSTGRES_DB\"" 2>&1
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop 2>&1
  echo "init complete; starting the server"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
ENTRYPOINT
chmod 755 "$ROOT/usr/local/bin/docker-entrypoint.sh"

log "importing the root filesystem as $TAG"
tar -C "$ROOT" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'EXPOSE 5432' \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  - "$TAG" >/dev/null

log "built $TAG in $((SECONDS - start)) s; checking it"
docker image inspect --format '{{.Id}} {{.Size}} bytes' "$TAG" >&2
docker run --rm --entrypoint postgres "$TAG" --version >&2
