"""The peer: django-helpdesk 2.6.1 from PyPI in a venv of its own, seeded to the same size, served by
gunicorn like this project, its public submission form, staff ticket list and ticket page driven
by the same wrk settings (bench/side.py calls `measure` when BENCH_PEER=1).

Everything lives in <workdir>/peer/: the venv (created once), a minimal Django site (settings
written here: SQLite WAL, DEBUG off, the helpdesk app and what it needs), the database (seeded
once per size with bulk_create, reused after).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path

from .client import Http

VERSION = "2.6.1"
STAFF, PASSWORD = "agent", "bench-password"  # noqa: S105 - a throwaway bench database

SETTINGS = """
from pathlib import Path
BASE = Path(__file__).resolve().parent
SECRET_KEY = "bench-peer-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize", "rest_framework", "account", "pinax.invitations",
    "pinax.teams", "reversion", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "site_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages"]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE / "peer.db"),
    "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE", "timeout": 30}}}
SITE_ID = 1
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
HELPDESK_PUBLIC_VIEW_PROTECTOR = lambda request: None
"""

URLS = """
from django.contrib.auth import views as auth_views
from django.urls import include, path
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="helpdesk/registration/login.html"), name="login"),
    path("", include("helpdesk.urls", namespace="helpdesk")),
]
"""

SEED = """
import random, sys
from datetime import timedelta
import django
django.setup()
from django.contrib.auth.models import User
from django.utils import timezone
from helpdesk.models import Queue, Ticket, FollowUp
n = int(sys.argv[1])
if Ticket.objects.exists():
    sys.exit(0)
rng = random.Random(1)
if not User.objects.filter(username="agent").exists():
    User.objects.create_superuser("agent", "agent@bench.example.com", "bench-password")
queues = [Queue.objects.create(title=t, slug=t.lower()[:8], allow_public_submission=True,
          email_address=f"{t.lower()[:8]}@bench.example.com") for t in
          ("SAC Geral", "Financeiro", "Suporte", "Logistica", "Ouvidoria")]
staff = User.objects.get(username="agent")
now = timezone.now()
for start in range(0, n, 5000):
    tickets = []
    for i in range(start, min(n, start + 5000)):
        at = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        tickets.append(Ticket(queue=rng.choice(queues), title=f"Cobranca indevida {i}",
            description="Minha fatura veio com um servico que nao contratei.",
            submitter_email=f"cliente{i % (n // 5 + 1)}@bench.example.com",
            status=rng.choice((1, 1, 2, 4)), priority=rng.randint(1, 5),
            assigned_to=staff if i % 3 == 0 else None, created=at, modified=at))
    made = Ticket.objects.bulk_create(tickets)
    FollowUp.objects.bulk_create([FollowUp(ticket=t, title="Ticket Opened", comment=t.description,
        public=True, date=t.created) for t in made if t.pk and rng.random() < 0.5])
print(Ticket.objects.count())
"""


def log(msg: str) -> None:
    print(f"[peer] {msg}", file=sys.stderr, flush=True)


def prepare(workdir: Path, tickets: int) -> tuple[Path, dict]:
    """The venv, the site and a seeded database; returns the site directory and its env."""
    home = workdir / "peer"
    venv = home / "venv"
    python = venv / "bin" / "python"
    if not (venv / "bin" / "gunicorn").exists():
        log(f"installing django-helpdesk=={VERSION} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                f"django-helpdesk[teams]=={VERSION}",
                "gunicorn",
            ],
            check=True,
        )
    site = home / f"site-{tickets}"
    site.mkdir(parents=True, exist_ok=True)
    (site / "site_settings.py").write_text(SETTINGS)
    (site / "site_urls.py").write_text(URLS)
    (site / "seed.py").write_text(SEED)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "site_settings", "PYTHONPATH": str(site)}
    env.pop("VIRTUAL_ENV", None)
    if not (site / "peer.db").exists() or not (site / "seeded").exists():
        log("migrating and seeding the peer")
        django = [str(python), "-m", "django"]
        subprocess.run([*django, "migrate", "-v", "0"], cwd=site, env=env, check=True)
        subprocess.run([str(python), "seed.py", str(tickets)], cwd=site, env=env, check=True)
        (site / "seeded").write_text(str(tickets))
    return site, env


def _post(http: Http, path: str, fields: list[tuple[str, str]]):
    """A form POST with the Referer Django's CSRF check wants."""
    return http.request(
        "POST",
        path,
        body=urllib.parse.urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{http.port}{path}",
        },
    )


def _login(http: Http) -> str:
    page = http.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = _post(
        http,
        "/login/",
        [("csrfmiddlewaretoken", token), ("username", STAFF), ("password", PASSWORD)],
    )
    if response.status != 302:
        raise RuntimeError(f"peer login answered {response.status}")
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def _count(site: Path, env: dict) -> int:
    code = "import django;django.setup();from helpdesk.models import Ticket;print(Ticket.objects.count())"
    python = str(site.parent / "venv" / "bin" / "python")
    run = subprocess.run([python, "-c", code], cwd=site, env=env, check=True, capture_output=True)
    return int(run.stdout)


def measure(wrk, workdir: Path, tickets: int, workers: int) -> dict:
    from .side import Gunicorn, _file

    site, env = prepare(workdir, tickets)
    gunicorn = site.parent / "venv" / "bin" / "gunicorn"
    server = Gunicorn("django.core.wsgi:get_wsgi_application()", env, workdir, workers,
                      cwd=site, gunicorn=gunicorn)  # fmt: skip
    out: dict = {}
    try:
        anonymous = Http("127.0.0.1", server.port)
        form = anonymous.get("/tickets/submit/")
        if form.status != 200:
            raise RuntimeError(f"peer /tickets/submit/ answered {form.status}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        queue = re.search(r'<select name="queue"[^>]*>.*?<option value="(\d+)"', form.text, re.S)
        fields = {
            "csrfmiddlewaretoken": token,
            "queue": queue.group(1) if queue else "1",
            "title": "Cobranca indevida na fatura {n}",
            "body": "Minha fatura veio com um servico que nao contratei. Quero o estorno.",
            "submitter_email": "novo-{n}@bench.example.com",
            "priority": "3",
        }
        body = urllib.parse.urlencode(fields).replace("%7Bn%7D", "{n}")
        cookie = "; ".join(f"{k}={v}" for k, v in anonymous.cookies.items())
        check = _post(
            anonymous, "/tickets/submit/", [(k, v.replace("{n}", "0")) for k, v in fields.items()]
        )
        if check.status != 302:
            raise RuntimeError(f"peer submission answered {check.status}: {check.text[:2000]}")
        staff = Http("127.0.0.1", server.port)
        staff_cookie = _login(staff)
        ids = json.loads(
            subprocess.run(
                [str(site.parent / "venv" / "bin" / "python"), "-c",
                 "import django,json,random;django.setup();from helpdesk.models import Ticket;"
                 "ids=list(Ticket.objects.values_list('id',flat=True)[:200000]);"
                 "print(json.dumps(random.Random(7).sample(ids,min(1000,len(ids)))))"],
                cwd=site, env=env, check=True, capture_output=True, text=True,
            ).stdout
        )  # fmt: skip
        pages = {"queue": ["/tickets/"], "ticket": [f"/tickets/{i}/" for i in ids]}
        for name, paths in pages.items():
            status = staff.get(paths[0], keep_cookies=False).status
            if status != 200:
                raise RuntimeError(f"peer {paths[0]} answered {status}")
            log(f"wrk: peer {name} page")
            paths_file = _file(workdir, f"peer-paths-{name}.txt", "\n".join(paths) + "\n")
            out[name] = wrk.run(
                server.port, "get.lua", WRK_PATHS=paths_file, WRK_COOKIE=staff_cookie
            )
        before = _count(site, env)
        log("wrk: peer registration (public form)")
        out["registration"] = wrk.run(
            server.port, "post.lua", WRK_PATH="/tickets/submit/",
            WRK_BODY=_file(workdir, "peer-body.txt", body), WRK_COOKIE=cookie,
            WRK_REFERER=f"http://127.0.0.1:{server.port}/tickets/submit/",
        )  # fmt: skip
        out["registered_rows"] = _count(site, env) - before
    finally:
        server.stop()
    out["note"] = textwrap.shorten(
        "queue = the staff ticket list page (/tickets/; its rows come from a second, "
        "datatables request not measured here); ticket = /tickets/<id>/ as a superuser",
        200,
    )
    return out
