#!/usr/bin/env bash
# The whole test suite from a fresh machine: install the project and its test tools, provision what
# the tests need, lint, type-check, and run every test. Extra arguments go to pytest.
# Uses the active virtual environment, or creates ./.venv when none is active.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${PYTHON:-python3}
if [ -z "${VIRTUAL_ENV:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
      || { echo "error: CityKG needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 2; }
    "$python_bin" -m venv .venv
  fi
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi

echo "== PostgreSQL server programs (the database-source tests start a throwaway server of their own)"
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: PostgreSQL is not installed, and installing it needs root:" \
         "run 'apt-get update && apt-get install -y postgresql' as root, then this script again" >&2
    exit 2
  fi
  command -v apt-get >/dev/null \
    || { echo "error: no apt-get: install the PostgreSQL server so that /usr/lib/postgresql/<version>/bin/initdb exists" >&2; exit 2; }
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi

echo "== Neo4j server jars (the Neo4j tests start a throwaway server of their own)"
command -v java >/dev/null || { echo "error: Java 17 or newer is needed for the Neo4j server and HermiT" >&2; exit 2; }
if ! command -v mvn >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "error: Maven (mvn) is needed to fetch the Neo4j jars: run 'apt-get install -y maven' as root" >&2; exit 2; }
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y maven
fi
bash neo4j-server/server.sh fetch

echo "== install"
python -m pip install --quiet --disable-pip-version-check --upgrade pip
python -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "== lint (ruff)"
ruff check .

echo "== type check (mypy)"
mypy

echo "== tests (pytest)"
python -m pytest "$@"
