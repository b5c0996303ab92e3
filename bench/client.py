"""A small, bounded HTTP load client for the benchmark (loopback only, standard library only).

One `http.client` connection per request (gunicorn's sync workers close the connection after each
response anyway), a cookie header carried by hand, CSRF tokens read from the page like a browser.
`run_load()` runs N threads until a request budget or a time budget is spent.
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Http:
    """Requests to one loopback host:port, with a cookie jar of its own."""

    def __init__(self, host: str, port: int, cookies: dict[str, str] | None = None):
        if host not in LOOPBACK:
            raise ValueError("the benchmark client only talks to the loopback interface")
        self.host, self.port = host, port
        self.cookies = dict(cookies or {})

    def clone(self) -> Http:
        return Http(self.host, self.port, self.cookies)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        keep_cookies: bool = True,
    ) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            hdrs = {"User-Agent": "helpdesk-bench/1", "Accept-Language": "pt-BR"}
            if self.cookies:
                hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            raw = conn.getresponse()
            data = raw.read()
            cookies = {}
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key.strip()] = rest.split(";", 1)[0]
            if keep_cookies:
                self.cookies.update(cookies)
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data, cookies)
        finally:
            conn.close()

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post_form(self, path: str, fields: list[tuple[str, str]], **kw) -> Response:
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body=body, headers=headers, **kw)

    def post_multipart(self, path: str, fields: list[tuple[str, str]], **kw) -> Response:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            )
        parts.append(f"--{boundary}--\r\n")
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", path, body="".join(parts).encode(), headers=headers, **kw)

    def post_json(self, path: str, payload: dict, token: str) -> Response:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        return self.request("POST", path, json.dumps(payload).encode(), headers, keep_cookies=False)


# forms -----------------------------------------------------------------------------------------


@dataclass
class Form:
    action: str | None
    method: str
    enctype: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # hidden + defaults
    text: list[str] = field(default_factory=list)  # text inputs / textareas to fill
    choices: dict[str, list[str]] = field(default_factory=dict)  # select / radio values
    option_kinds: dict[str, str] = field(default_factory=dict)  # option value -> data-kinds


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._in_form = True
            self.forms.append(
                Form(a.get("action"), a.get("method", "get").lower(), a.get("enctype", ""))
            )
            return
        if not self._in_form or not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                form.fields.append((name, a.get("value", "")))
            elif kind in ("radio", "checkbox"):
                form.choices.setdefault(name, []).append(a.get("value", "on"))
            elif kind in ("text", "email", "tel", "search", "number", "url", ""):
                form.text.append(name)
        elif tag == "textarea" and name:
            form.text.append(name)
        elif tag == "select" and name:
            self._select = name
            form.choices.setdefault(name, [])
        elif tag == "option" and self._select:
            form.choices[self._select].append(a.get("value", ""))
            if "data-kinds" in a:
                form.option_kinds[a.get("value", "")] = a["data-kinds"]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def login(http: Http, email: str, password: str) -> Http:
    """Log in through the real form; returns the client holding the session cookie."""
    page = http.get("/login")
    token = csrf_token(page.text)
    response = http.post_form(
        "/login", [("csrf_token", token), ("email", email), ("password", password)]
    )
    if response.status != 302 or "/login" in response.headers.get("location", "/login"):
        raise RuntimeError(f"login as {email} failed: HTTP {response.status}")
    return http


# load ------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    name: str
    requests: int
    ok: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[str, int]
    clients: int

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float | None:
        data = sorted(self.latencies_ms)
        if not data:
            return None
        k = min(len(data) - 1, max(0, round(p / 100 * len(data) + 0.5) - 1))
        return data[k]

    def summary(self) -> dict:
        return {
            "name": self.name,
            "clients": self.clients,
            "requests": self.requests,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "ok_per_second": round(self.rate, 1),
            "p50_ms": _r(self.pct(50)),
            "p95_ms": _r(self.pct(95)),
            "p99_ms": _r(self.pct(99)),
            "max_ms": _r(max(self.latencies_ms) if self.latencies_ms else None),
            "mean_ms": _r(statistics.fmean(self.latencies_ms) if self.latencies_ms else None),
            "statuses": self.statuses,
        }


def _r(value):
    return None if value is None else round(value, 1)


def run_load(
    name: str,
    call: Callable[[int], int],
    ok: Callable[[int], bool],
    *,
    clients: int = 8,
    max_requests: int = 2000,
    max_seconds: float = 20.0,
) -> LoadResult:
    """`clients` threads call `call(i)` (returning an HTTP status) until either budget is spent."""
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    statuses: Counter = Counter()
    good = 0
    deadline = time.perf_counter() + max_seconds

    def worker():
        nonlocal issued, good
        while True:
            with lock:
                if issued >= max_requests or time.perf_counter() >= deadline:
                    return
                issued += 1
                index = issued
            t0 = time.perf_counter()
            try:
                status = call(index)
            except (OSError, http.client.HTTPException) as exc:
                status = f"error:{type(exc).__name__}"
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[str(status)] += 1
                if isinstance(status, int) and ok(status):
                    good += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    return LoadResult(name, issued, good, seconds, latencies, dict(statuses), clients)
