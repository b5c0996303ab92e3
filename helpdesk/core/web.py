"""Web plumbing: security headers, error pages, health check, template helpers, safe redirects."""

from __future__ import annotations

import logging
from types import MappingProxyType
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ..extensions import db
from . import unit
from .errors import DomainError
from .formatting import register_filters
from .forms import install_csrf_field
from .i18n import LANGUAGE_NAMES

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def is_safe_next(target: str | None) -> bool:
    """Only paths on our own origin: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
    )


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem(
    status: int, title: str, detail: str | None = None, type_: str = "about:blank", **extra
):
    body = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def register(app: Flask) -> None:
    if app.config.get("PROXY_COUNT"):
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(("/portal", "/console", "/admin", "/login", "/api")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check failed")
            return jsonify(status="error", database="unreachable"), 503
        return jsonify(status="ok", database="ok")

    @app.post("/language")
    def set_language():
        from flask import redirect
        from flask_login import current_user

        lang = request.form.get("lang")
        if lang in app.config["LANGUAGES"]:
            session["locale"] = lang
            if current_user.is_authenticated:
                current_user.locale = lang  # saved with the request's unit of work
            refresh()  # forget the locale this context already resolved
        target = request.form.get("next")
        return redirect(target if is_safe_next(target) else url_for("portal.home"))

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        unit.rollback()
        if wants_json():
            return problem(exc.status, _title(exc.status), str(exc), type_=f"/problems/{exc.code}")
        return render_template("error.html", status=exc.status, message=str(exc)), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = _http_message(status)
        if status == 429 and getattr(getattr(exc, "limit", None), "error_message", None):
            message = str(exc.description)  # a limit's own words (e.g. one account's lockout)
        response = exc.get_response()
        if wants_json():
            json_response = problem(status, _title(status), message)
            if "Allow" in response.headers:
                json_response.headers["Allow"] = response.headers["Allow"]
            return json_response
        return (
            render_template("error.html", status=status, message=message),
            status,
            {k: v for k, v in response.headers.items() if k in ("Allow", "Retry-After")},
        )

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        log.exception("unhandled error")
        unit.rollback()
        if wants_json():
            return problem(
                500, _title(500), _("Something went wrong on our side. Nothing was saved.")
            )
        return render_template(
            "error.html",
            status=500,
            message=_("Something went wrong on our side. Nothing was saved."),
        ), 500

    @app.context_processor
    def template_globals():
        # labels resolved once per catalog (not per render, nor per row: lists show hundreds)
        return {
            "current_locale": str(get_locale()),
            "language_names": LANGUAGE_NAMES,
            **_resolved_labels(),
        }

    register_filters(app)
    install_csrf_field()


def register_labels(app: Flask, **labels: dict) -> None:
    """Label dictionaries every template sees, translated once per locale (`status_labels`...).

    The domain packages own them; the application factory (above every layer) hands them in, so
    this core module never imports a domain package."""
    app.extensions.setdefault("template_labels", {}).update(labels)


def _resolved(labels: dict) -> dict:
    return {key: str(label) for key, label in labels.items()}


# (locale, id of the catalog, id of the app's label dict) -> (catalog, labels). Flask-Babel keeps
# one catalog object per locale for the life of the process, so the resolved labels are a pure
# function of it and of the labels the app was given; a new catalog object (another app, reloaded
# translations) is a new key, checked by identity.
_LABELS_CACHE: dict[tuple[str, int, int], tuple[object, dict]] = {}


def _resolved_labels() -> dict:
    from flask_babel import get_domain

    catalog = get_domain().get_translations()
    source = current_app.extensions.get("template_labels", {})
    key = (str(get_locale()), id(catalog), id(source))
    hit = _LABELS_CACHE.get(key)
    if hit is not None and hit[0] is catalog:
        return hit[1]
    labels = {name: MappingProxyType(_resolved(values)) for name, values in source.items()}
    if len(_LABELS_CACHE) > 64:  # tests create many apps; keep the dict small
        _LABELS_CACHE.clear()
    _LABELS_CACHE[key] = (catalog, labels)
    return labels


def _title(status: int) -> str:
    return {
        400: _("Bad request"),
        401: _("Authentication required"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Too large"),
        415: _("Unsupported media type"),
        422: _("Unprocessable content"),
        429: _("Too many requests"),
    }.get(status, _("Error"))


def _http_message(status: int) -> str:
    return {
        400: _("The request was not valid. Please check what you sent and try again."),
        401: _("Please sign in to continue."),
        403: _("You do not have access to this page."),
        404: _("The page or record you asked for does not exist."),
        405: _("This action is not allowed with this method."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
    }.get(status, _("Something went wrong on our side. Nothing was saved."))
