"""Rate-limit storage and set-up: Flask-Limiter with an in-memory storage that starts no thread.

limits' MemoryStorage starts a (non-daemon) timer thread when it is built and again after each
hit, only to drop expired counters. Every process that builds the app built one, CLI commands
included, and a timed wait across a clock jump (suspend, NTP, a VM restore) kept such a process
alive after its work was done. `LocalMemoryStorage` keeps the same counters and drops expired ones
inline, at most every SWEEP_SECONDS, on the thread that counts. `memory://` in the settings means
this storage; a shared store (`redis://...`, with the `redis` extra installed) is used as
configured, so several application servers count together.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

from flask import Flask
from limits.storage import MemoryStorage, Storage

from ..extensions import limiter

SWEEP_SECONDS = 10.0


class LocalMemoryStorage(MemoryStorage):
    """MemoryStorage without its background timer (expired entries are swept while counting)."""

    STORAGE_SCHEME = ["helpdesk-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        # the state MemoryStorage.__init__ sets up, without starting its timer thread
        self.storage = Counter()
        self.locks = defaultdict(threading.RLock)
        self.expirations = {}
        self.events = {}
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()
        Storage.__init__(self, uri, wrap_exceptions=wrap_exceptions, **options)

    # MemoryStorage calls self.__schedule_expiry() after each hit: sweep inline instead
    def _MemoryStorage__schedule_expiry(self) -> None:
        moment = time.monotonic()
        if moment < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = moment + SWEEP_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("locks", None)
        state.pop("_sweep_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.locks = defaultdict(threading.RLock)
        self._sweep_lock = threading.Lock()


def storage_uri(configured: str | None) -> str:
    """The storage to use for a configured URI: in-memory ones become the thread-free storage."""
    uri = (configured or "memory://").strip()
    if uri.startswith("memory://"):
        return "helpdesk-memory://" + uri[len("memory://") :]
    return uri


REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")


def check_storage(uri: str) -> None:
    """Refuse to start with a Redis storage when the redis client is not installed (limits would
    only fail later, with a message that does not say what to install)."""
    if not uri.startswith(REDIS_SCHEMES):
        return
    try:
        import redis  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "HELPDESK_RATELIMIT_STORAGE_URI is a Redis address, but the redis client is not "
            "installed: pip install -c constraints.txt -e '.[redis]' (see docs/deploy.md)"
        ) from None


def init_limiter(app: Flask) -> None:
    uri = storage_uri(app.config.get("RATELIMIT_STORAGE_URI"))
    check_storage(uri)
    app.config["RATELIMIT_STORAGE_URI"] = uri
    limiter.init_app(app)
