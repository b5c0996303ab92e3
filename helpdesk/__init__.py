"""SAC help desk: the application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask

from config import CONFIGS, INSTANCE_DIR

from .core.app import HelpdeskFlask
from .extensions import babel, csrf, db, login_manager, migrate

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: str | type | None = None) -> Flask:
    app = HelpdeskFlask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=os.path.join(BASE, "templates"),
    )
    if config is None or isinstance(config, str):
        name = config or os.environ.get("HELPDESK_ENV", "development")
        config = CONFIGS[name]
    if hasattr(config, "check"):
        config.check()
    app.config.from_object(config)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(BASE, "migrations"),
        render_as_batch=True,
        compare_type=True,
        include_object=_include_in_migrations,
    )
    csrf.init_app(app)
    from .core import ratelimit

    ratelimit.init_limiter(app)  # in-memory counters without a background thread
    login_manager.init_app(app)

    from .audit import services as audit  # noqa: F401 - the admin audit log, on every flush
    from .auth import loader  # noqa: F401 - registers the user loader
    from .core import boundary, i18n, sqlite, unit, web
    from .kb import hooks as kb_hooks  # noqa: F401 - article index, uses, problem followers
    from .notifications.services import deliver_queued, forget_queued
    from .search import hooks  # noqa: F401 - keeps the search index current on every flush
    from .tickets import events  # noqa: F401 - chains every ticket event on insert

    unit.after_commit(deliver_queued)  # a unit's emails leave once its commit is done
    unit.after_rollback(forget_queued)

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    sqlite.register(app)
    boundary.register(app)  # before any route: the bounded <int:...> converter
    web.register(app)
    register_template_helpers(app)
    register_blueprints(app)

    from . import cli, models  # noqa: F401 - models: every table in the metadata

    cli.register(app)
    return app


def _include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Tables owned by libraries are not ours to migrate (`apscheduler_jobs`, left by versions
    that kept the scheduler's jobs in the database, may still exist: see docs/scheduler.md), nor
    is SQLite's FTS5 search table and its shadow tables (made by the search migration's DDL)."""
    return not (type_ == "table" and name and name.startswith(("apscheduler_", "search_fts")))


def register_template_helpers(app: Flask) -> None:
    """What templates need from the domain packages: their label dictionaries and the protocol
    filter (handed to core.web here, so that core imports no domain package)."""
    from .core import web
    from .customers.models import SEGMENT_LABELS
    from .mail.models import INBOUND_STATE_LABELS, TLS_MODE_LABELS
    from .notifications.models import OUTBOX_STATUS_LABELS
    from .tickets.models import CHANNEL_LABELS, KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS
    from .tickets.protocol import display as display_protocol

    web.register_labels(
        app,
        status_labels=STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
        kind_labels=KIND_LABELS,
        channel_labels=CHANNEL_LABELS,
        segment_labels=SEGMENT_LABELS,
        tls_mode_labels=TLS_MODE_LABELS,
        outbox_status_labels=OUTBOX_STATUS_LABELS,
        inbound_state_labels=INBOUND_STATE_LABELS,
    )
    # `{{ ticket.protocol|protocol }}`: grouped for reading aloud (URLs keep the plain digits)
    app.jinja_env.filters["protocol"] = display_protocol


def register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .api import bp as api_bp
    from .auth import two_factor  # noqa: F401 - the second-factor pages and gate join auth
    from .auth.views import bp as auth_bp
    from .console.views import bp as console_bp
    from .help.views import bp as help_bp
    from .portal import history as _portal_history  # noqa: F401 - its routes join the blueprint
    from .portal import surveys  # noqa: F401 - registers the survey pages
    from .portal.views import bp as portal_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(help_bp, url_prefix="/help")
    app.register_blueprint(console_bp, url_prefix="/console")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)
