"""CLI commands exit when their work is done, even when the clock jumps while they run.

The in-memory rate-limit storage used to start a (non-daemon) timer thread in every process that
built the app, CLI commands included; a timed wait measured on a clock that is then set back (a
suspend, NTP, a VM restore, time-machine) kept the process alive after the command had finished.
The test runs real `flask --app wsgi ...` processes in which every timed wait of a background thread
lasts an hour longer, as it does when the wall clock moves back an hour during the wait.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")
TIMEOUT = 60

CLOCK_JUMP = """
import threading

_wait = threading.Event.wait


def _wait_across_a_clock_jump(self, timeout=None):
    if timeout is not None and threading.current_thread() is not threading.main_thread():
        timeout = timeout + 3600  # the clock went back an hour while this thread waited
    return _wait(self, timeout)


threading.Event.wait = _wait_across_a_clock_jump
"""


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    (base / "site").mkdir()
    (base / "site" / "sitecustomize.py").write_text(CLOCK_JUMP)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HELPDESK_") and k not in ("PYTHONPATH", "FLASK_APP")
    }
    env.update(
        HELPDESK_ENV="development",  # rate limiting on, as in a real deployment
        HELPDESK_INSTANCE_PATH=str(base / "instance"),
        HELPDESK_DATABASE_URL=f"sqlite:///{base / 'cli.db'}",
        HELPDESK_MAIL_DIR=str(base / "mail"),
        PYTHONPATH=str(base / "site"),
    )
    run(env, "db", "upgrade")
    run(env, "demo", "load", "--tickets", "10")  # departments, people, rules
    return env


def run(env, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    started = time.monotonic()
    try:
        result = subprocess.run(
            [str(FLASK), "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`flask --app wsgi {' '.join(args)}` did not exit within {TIMEOUT} s")
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert time.monotonic() - started < TIMEOUT
    return result


@pytest.mark.parametrize(
    "args",
    [
        ("escalate",),
        ("outbox", "deliver"),
        ("sla", "init"),
        ("user", "create", "cli@example.com", "--role", "admin", "--password", "Vento-Norte-4821"),
    ],
)
def test_cli_commands_exit_when_done_after_a_clock_jump(cli_env, args):
    run(cli_env, *args)


def test_mail_import_exits_when_done_after_a_clock_jump(cli_env):
    message = (
        b"From: Ana <ana@example.com>\r\nTo: sac@example.com\r\nSubject: Ajuda\r\n"
        b"Message-ID: <cli-exit-1@example.com>\r\n\r\nMeu pedido atrasou.\r\n"
    )
    run(cli_env, "mail", "import", stdin=message)


def test_the_in_memory_limit_storage_counts_expires_and_starts_no_thread(monkeypatch):
    import threading
    from datetime import timedelta

    import time_machine
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from helpdesk.core.clock import now
    from helpdesk.core.ratelimit import storage_uri

    before = set(threading.enumerate())
    storage = storage_from_string(storage_uri("memory://"))
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("2/minute")
    with time_machine.travel(now(), tick=False) as traveller:
        assert [limiter.hit(limit, "k") for _ in range(3)] == [True, True, False]
        traveller.shift(timedelta(seconds=61))
        assert limiter.hit(limit, "k")
        traveller.shift(timedelta(minutes=5))
        monkeypatch.setattr(storage, "_next_sweep", 0.0)  # the next hit sweeps (every 10 s)
        limiter.hit(limit, "other")
    assert list(storage.storage) == ["LIMITER/other/2/1/minute"]
    assert set(threading.enumerate()) == before
