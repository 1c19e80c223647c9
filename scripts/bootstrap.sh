#!/usr/bin/env bash
# Installs everything FlightVault needs on a fresh Debian-like machine:
# the MariaDB client headers the Connector/Python builds against, the MariaDB
# server binaries (so the demo and the tests can start a private throwaway
# server when none is reachable), then a virtualenv with the package and its
# dev tools. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v mariadb_config >/dev/null 2>&1; then
    echo "bootstrap: mariadb_config not found; installing libmariadb-dev"
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-dev gcc >/dev/null
fi

# mariadb-server-core holds mariadbd and mariadb-install-db without the system
# service (nothing is started or enabled); mariadb-server where it does not exist.
if ! command -v mariadbd >/dev/null 2>&1 && ! test -x /usr/sbin/mariadbd; then
    echo "bootstrap: mariadbd not found; installing the MariaDB server binaries"
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server-core >/dev/null \
        || need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bootstrap: FlightVault needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[dev]'
touch "$VENV/.installed"
echo "bootstrap: ready ($VENV)"
