"""A real Redis on 127.0.0.1 for the shared rate-limit tests: Debian's redis-server on a free
port, with no persistence, in a temporary folder; stopped on teardown.

Import the fixture into a test module: `from tests.redisserver import redis_server  # noqa: F401`.
Off CI it is skipped when redis-server (or the redis client, the `redis` extra) is missing; in CI
(.ci/run installs both) it must run, so it fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.mailservers import free_port


def _redis_server_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server",) if os.path.exists(p)), None
    )


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the Redis tests: see .ci/run)")
    pytest.skip(reason)


class RedisServer:
    def __init__(self, binary: str, base: Path):
        self.binary = binary
        self.base = base
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.base),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.base / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(100).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        log = (self.base / "redis.log").read_text() if (self.base / "redis.log").exists() else ""
        self.stop()
        raise RuntimeError(f"redis-server did not start:\n{log}")

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"FLUSHALL\r\n")
            assert s.recv(100).startswith(b"+OK")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server for the session (emptied before each test that uses it)."""
    binary = _redis_server_binary()
    if binary is None:
        _missing("redis-server is not installed (apt-get install redis-server)")
    try:
        import redis  # noqa: F401
    except ImportError:
        _missing("the redis client is not installed (pip install -e '.[dev,redis]')")
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server):
    redis_server.flush()
    return redis_server.url
