#!/usr/bin/env bash
# Make sure the services the tests talk to are up: the machine's PostgreSQL on 127.0.0.1:5432
# (started before every session and for CI; started here if it has stopped).
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null; then
  echo "PostgreSQL client tools are missing; installing postgresql-client" >&2
  apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null
fi
if ! pg_up; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting the local cluster" >&2
  for version in /etc/postgresql/*; do
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
  done
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL on 127.0.0.1:5432 is not reachable" >&2; exit 1; }
