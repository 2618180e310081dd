"""Redis and PostgreSQL servers that a test owns, on free ports, so it can kill and restart them. The shared
servers (6379, 5432) are never touched. Tests using these skip when the binaries are missing (unless
TESTS_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests import services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class OwnRedis:
    """redis-server without persistence: a restart comes back empty, as a cache may."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            services.unavailable("redis-server", FileNotFoundError("redis-server"))
        self._binary = str(binary)
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary, fixed arguments
            [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_until(lambda: _answers(self.port), "redis-server did not start")

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


class OwnPostgres:
    """A throw-away cluster (initdb) on a free port, trust authentication, fsync off. When the tests run as
    root, the server runs as the `postgres` user (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or (
            [shutil.which("pg_ctl")] if shutil.which("pg_ctl") else []
        )
        if not found:
            services.unavailable("pg_ctl", FileNotFoundError("pg_ctl"))
        self._bin = Path(str(found[-1])).parent
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._dir = Path(tempfile.mkdtemp(prefix="scribe-own-pg-"))
        if self._as:
            shutil.chown(self._dir, "postgres", "postgres")
        self.port = free_port()
        self._run("initdb", "-D", str(self._dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(  # noqa: S603 - the cluster's own tools
            [*self._as, str(self._bin / tool), *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-o", options, "-l", str(self._dir / "log"), "-w", "start")

    def kill(self) -> None:
        """Immediate shutdown: connections drop at once, as when the server crashes."""
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(  # noqa: S603
            [*self._as, str(self._bin / "pg_ctl"), "-D", str(self._dir / "data"), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self._dir, ignore_errors=True)


def _wait_until(condition: object, message: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.05)
