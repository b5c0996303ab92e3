"""Fixtures: app, client, per-test clean database, factories, login helper, query counter.

The database is SQLite (a temporary file, so threads and a live server share it) unless
HELPDESK_TEST_DATABASE_URL points at PostgreSQL; `make test` runs the suite on both when it can.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from itertools import count

import pytest
import sqlalchemy as sa
from flask import g, request_started

os.environ.setdefault("HELPDESK_ENV", "testing")

from config import TestingConfig  # noqa: E402
from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db as _db  # noqa: E402
from tests.mailservers import dovecot, smtp_server  # noqa: E402, F401 - real SMTP/IMAP servers

_seq = count(1)


def pytest_report_header(config):
    return f"database: {_database_url_for_report()}"


def _database_url_for_report():
    url = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    return re.sub(r"//[^@]*@", "//***@", url) if url else "sqlite (temporary file)"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    base = tmp_path_factory.mktemp("instance")

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        UPLOAD_DIR = str(base / "uploads")
        MAIL_DIR = str(base / "mail")
        MAIL_TRANSPORT = "memory"
        SERVER_NAME = None

    app = create_app(Config)

    def fresh_request_state(sender, **extra):
        # the test's app context (and so `g`) is shared with the client's requests: each request
        # must load its user from its own cookie and its CSRF token from its own session
        for name in ("_login_user", "csrf_token", "_flask_babel"):  # user, CSRF token, locale
            g.pop(name, None)

    request_started.connect(fresh_request_state, app, weak=False)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _reset_sequences_sql(app, conn) -> str:
    sql = app.extensions.get("test_reset_sequences")
    if sql is None:
        sequences = conn.execute(
            sa.text(
                "SELECT pg_get_serial_sequence(format('%I.%I', table_schema, table_name),"
                " column_name) FROM information_schema.columns"
                " WHERE table_schema = current_schema()"
                " AND (column_default LIKE 'nextval%' OR is_identity = 'YES')"
            )
        ).scalars()
        names = sorted(s for s in sequences if s)
        sql = "SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in names)
        app.extensions["test_reset_sequences"] = sql
    return sql


def _clean(app):
    with app.app_context():
        _db.session.remove()
        engine = _db.engine
        tables = list(reversed(_db.metadata.sorted_tables))
        with engine.begin() as conn:
            # DELETE, children first: on these small tables it takes ~4 ms where one TRUNCATE of
            # every table took ~160 ms on PostgreSQL (its cost is per table, not per row)
            for table in tables:
                conn.execute(table.delete())
            if engine.dialect.name == "postgresql":
                # ids start at 1 again in every test, as SQLite's do once its tables are empty
                conn.execute(sa.text(_reset_sequences_sql(app, conn)))
    app.extensions["sent_mail"] = []


@pytest.fixture
def db(app):
    """A clean database for each test, inside an app context."""
    _clean(app)
    with app.test_request_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def sent_mail(app, db):
    """The emails delivered by the outbox in this test (the memory transport)."""
    return app.extensions.setdefault("sent_mail", [])


# factories -------------------------------------------------------------------------------------


@pytest.fixture
def make_department(db):
    from helpdesk.accounts.services import create_department

    def make(name=None, **kw):
        dept = create_department(name=name or f"Department {next(_seq)}", **kw)
        db.session.commit()
        return dept

    return make


@pytest.fixture
def default_department(db, make_department):
    return make_department("SAC", is_default=True)


@pytest.fixture
def make_user(db, default_department):
    from helpdesk.accounts.services import create_user

    def make(role="agent", email=None, password="password123", departments=None, name=None, **kw):
        n = next(_seq)
        if departments is None and role in ("agent", "supervisor"):
            departments = [default_department]
        user = create_user(
            email=email or f"{role}{n}@example.com",
            name=name or f"{role.title()} {n}",
            role=role,
            password=password,
            departments=departments or [],
            **kw,
        )
        if role == "customer":
            from helpdesk.customers.services import create_customer

            create_customer(name=user.name, email=user.email, user_id=user.id)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_customer(db):
    from helpdesk.customers.services import create_customer

    def make(name=None, email=None, phone=None, **kw):
        n = next(_seq)
        customer = create_customer(
            name=name or f"Cliente {n}",
            email=email if email is not None else f"cliente{n}@example.com",
            phone=phone,
            **kw,
        )
        db.session.commit()
        return customer

    return make


@pytest.fixture
def make_ticket(db, default_department, make_customer):
    from helpdesk.tickets.services import register_ticket

    def make(customer=None, actor=None, kind="complaint", channel="web", subject=None, **kw):
        customer = customer or make_customer()
        ticket = register_ticket(
            actor=actor,
            customer=customer,
            channel=channel,
            kind=kind,
            subject=subject or f"Problema {next(_seq)}",
            description=kw.pop("description", "Descrição do problema."),
            **kw,
        )
        db.session.commit()
        return ticket

    return make


def customer_of(user):
    from helpdesk.accounts.services import customer_record_for

    return customer_record_for(user)


# login and query counting ------------------------------------------------------------------------


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password="password123"):
        email = getattr(user_or_email, "email", user_or_email)
        self.client.get("/login")
        return self.client.post(
            "/login",
            data={
                "email": email,
                "password": password,
                "csrf_token": csrf_from(self.client, "/login"),
            },
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_from(self.client, "/")})


def session_cookie_id(user) -> str:
    """Open a server-side session for `user` (committed) and return the id a signed-in browser's
    cookie carries: `session["_user_id"] = session_cookie_id(user)` signs a test client in."""
    from helpdesk.accounts.sessions import open_session

    raw = open_session(_db.session.merge(user))
    _db.session.commit()
    return raw


def csrf_from(client, path):
    """Read the CSRF token that a real browser would get from the page's form."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as q: ...` then `q.count` is the number of SQL statements run."""

    @contextmanager
    def counter():
        class Result:
            count = 0
            statements: list[str] = []

        result = Result()
        result.statements = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA")):
                result.count += 1
                result.statements.append(statement)

        engine = _db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield result
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counter


def pytest_sessionfinish(session, exitstatus):
    """In CI nothing may be skipped: a skipped test fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") and reporter and reporter.stats.get("skipped"):
        reporter.write_line(
            "CI: tests were skipped; failing the run (nothing may skip in CI)", red=True
        )
        session.exitstatus = 1
