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

apt_install() {
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The Connector/Python has no Linux wheel: pip compiles it, which needs gcc, the
# MariaDB client headers and Python's own headers (Python.h).
if ! command -v mariadb_config >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1 \
    || ! "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    echo "bootstrap: installing the build tools for the MariaDB connector (libmariadb-dev gcc python3-dev)"
    apt_install libmariadb-dev gcc python3-dev
fi

# Debian splits venv/ensurepip out of python3.
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "bootstrap: python3 -m venv is not available; installing python3-venv"
    apt_install python3-venv
fi

# mariadb-server-core holds mariadbd and mariadb-install-db without the system
# service (nothing is started or enabled); mariadb-server where it does not exist.
# mariadb-install-db (a shell script) also needs my_print_defaults, from mariadb-client-core.
if { ! command -v mariadbd >/dev/null 2>&1 && ! test -x /usr/sbin/mariadbd; } \
    || ! command -v my_print_defaults >/dev/null 2>&1; then
    echo "bootstrap: installing the MariaDB server binaries"
    apt_install mariadb-server-core mariadb-client-core \
        || need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bootstrap: FlightVault needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

# A venv made while ensurepip was missing has a python but no pip: make it again.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    "$PYTHON" -m venv --clear "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[dev]'
touch "$VENV/.installed"
echo "bootstrap: ready ($VENV)"
