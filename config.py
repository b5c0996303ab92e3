"""Configuration classes; every value can be overridden by a HELPDESK_* environment variable.

`HELPDESK_<NAME>` sets `<NAME>` of the base Config (with three older, documented names:
HELPDESK_DATABASE_URL, HELPDESK_DEFAULT_LOCALE, HELPDESK_DEFAULT_TIMEZONE, and HELPDESK_2FA_* for
the TWO_FACTOR_* settings), parsed to the
setting's type: integers, booleans (1/true/yes/on or 0/false/no/off), comma-separated lists. The
few settings that are not read from the environment are listed, with the reason, in
NOT_FROM_ENVIRONMENT; tests/test_config.py checks both, and docs/deploy.md lists the variables.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("HELPDESK_INSTANCE_PATH", BASE_DIR / "instance"))


def _env(name: str, default=None):
    return os.environ.get(f"HELPDESK_{name}", default)


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"HELPDESK_{name} must be a whole number, not {value!r}") from None


def _env_optional_int(name: str, default: int | None) -> int | None:
    """A number, or nothing (the variable set to an empty value)."""
    value = _env(name)
    if value is not None and not value.strip():
        return None
    return _env_int(name, default)


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"HELPDESK_{name} must be 1/true/yes/on or 0/false/no/off, not {value!r}")


def _env_list(name: str, default: str) -> list[str]:
    """Comma-separated values (empty ones dropped)."""
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


# Settings of Config that no environment variable sets, and why (tests/test_config.py checks
# that every other one follows its HELPDESK_* variable)
NOT_FROM_ENVIRONMENT = {
    "SQLALCHEMY_ENGINE_OPTIONS": "a dict of SQLAlchemy engine arguments: code, not a setting",
    "SQLALCHEMY_TRACK_MODIFICATIONS": "Flask-SQLAlchemy's change events: off, nothing uses them",
    "BABEL_TRANSLATION_DIRECTORIES": "the package's own catalogs (make translations builds them)",
    "SESSION_COOKIE_HTTPONLY": "security: scripts never read the session cookie",
    "REMEMBER_COOKIE_HTTPONLY": "security: scripts never read the remember-me cookie",
}


def served_port() -> int:
    """The port the development server listens on: `make run` passes PORT as HELPDESK_PORT;
    `flask run --port` sets FLASK_RUN_PORT."""
    for name in ("HELPDESK_PORT", "FLASK_RUN_PORT", "PORT"):
        value = (os.environ.get(name) or "").strip()
        if value.isascii() and value.isdigit() and 0 < int(value) < 65536:
            return int(value)
    return 5000


def _dev_secret() -> str:
    """A development secret generated once into instance/ (never used in production)."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SECRET_KEY = _env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'helpdesk.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # i18n
    LANGUAGES = _env_list("LANGUAGES", "pt_BR,es,en")  # each needs a catalog (but en)
    BABEL_DEFAULT_LOCALE = _env("DEFAULT_LOCALE", "pt_BR")
    BABEL_DEFAULT_TIMEZONE = _env("DEFAULT_TIMEZONE", "America/Sao_Paulo")
    CURRENCY = _env("CURRENCY", "BRL")  # ISO 4217 code of money amounts (investigation costs)
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "helpdesk" / "translations")

    # uploads
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_ATTACHMENT_BYTES = _env_int("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
    # search ranks the newest N matches the searcher may see (bounded cost for a common word);
    # 0 ranks every match (docs/benchmarks.md, "Search")
    SEARCH_RANK_CANDIDATES = _env_int("SEARCH_RANK_CANDIDATES", 1000)
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 25 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = _env_int("MAX_FORM_MEMORY_SIZE", 1024 * 1024)
    ALLOWED_ATTACHMENT_EXTENSIONS = set(
        _env_list(
            "ALLOWED_ATTACHMENT_EXTENSIONS",
            "pdf,png,jpg,jpeg,gif,webp,txt,csv,doc,docx,xls,xlsx,odt,ods,mp3,ogg,wav,eml",
        )
    )

    # mail: "file" writes .eml files under instance/mail, "smtp" sends
    MAIL_TRANSPORT = _env("MAIL_TRANSPORT", "file")
    MAIL_DIR = _env("MAIL_DIR", str(INSTANCE_DIR / "mail"))
    MAIL_FROM = _env("MAIL_FROM", "SAC <sac@example.com>")
    MAIL_DOMAIN = _env("MAIL_DOMAIN", "helpdesk.local")
    SMTP_HOST = _env("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = _env_int("SMTP_PORT", 25)
    SMTP_USER = _env("SMTP_USER")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)
    SMTP_TIMEOUT = _env_int("SMTP_TIMEOUT", 20)
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 8)
    # False: the scheduler sends queued mail in batches (every SCHEDULER_OUTBOX_SECONDS)
    OUTBOX_DELIVER_IN_REQUEST = _env_bool("OUTBOX_DELIVER_IN_REQUEST", False)

    # public address used in every link we email; in development it follows the served port
    # (`PORT=8080 make run`), in production HELPDESK_BASE_URL is required
    BASE_URL = _env("BASE_URL") or f"http://127.0.0.1:{served_port()}"

    # security
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = _env("SESSION_COOKIE_SAMESITE", "Lax")
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    # a sign-in session unused for this many days ends by itself (0: never)
    SESSION_IDLE_DAYS = _env_int("SESSION_IDLE_DAYS", 30)
    WTF_CSRF_TIME_LIMIT = _env_optional_int("WTF_CSRF_TIME_LIMIT", None)  # seconds; empty: none
    PROXY_COUNT = _env_int("PROXY_COUNT", 0)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = _env_bool("RATELIMIT_HEADERS_ENABLED", True)
    # per account (the posted email, known or not), on top of the per-IP limits: a slow guess
    # from many addresses stops too. Login counts failed attempts only.
    LOGIN_ACCOUNT_LIMITS = _env("LOGIN_ACCOUNT_LIMITS", "10/minute;20/hour;50/day")
    RESET_ACCOUNT_LIMITS = _env("RESET_ACCOUNT_LIMITS", "5/hour;10/day")
    VERIFY_RESEND_ACCOUNT_LIMITS = _env("VERIFY_RESEND_ACCOUNT_LIMITS", "3/hour;10/day")
    SIGNUP_ACCOUNT_LIMITS = _env("SIGNUP_ACCOUNT_LIMITS", "5/hour;10/day")
    GUEST_ACCOUNT_LIMITS = _env("GUEST_ACCOUNT_LIMITS", "5/hour;20/day")
    PASSWORD_CHANGE_LIMITS = _env("PASSWORD_CHANGE_LIMITS", "10/hour")  # wrong current password
    PASSWORD_HASH_METHOD = _env("PASSWORD_HASH_METHOD", "scrypt")  # werkzeug's method names
    # refuse passwords on the shipped list of breached ones (accounts/data/common-passwords.txt.gz)
    PASSWORD_LIST_CHECK = _env_bool("PASSWORD_LIST_CHECK", True)
    # roles whose browser sign-in needs the second factor (TOTP) before any staff page
    TWO_FACTOR_REQUIRED_ROLES = _env_list("2FA_REQUIRED_ROLES", "admin")
    TWO_FACTOR_PENDING_MINUTES = _env_int("2FA_PENDING_MINUTES", 10)  # password → code
    RESET_TOKEN_HOURS = _env_int("RESET_TOKEN_HOURS", 2)
    GUEST_LINK_HOURS = _env_int("GUEST_LINK_HOURS", 24)
    # how long a browser keeps a demand open after a guest link (checked on every request)
    GUEST_ACCESS_HOURS = _env_int("GUEST_ACCESS_HOURS", 24)
    # a visitor's demand form posted sooner than this after it was shown is a bot's
    GUEST_FORM_MIN_SECONDS = _env_int("GUEST_FORM_MIN_SECONDS", 3)

    # defaults of the SAC
    DEFAULT_PHONE_REGION = _env("DEFAULT_PHONE_REGION", "BR")
    QUEUE_PAGE_SIZE = _env_int("QUEUE_PAGE_SIZE", 50)
    # agents may create tags by using a new name; off: only the tags an admin curated
    FREE_TAGS = _env_bool("FREE_TAGS", True)

    # satisfaction surveys: minutes after a demand is resolved (0: at once), per channel too
    # ("phone:0,email:60"); links valid N days; one reminder after N days (0: none)
    SURVEYS_ENABLED = _env_bool("SURVEYS_ENABLED", True)
    SURVEY_DELAY_MINUTES = _env_int("SURVEY_DELAY_MINUTES", 60)
    SURVEY_CHANNEL_DELAYS = _env_list("SURVEY_CHANNEL_DELAYS", "")
    SURVEY_LINK_DAYS = _env_int("SURVEY_LINK_DAYS", 14)
    SURVEY_REMINDER_DAYS = _env_int("SURVEY_REMINDER_DAYS", 3)
    SURVEY_MAX_AGE_DAYS = _env_int("SURVEY_MAX_AGE_DAYS", 7)  # older resolutions get none
    SURVEY_FOLLOW_UP_HOURS = _env_int("SURVEY_FOLLOW_UP_HOURS", 24)  # call back within
    SCHEDULER_SURVEY_SECONDS = _env_int("SCHEDULER_SURVEY_SECONDS", 60)
    # customer 360: who else hears that a customer is at risk besides the account manager (or the
    # department's supervisors), e.g. the sales team's mailbox: comma-separated addresses
    AT_RISK_NOTIFY_EMAILS = _env_list("AT_RISK_NOTIFY_EMAILS", "")

    # scheduler
    SCHEDULER_OUTBOX_SECONDS = _env_int("SCHEDULER_OUTBOX_SECONDS", 5)
    SCHEDULER_SWEEP_SECONDS = _env_int("SCHEDULER_SWEEP_SECONDS", 60)
    # tell owners of overdue corrective/preventive actions (an investigation's) this often
    SCHEDULER_OVERDUE_ACTIONS_MINUTES = _env_int("SCHEDULER_OVERDUE_ACTIONS_MINUTES", 30)
    # how often the scheduler looks for weekly report digests not sent yet (each goes once a week)
    SCHEDULER_REPORT_DIGEST_MINUTES = _env_int("SCHEDULER_REPORT_DIGEST_MINUTES", 60)
    # minutes a supervisor has to acknowledge an escalation raised by hand (rules set their own)
    ESCALATION_ACK_MINUTES = _env_int("ESCALATION_ACK_MINUTES", 240)
    # lines listed in one escalation email (the rest is counted: "and 120 more")
    ESCALATION_EMAIL_LINES = _env_int("ESCALATION_EMAIL_LINES", 25)
    SCHEDULER_WEBHOOK_SECONDS = _env_int("SCHEDULER_WEBHOOK_SECONDS", 10)
    SCHEDULER_RECORDING_PURGE_HOURS = _env_int("SCHEDULER_RECORDING_PURGE_HOURS", 24)

    # phone (CTI): recording references are kept at least 90 days (a smaller value counts as 90)
    CALL_RECORDING_RETENTION_DAYS = _env_int("CALL_RECORDING_RETENTION_DAYS", 90)
    # records: personal data anonymised this many days after resolution (at least 730 = 2 years;
    # set per market's law, e.g. longer where a consumer code asks for it)
    RETENTION_DAYS = _env_int("RETENTION_DAYS", 730)
    SCHEDULER_RETENTION_HOURS = _env_int("SCHEDULER_RETENTION_HOURS", 24)
    # the emailed link to a fulfilled history document works this many days
    HISTORY_LINK_DAYS = _env_int("HISTORY_LINK_DAYS", 30)

    # outbound webhooks
    WEBHOOK_TIMEOUT_SECONDS = _env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
    WEBHOOK_MAX_ATTEMPTS = _env_int("WEBHOOK_MAX_ATTEMPTS", 8)
    WEBHOOK_BACKOFF_SECONDS = _env_int("WEBHOOK_BACKOFF_SECONDS", 30)  # 30 s, 60 s, 2 min, ...
    # hosts or networks a webhook may reach even though private/loopback (comma separated),
    # e.g. "10.0.0.0/8,hooks.internal.example"; empty: only public addresses
    WEBHOOK_ALLOWED_NETWORKS = _env_list("WEBHOOK_ALLOWED_NETWORKS", "")
    SCHEDULER_MAIL_SECONDS = _env_int("SCHEDULER_MAIL_SECONDS", 60)  # poll active mailboxes
    MAIL_FETCH_BATCH = _env_int("MAIL_FETCH_BATCH", 500)  # messages per mailbox per pass
    IMAP_TIMEOUT = _env_int("IMAP_TIMEOUT", 30)
    # a message bigger than this is not downloaded: recorded as failed (its headers kept) and left
    # on the server, so one huge message never holds a mailbox's pass up
    MAIL_FETCH_MAX_BYTES = _env_int("MAIL_FETCH_MAX_BYTES", 25 * 1024 * 1024)
    MAIL_FETCH_CONCURRENCY = _env_int("MAIL_FETCH_CONCURRENCY", 4)  # mailboxes fetched at once
    # The authserv-id our receiving server writes in Authentication-Results (e.g. "mx.example.com");
    # only that header is trusted. Empty: only the top-most header (the one our server added last).
    MAIL_AUTHSERV_ID = _env("MAIL_AUTHSERV_ID", "")
    # Hold replies to existing tickets that fail SPF/DKIM/DMARC for review, for messages that
    # arrive without a mailbox (the MTA pipe without --mailbox); mailboxes have their own setting.
    MAIL_HOLD_UNAUTHENTICATED = _env_bool("MAIL_HOLD_UNAUTHENTICATED", False)


class DevelopmentConfig(Config):
    SECRET_KEY = Config.SECRET_KEY or _dev_secret()


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("HELPDESK_TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_ENABLED = False
    GUEST_FORM_MIN_SECONDS = 0  # the tests that check it set it
    BABEL_DEFAULT_LOCALE = "en"  # tests read English unless they test a language
    MAIL_TRANSPORT = "memory"
    OUTBOX_DELIVER_IN_REQUEST = True  # tests read the mail a request sent right after it
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - scrypt is slow; tests make many users
    PASSWORD_LIST_CHECK = False  # fixtures use "password123"; the tests that check it set it
    TWO_FACTOR_REQUIRED_ROLES: list[str] = []  # the tests that check it set it
    SERVER_NAME = None


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    BASE_URL = _env("BASE_URL")  # no default: links to 127.0.0.1 would reach no customer

    @classmethod
    def check(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "BASE_URL") if not getattr(cls, name)]
        if missing:
            raise RuntimeError(f"Missing required settings: HELPDESK_{', HELPDESK_'.join(missing)}")
        if "admin" not in cls.TWO_FACTOR_REQUIRED_ROLES:
            raise RuntimeError("HELPDESK_2FA_REQUIRED_ROLES must include admin in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
