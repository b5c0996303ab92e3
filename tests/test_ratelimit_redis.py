"""Rate limits shared by several application servers through Redis
(HELPDESK_RATELIMIT_STORAGE_URI=redis://…), and a clear start-up error without the redis client.

Each app instance runs in its own process, as two servers would: in one process every app shares
the one `limiter` object, so two in-process apps would share their counts even in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.redisserver import redis_server, redis_url  # noqa: F401 - fixtures

# one application server: a fresh app on the given database; for each line N read on stdin, N failed
# sign-ins for one address, their status codes printed as one JSON line
SERVER = """
import json, sys
from helpdesk import create_app
app = create_app()
app.config["WTF_CSRF_ENABLED"] = False
client = app.test_client()
form = {"email": "target@example.com", "password": "wrong-guess"}
print("ready", flush=True)
for line in sys.stdin:
    codes = [client.post("/login", data=form).status_code for _ in range(int(line))]
    print(json.dumps(codes), flush=True)
"""


class AppServer:
    def __init__(self, env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read()
        return line.strip()

    def ready(self) -> None:
        assert self._line() == "ready"

    def fail_logins(self, times: int) -> list[int]:
        self.proc.stdin.write(f"{times}\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def test_two_app_servers_share_the_login_limit_through_redis(tmp_path, redis_url):  # noqa: F811
    import sqlalchemy as sa

    import helpdesk.models  # noqa: F401 - every table in the metadata
    from helpdesk.extensions import db

    url = f"sqlite:///{tmp_path / 'servers.db'}"
    engine = sa.create_engine(url)
    db.metadata.create_all(engine)  # the schema both servers use
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        HELPDESK_ENV="development",
        HELPDESK_DATABASE_URL=url,
        HELPDESK_INSTANCE_PATH=str(tmp_path),
        HELPDESK_RATELIMIT_STORAGE_URI=redis_url,
        HELPDESK_LOGIN_ACCOUNT_LIMITS="3/minute",
    )
    servers = [AppServer(env), AppServer(env)]  # they start side by side
    try:
        for server in servers:
            server.ready()
        # 2 failed sign-ins on one server, then 2 on the other: the other's second is the
        # account's 4th within the minute and is refused, though that server saw only 2
        assert servers[0].fail_logins(2) == [400, 400]
        assert servers[1].fail_logins(2) == [400, 429]
        assert servers[0].fail_logins(1) == [429]  # and the first server knows it too
    finally:
        for server in servers:
            server.stop()


def test_a_redis_storage_without_the_redis_client_stops_start_up(monkeypatch):
    from helpdesk.core.ratelimit import check_storage

    check_storage("helpdesk-memory://")  # nothing to check
    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` fails as if not installed
    with pytest.raises(RuntimeError, match=r"redis client is not installed.*\[redis\]"):
        check_storage("redis://127.0.0.1:6379")


def test_the_application_refuses_to_start_on_redis_without_the_client(app, monkeypatch):
    from helpdesk import create_app

    settings = {k: v for k, v in app.config.items() if k.isupper()}
    settings["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/0"
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(RuntimeError, match="HELPDESK_RATELIMIT_STORAGE_URI is a Redis address"):
        create_app(type("RedisConfig", (), settings))  # before the shared limiter is touched
