"""Fixtures: app, client, per-test database, factories, login helper, query counter.

The database is SQLite (a temporary file, so threads and a live server share it) unless
HELPDESK_TEST_DATABASE_URL points at PostgreSQL; `make test` runs the suite on both when it can.
Under pytest-xdist each worker has its own database (a file, or `<name>_gw0`… on PostgreSQL).

Isolation, as a real deployment sees it:
- every request of the test client runs in its own app context, so with its own database
  session, `g`, signed-in user and locale; what it does not commit is gone when it ends, so a
  view that forgets to commit fails its test. After each request the test's own session forgets
  what it had loaded, so the test reads what the request left in the database;
- each test runs inside one database transaction that is rolled back at its end: the test's
  session and every request's session join it through SAVEPOINTs (a request's commit releases
  its savepoint, its rollback returns to it). Ids still start at 1 in every test;
- a test that needs real commits (threads, subprocesses, a live server: they use their own
  connections) is marked `@pytest.mark.commits` (`browser` tests are, too): it runs on the real
  database, which is emptied after it;
- a world that many tests of a module share (a permission matrix's cast of people and tickets) is
  a fixture decorated with `@module_world`: the first test that asks for it builds it, and it
  stays, inside one transaction for the whole module, under every later test of that module;
  each test then runs in a SAVEPOINT of that transaction, rolled back at its end, and gets the
  world's rows attached to its own session. Run with `--dist loadscope` under xdist, so a module's
  tests share a worker and the world is built once.
CSRF protection is off, as in most Flask suites, except in tests marked `@pytest.mark.csrf`.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
from contextlib import contextmanager
from itertools import count
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as _FlaskSession

os.environ.setdefault("HELPDESK_ENV", "testing")

from config import TestingConfig  # noqa: E402
from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db as _db  # noqa: E402
from tests.api_contract import check_response  # noqa: E402
from tests.mailservers import dovecot, smtp_server  # noqa: E402, F401 - real SMTP/IMAP servers

_seq = count(1)


def pytest_configure(config):
    """Under xdist, each worker gets its own PostgreSQL database (created when missing)."""
    url = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not (url and worker and url.startswith("postgresql")):
        return
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["HELPDESK_TEST_DATABASE_URL"] = base.set(database=name).render_as_string(
        hide_password=False
    )


def pytest_report_header(config):
    return f"database: {_database_url_for_report()}"


def _database_url_for_report():
    url = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    return re.sub(r"//[^@]*@", "//***@", url) if url else "sqlite (temporary file)"


class RequestClient(FlaskClient):
    """A test client whose requests run as real ones: each in its own app context (its own
    database session, `g`, user and locale), then the test's session forgets what it loaded."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            _db.session.expire_all()
        request = response.request
        if request.path.startswith("/api/"):  # its answer must match the OpenAPI document
            check_response(self.application, request.method, request.path, response)
        return response


class _Shared:
    """The connection that the running test's transaction lives on (None: real commits), and,
    in a module that shares a world, that module's transaction and the running test's savepoint."""

    connection: sa.Connection | None = None
    module: _ModuleTransaction | None = None


_session_get_bind = _FlaskSession.get_bind


def _get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
    if bind is None and _Shared.connection is not None:
        return _Shared.connection
    return _session_get_bind(self, mapper=mapper, clause=clause, bind=bind, **kwargs)


_FlaskSession.get_bind = _get_bind


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
        WTF_CSRF_ENABLED = False  # on in the tests marked `csrf`

    app = create_app(Config)
    app.test_client_class = RequestClient
    # a savepoint per session: the test's session and each request's join the test's transaction
    _db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        # a real commit (never a savepoint's release): the next test starts from emptied tables
        sa.event.listen(_db.engine, "commit", lambda conn: app.extensions.update(db_committed=True))
    app.extensions["db_committed"] = False
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
    app.extensions["db_committed"] = False


@contextmanager
def _test_transaction(app):
    """One transaction for the whole test, rolled back at its end; sessions join it."""
    with app.app_context():
        engine = _db.engine
        connection = engine.connect()
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # the sqlite3 driver would otherwise let the first SAVEPOINT open (and its RELEASE
            # commit) the real transaction: it begins only on DML; BEGIN it ourselves
            dbapi = connection.connection.dbapi_connection
            driver_level = dbapi.isolation_level
            dbapi.isolation_level = None
        outer = connection.begin()
        if sqlite:
            connection.exec_driver_sql("BEGIN")
        else:
            connection.execute(sa.text(_reset_sequences_sql(app, connection)))
    _Shared.connection = connection
    try:
        yield connection
    finally:
        _Shared.connection = None
        outer.rollback()
        if sqlite:
            dbapi.isolation_level = driver_level
        connection.close()


class _ModuleTransaction:
    """One module's transaction (opened by the first test that asks for a world, ended by the
    first test of the module that asks for none), the worlds built in it, and the running test's
    savepoint."""

    def __init__(self, app):
        self.app = app
        self.connection: sa.Connection | None = None
        self.worlds: dict[str, object] = {}
        self.savepoint: sa.NestedTransaction | None = None
        self._transaction = None

    def open(self) -> None:
        if self.connection is None:
            if self.app.extensions.get("db_committed"):
                _clean(self.app)
            self._transaction = _test_transaction(self.app)
            self.connection = self._transaction.__enter__()

    def end(self) -> None:
        if self.connection is not None:
            self._transaction.__exit__(None, None, None)
            self.connection = self._transaction = None
            self.worlds.clear()

    def keep(self) -> None:
        """What the running test has written so far stays for the module's later tests (its
        savepoint is released into the module's transaction and a new one begins)."""
        self.savepoint.commit()
        self.savepoint = self.connection.begin_nested()


@pytest.fixture(scope="module")
def _module_transaction(app):
    _Shared.module = _ModuleTransaction(app)
    try:
        yield _Shared.module
    finally:
        _Shared.module.end()
        _Shared.module = None


_WORLDS: set[str] = set()


def _asks_for_a_world(request) -> bool:
    return not _WORLDS.isdisjoint(request.fixturenames)


def pytest_collection_modifyitems(config, items):
    """In each module, the tests that share its world run first (stable order otherwise), so
    the world is built once and ended once, before the module's other tests.

    Tests marked `postgres_only` on SQLite: when HELPDESK_TEST_PG_URL is set (`make test`, CI),
    the PostgreSQL phase of the same run runs them, so this phase deselects them (and says so);
    otherwise they are skipped, which fails a CI run (nothing may skip in CI)."""
    if not os.environ.get("HELPDESK_TEST_DATABASE_URL", "").startswith("postgresql"):
        pg_only = [item for item in items if item.get_closest_marker("postgres_only")]
        if pg_only and os.environ.get("HELPDESK_TEST_PG_URL"):
            config.hook.pytest_deselected(items=pg_only)
            items[:] = [item for item in items if item not in pg_only]
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter:
                reporter.write_line(
                    f"{len(pg_only)} postgres_only test(s) left to the PostgreSQL phase"
                )
        for item in pg_only if not os.environ.get("HELPDESK_TEST_PG_URL") else ():
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set HELPDESK_TEST_DATABASE_URL")
            )
    position = {}
    for index, item in enumerate(items):
        position.setdefault(item.module, index)
    items.sort(
        key=lambda item: (
            position[item.module],
            _WORLDS.isdisjoint(getattr(item, "fixturenames", ())),
        )
    )


@contextmanager
def _test_savepoint():
    """The running test's transaction inside its module's one: a savepoint rolled back at the end."""
    module = _Shared.module
    module.savepoint = module.connection.begin_nested()
    try:
        yield
    finally:
        if module.savepoint.is_active:
            module.savepoint.rollback()
        module.savepoint = None


def module_world(build):
    """Make `build` (a fixture function that creates rows and returns the objects a test needs)
    a fixture whose rows are created once per module (see the module's docstring). Its other
    fixtures are asked for only when it builds, so a later test pays for none of them; each test
    gets a shallow copy of what `build` returned, its rows attached to the test's session."""
    names = [n for n in inspect.signature(build).parameters if n != "db"]
    _WORLDS.add(build.__name__)

    def fixture(_module_transaction, db, request):
        worlds = _module_transaction.worlds
        if build.__name__ not in worlds:
            kwargs = {name: request.getfixturevalue(name) for name in names}
            if "db" in inspect.signature(build).parameters:
                kwargs["db"] = db
            world = build(**kwargs)
            db.session.commit()
            _module_transaction.keep()
            worlds[build.__name__] = world
        # a copy for each test, the first one included: what a test sets on it stays its own
        return _attached(worlds[build.__name__], db.session, {})

    fixture.__doc__ = build.__doc__
    return pytest.fixture(name=build.__name__)(fixture)


def _attached(value, session, seen: dict):
    """`value` with every mapped object in it (attributes, dicts, lists) merged into `session`
    without a query (the rows are in the module's transaction; attributes load on first use)."""
    if id(value) in seen:
        return seen[id(value)]
    state = sa.inspect(value, raiseerr=False)
    if state is not None and getattr(state, "mapper", None) is not None:
        result = session.merge(value, load=False)
    elif isinstance(value, dict):
        result = {k: _attached(v, session, seen) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        result = type(value)(_attached(v, session, seen) for v in value)
    elif isinstance(value, SimpleNamespace) or type(value).__module__.startswith("tests."):
        result = copy.copy(value)
        seen[id(value)] = result
        for key, item in vars(value).items():
            setattr(result, key, _attached(item, session, seen))
        return result
    else:
        result = value
    seen[id(value)] = result
    return result


@pytest.fixture
def db(app, request):
    """A clean database for each test, inside an app context (see the module's docstring)."""
    module = _Shared.module
    if module is not None and module.connection is not None and not _asks_for_a_world(request):
        module.end()  # this test must not see the module's world
    sharing = module is not None and _asks_for_a_world(request)
    if sharing:
        module.open()
    elif app.extensions.get("db_committed"):
        _clean(app)  # a previous test committed for real
    app.extensions["sent_mail"] = []
    settings = dict(app.config)  # what a test changes in the config ends with it
    csrf = request.node.get_closest_marker("csrf") is not None
    app.config["WTF_CSRF_ENABLED"] = csrf
    try:
        marks = {m.name for m in request.node.iter_markers()}
        if sharing:
            if marks & {"commits", "browser"}:
                raise RuntimeError(
                    "a test that commits for real cannot share its module's world: move it to"
                    " another module"
                )
            with _test_savepoint(), app.test_request_context():
                yield _db
                _db.session.rollback()
                _db.session.remove()
        elif marks & {"commits", "browser"}:  # a live server answers from its own threads
            try:
                with app.test_request_context():
                    yield _db
                    _db.session.rollback()
                    _db.session.remove()
            finally:
                _clean(app)
        else:
            with _test_transaction(app), app.test_request_context():
                yield _db
                _db.session.rollback()
                _db.session.remove()
    finally:
        app.config.clear()
        app.config.update(settings)
        app.config["WTF_CSRF_ENABLED"] = False


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
    from helpdesk.accounts.models import Department

    # in a module that shares a world, the world's default department is this test's too
    existing = db.session.scalar(sa.select(Department).where(Department.is_default.is_(True)))
    return existing or make_department("SAC", is_default=True)


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
    """Read the CSRF token that a real browser would get from the page's form ("" when the
    test runs without CSRF protection: no page is fetched for it)."""
    if not client.application.config["WTF_CSRF_ENABLED"]:
        return ""
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
