"""The server-side sessions migration keeps every row that points at users (SQLite rebuilt the
`users` table in batch mode, and with foreign keys on that cascaded into memberships and tokens)."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from .test_migrations import ROOT, empty_database_url  # noqa: F401 - fixture

BEFORE = "1cc438e9823f"
SESSIONS = "8896cb1b8ae4"


def migrate(url: str, command: str, revision: str) -> None:
    env = {**os.environ, "HELPDESK_DATABASE_URL": url, "HELPDESK_ENV": "development"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", command, revision],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def counts(engine) -> dict:
    with engine.connect() as conn:
        return {
            table: conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar()
            for table in ("users", "departments", "memberships", "api_tokens")
        }


def test_upgrade_and_downgrade_keep_the_rows_that_point_at_users(app, empty_database_url):  # noqa: F811
    migrate(empty_database_url, "upgrade", BEFORE)
    engine = sa.create_engine(empty_database_url)
    stamp = datetime(2026, 1, 2, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO departments (id, name, description, is_default, is_ombudsman, active,"
                " created_at) VALUES (1, 'SAC', '', true, false, true, :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, name, role, active, session_token, created_at)"
                " VALUES (1, 'ana@example.com', 'Ana', 'agent', true, 'x', :t)"
            ),
            {"t": stamp},
        )
        conn.execute(sa.text("INSERT INTO memberships (user_id, department_id) VALUES (1, 1)"))
        conn.execute(
            sa.text(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at)"
                " VALUES (1, 1, 'cli', :h, :t)"
            ),
            {"h": "0" * 64, "t": stamp},
        )
    before = counts(engine)
    engine.dispose()
    migrate(empty_database_url, "upgrade", SESSIONS)
    engine = sa.create_engine(empty_database_url)
    assert (
        counts(engine)
        == before
        == {
            "users": 1,
            "departments": 1,
            "memberships": 1,
            "api_tokens": 1,
        }
    )
    engine.dispose()
    migrate(empty_database_url, "downgrade", BEFORE)
    engine = sa.create_engine(empty_database_url)
    assert counts(engine) == before
    engine.dispose()
