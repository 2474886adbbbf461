#!/usr/bin/env bash
# The production topology on one machine: the Prefect server on PostgreSQL, the project database
# on PostgreSQL, two process workers in the `reportflow` pool, and the web pages.
#
#   scripts/serve-postgres.sh [reportflow serve options…]      e.g. --workers 3 --port 4200
#
# PG_URL (default postgresql://postgres@127.0.0.1:5432) names the server; the databases
# PREFECT_DB (reportflow_prefect) and PROJECT_DB (reportflow) are created when missing.
# REPORTFLOW_SECRET_KEY must be the same on every machine that shares the project database.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL="${PG_URL:-postgresql://postgres@127.0.0.1:5432}"
PREFECT_DB="${PREFECT_DB:-reportflow_prefect}"
PROJECT_DB="${PROJECT_DB:-reportflow}"
PYTHON="${PYTHON:-.venv/bin/python}"

"$PYTHON" - "$PG_URL" "$PREFECT_DB" "$PROJECT_DB" <<'PY'
import sys

import psycopg

url, *names = sys.argv[1:]
with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
    for name in names:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Đã tạo cơ sở dữ liệu {name}.")
PY

export PREFECT_API_DATABASE_CONNECTION_URL="${PG_URL/postgresql:\/\//postgresql+asyncpg://}/$PREFECT_DB"
export REPORTFLOW_DATABASE_URL="${REPORTFLOW_DATABASE_URL:-$PG_URL/$PROJECT_DB}"
has_workers=0
for arg in "$@"; do [[ "$arg" == --workers* ]] && has_workers=1; done
if (( has_workers )); then set -- "$@"; else set -- --workers 2 "$@"; fi
exec "$PYTHON" -m reportflow.cli serve "$@"
