#!/usr/bin/env bash
# The benchmarks' throwaway PostgreSQL cluster, apart from the tests' one (port 54329).
#   bash bench/postgres.sh feeds_100k [feeds_1k ...]   → starts it, creates the databases
#                                                        missing, prints each one's URL
#   bash bench/postgres.sh --stop                      → stops it
# The cluster is .ci/postgres's (fsync off, max_connections 200, 127.0.0.1 only, the rest
# PostgreSQL's defaults) on port $FEEDS_BENCH_PG_PORT (54339) in $FEEDS_BENCH_PG_DATA
# (/tmp/feeds-bench-pg); .ci/postgres also creates an unused database feeds_test.
set -euo pipefail
port=${FEEDS_BENCH_PG_PORT:-54339}
data=${FEEDS_BENCH_PG_DATA:-/tmp/feeds-bench-pg}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ "${1:-}" = "--stop" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast stop
  else
    "$bin/pg_ctl" -D "$data" -m fast stop
  fi
  exit
fi
FEEDS_TEST_PG_PORT=$port FEEDS_TEST_PG_DATA=$data bash "$(dirname "$0")/../.ci/postgres" >/dev/null
for name in "$@"; do
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$name'" \
    | grep -q 1 || "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
  echo "postgresql+psycopg://postgres@127.0.0.1:$port/$name"
done
