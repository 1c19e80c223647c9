"""A private, throwaway MariaDB server for the demo and the tests.

On a machine where no MariaDB server is reachable (a laptop, a bare CI runner),
``flightvault demo`` and the test suite still need a real server: the product
is temporal SQL, so nothing may be faked. ``PrivateServer`` starts one from the
distribution's own ``mariadbd`` binary (``scripts/bootstrap.sh`` installs it)
with its own data directory under a temporary folder, its own socket and a free
loopback port, answers with a URL, and removes every trace on exit. It never
reads a configuration file (``--no-defaults``), so it cannot collide with, or
change, a server the machine already runs.

    with PrivateServer() as server:            # binary log on, as in production
        engine = make_engine(server.url)

Start-up takes well under a second on an idle machine (the system tables are
written by ``mariadb-install-db`` in one bootstrap pass), so a test may start
its own.
"""

from __future__ import annotations

import ctypes
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import URL

from core.db import create_database_if_missing
from core.errors import VaultError

# Where distributions put the server; /usr/sbin is not on a normal user's PATH.
SEARCH_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin", "/usr/local/bin")
FORCE_VARIABLE = "FV_PRIVATE_SERVER"
BOOTSTRAP_HINT = "run scripts/bootstrap.sh (it installs the MariaDB server package)"


class PrivateServerError(VaultError):
    """A private server could not be found, started or answered in time."""


@dataclass(frozen=True)
class Binaries:
    """The two programs a private server needs."""

    server: Path
    install_db: Path


def find_binaries() -> Binaries | None:
    """The server and its installer, from PATH or the usual sbin folders; None if absent."""
    found = [_which(name) for name in ("mariadbd", "mariadb-install-db")]
    server, install_db = found
    return Binaries(server, install_db) if server and install_db else None


def available() -> bool:
    return find_binaries() is not None


def forced() -> bool:
    """``FV_PRIVATE_SERVER=1``: use a private server even when a real one answers."""
    return os.environ.get(FORCE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def _which(name: str) -> Path | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), *SEARCH_DIRS])
    hit = shutil.which(name, path=path)
    return Path(hit) if hit else None


def free_port() -> int:
    """A loopback port nobody listens on right now (the server may still lose a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _death_signal() -> Callable[[], None] | None:
    """A child-side hook asking Linux to SIGTERM the server when the thread that started it
    ends (``PR_SET_PDEATHSIG``): a test run killed with SIGKILL then leaves no mariadbd behind.

    libc is resolved here, in the parent: after a fork the child may only call it.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class PrivateServer:
    """A throwaway ``mariadbd`` on 127.0.0.1, root with an empty password, removed on exit.

    ``binlog`` turns the binary log on (ROW format, ``server_id = 1``), as a
    production primary has it; ``extra_args`` go to both ``mariadb-install-db``
    and ``mariadbd`` (e.g. ``["--binlog-row-image=FULL"]``). ``die_with_parent`` stops the
    server when the thread that started it ends; turn it off to start one from a short-lived
    worker thread.
    """

    def __init__(
        self,
        *,
        binlog: bool = True,
        extra_args: Sequence[str] = (),
        database: str = "test",
        startup_timeout: float = 30.0,
        buffer_pool: str = "32M",
        die_with_parent: bool = True,
    ) -> None:
        self.binlog = binlog
        self.extra_args = tuple(extra_args)
        self.database = database
        self.startup_timeout = startup_timeout
        self.buffer_pool = buffer_pool
        self.die_with_parent = die_with_parent
        self.port = 0
        self.root: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    # --- where things are -------------------------------------------------------

    @property
    def datadir(self) -> Path:
        return self._root / "data"

    @property
    def socket(self) -> Path:
        return self._root / "mysqld.sock"

    @property
    def error_log(self) -> Path:
        return self._root / "error.log"

    @property
    def url(self) -> URL:
        """``mariadb+mariadbconnector://root@127.0.0.1:PORT/<database>``."""
        return URL.create(
            "mariadb+mariadbconnector",
            username="root",
            host="127.0.0.1",
            port=self.port,
            database=self.database,
        )

    @property
    def _root(self) -> Path:
        if self.root is None:
            raise PrivateServerError("The private MariaDB server is not started.")
        return self.root

    # --- life cycle ---------------------------------------------------------------

    def __enter__(self) -> PrivateServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Initialise a data directory, start the server and wait until it answers."""
        binaries = find_binaries()
        if binaries is None:
            raise PrivateServerError(f"No mariadbd on this machine: {BOOTSTRAP_HINT}.")
        self.root = Path(tempfile.mkdtemp(prefix="flightvault-mariadb-"))
        try:
            self._install(binaries)
            self._launch_on_a_free_port(binaries)
            create_database_if_missing(self.url)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), wait, SIGKILL if it hangs; then remove the folder."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        root, self.root = self.root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    # --- the steps ------------------------------------------------------------------

    def _common_args(self) -> list[str]:
        """Options the installer and the server share (``--no-defaults`` must come first)."""
        user = ["--user=root"] if os.geteuid() == 0 else []
        return [
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--innodb-buffer-pool-size={self.buffer_pool}",
            "--innodb-log-file-size=16M",
            # Debian's and the mariadb image's defaults, so text behaves as on a real server:
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            *user,
            *self.extra_args,
        ]

    def _install(self, binaries: Binaries) -> None:
        # mariadbd refuses to run as root unless told --user=root; anyone else runs as self.
        owner = [] if os.geteuid() == 0 else [f"--user={getpass.getuser()}"]
        command = [
            str(binaries.install_db),
            *self._common_args(),
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            # Skip its hostname lookup (resolveip): it fails where the host name and even
            # 'localhost' do not resolve (no /etc/hosts), yet the server listens on 127.0.0.1.
            "--force",
            *owner,
        ]
        log = self._root / "install.log"
        with log.open("wb") as out:
            done = subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=self.startup_timeout,
                check=False,
            )
        if done.returncode != 0:
            raise PrivateServerError(
                f"mariadb-install-db failed (exit {done.returncode}): {_tail(log)}"
            )

    def _server_command(self, binaries: Binaries) -> list[str]:
        binlog = (
            [f"--log-bin={self.datadir / 'binlog'}", "--server-id=1", "--binlog-format=ROW"]
            if self.binlog
            else ["--skip-log-bin"]
        )
        return [
            str(binaries.server),
            *self._common_args(),
            f"--socket={self.socket}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            f"--pid-file={self._root / 'mysqld.pid'}",
            f"--log-error={self.error_log}",
            *binlog,
            *self.extra_args,  # last, so they override the binary log's defaults too
        ]

    def _launch_on_a_free_port(self, binaries: Binaries) -> None:
        """Start the server; if another process took the port meanwhile, try another."""
        for _attempt in range(3):
            self.port = free_port()
            self.error_log.unlink(missing_ok=True)
            self.process = subprocess.Popen(
                self._server_command(binaries),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_death_signal() if self.die_with_parent else None,
                start_new_session=True,  # a Ctrl-C in the terminal reaches us, not it
            )
            if self._wait_until_answering():
                return
            if "Address already in use" not in _tail(self.error_log):
                break
        tail = _tail(self.error_log)
        raise PrivateServerError(
            f"The private MariaDB server did not answer within {self.startup_timeout:.0f} s "
            f"on port {self.port}: {tail or 'its error log is empty'}"
        )

    def _wait_until_answering(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            if self._answers():
                return True
            time.sleep(0.05)
        return False

    def _answers(self) -> bool:
        try:
            self._execute("SELECT 1")
            return True
        except Exception:
            return False

    def _execute(self, statement: str) -> None:
        import mariadb

        conn = mariadb.connect(
            host="127.0.0.1", port=self.port, user="root", password="", connect_timeout=2
        )
        try:
            conn.cursor().execute(statement)
        finally:
            conn.close()


def _tail(path: Path, lines: int = 6) -> str:
    """What a log says went wrong, for an error message: its last ``[ERROR]`` lines when it
    has any (the installer ends with a page of advice), else its last lines."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in kept if "[ERROR]" in line]
    return " | ".join((errors or kept)[-lines:])
