"""Email import throughput: messages per second through `flask mail import` (the MTA pipe: one
process per message, as Postfix runs it) and through one `flask mail fetch` pass over N messages
held by a private dovecot on 127.0.0.1 (the same one the tests use, tests/mailservers.py).

    python -m bench.mail                       # what `make bench` runs: 50 piped, 1,000 fetched
    python -m bench.mail --pipe 200 --fetch 5000

Each run uses a fresh SQLite database in --workdir; the figures go to stdout (Markdown) and to
bench/results/mail-latest.json. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d2c1e00000000049454e44ae426082"
)


def log(msg: str) -> None:
    print(f"[bench.mail] {msg}", file=sys.stderr, flush=True)


def message(n: int) -> bytes:
    """A realistic mix: 90% new demands from 300 senders (one in five with an image), 10%
    auto-replies (stored as ignored)."""
    sender = f"cliente{n % 300}@example.org"
    auto = "Auto-Submitted: auto-replied\r\n" if n % 10 == 9 else ""
    head = (
        f"From: Cliente {n % 300} <{sender}>\r\nTo: sac@example.com\r\n"
        f"Subject: Demanda {n}: cobrança indevida\r\nMessage-ID: <bench-{n}@example.org>\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 -0300\r\n{auto}MIME-Version: 1.0\r\n"
    )
    text = (
        f"Olá, fui cobrado duas vezes no pedido {n}.\r\n\r\nEnviado do meu iPhone\r\n\r\n"
        "Em seg., 23 de nov. de 2026 às 10:00, SAC <sac@example.com> escreveu:\r\n> Olá\r\n"
    )
    if n % 5:
        body = f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"
    else:
        import base64

        body = (
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--b\r\n"
            'Content-Type: image/png\r\nContent-Disposition: attachment; filename="foto.png"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.b64encode(PNG).decode()}\r\n--b--\r\n"
        )
    return (head + body).encode()


def flask(env: dict, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        check=False,
    )


def fresh_env(workdir: Path, name: str) -> dict:
    db_path = workdir / f"{name}.db"
    db_path.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        HELPDESK_ENV="production",
        HELPDESK_BASE_URL=env.get("HELPDESK_BASE_URL", "http://127.0.0.1:8000"),
        HELPDESK_SECRET_KEY=secrets.token_hex(32),
        HELPDESK_DATABASE_URL=f"sqlite:///{db_path}",
        HELPDESK_INSTANCE_PATH=str(workdir / "instance"),
        HELPDESK_UPLOAD_DIR=str(workdir / "uploads"),
        HELPDESK_MAIL_TRANSPORT="file",
        HELPDESK_MAIL_DIR=str(workdir / "mail"),
    )
    env.pop("HELPDESK_TEST_DATABASE_URL", None)
    subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    setup = (
        "from helpdesk import create_app\n"
        "from helpdesk.accounts.services import create_department\n"
        "from helpdesk.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    create_department(name='SAC', is_default=True)\n"
        "    db.session.commit()\n"
    )
    subprocess.run([sys.executable, "-c", setup], cwd=ROOT, env=env, check=True)
    return env


def bench_pipe(workdir: Path, count: int) -> dict:
    env = fresh_env(workdir, "mail-pipe")
    codes: dict[int, int] = {}
    start = time.perf_counter()
    for n in range(count):
        proc = flask(env, "mail", "import", stdin=message(n))
        codes[proc.returncode] = codes.get(proc.returncode, 0) + 1
    seconds = time.perf_counter() - start
    return {
        "messages": count,
        "seconds": round(seconds, 2),
        "per_second": round(count / seconds, 1),
        "exit_codes": codes,
    }


def bench_paths(workdir: Path, count: int) -> dict:
    """One `flask mail import MAILDIR` process over `count` messages (a backlog, a migration):
    timed from process start to exit, so the ~2 s of start-up is paid once."""
    import mailbox

    env = fresh_env(workdir, "mail-paths")
    folder = workdir / "mail-paths-maildir"
    shutil.rmtree(folder, ignore_errors=True)
    box = mailbox.Maildir(str(folder), create=True)
    for n in range(count):
        box.add(message(n))
    start = time.perf_counter()
    proc = flask(env, "mail", "import", str(folder))
    seconds = time.perf_counter() - start
    return {
        "messages": count,
        "seconds": round(seconds, 2),
        "per_second": round(count / seconds, 1),
        "summary": proc.stdout.decode().strip().splitlines()[-1],
        "exit_code": proc.returncode,
    }


def bench_fetch(workdir: Path, count: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from tests.mailservers import IMAP_PASSWORD, IMAP_USER, Dovecot, _dovecot_binary

    binary = _dovecot_binary()
    if binary is None:
        return {"skipped": "dovecot is not installed (apt-get install dovecot-imapd)"}
    env = fresh_env(workdir, "mail-fetch")
    base = Path(tempfile.mkdtemp(prefix="helpdesk-bench-dovecot-"))
    base.chmod(0o755)
    server = Dovecot(binary, base)
    try:
        server.start()
        start = time.perf_counter()
        with server.client() as client:
            for n in range(count):
                client.append("INBOX", message(n))
        append_seconds = time.perf_counter() - start
        add_box = (
            "from helpdesk import create_app\n"
            "from helpdesk.extensions import db\n"
            "from helpdesk.mail.services import create_mailbox\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            f"    create_mailbox(name='bench', host='127.0.0.1', port={server.port},"
            " tls_mode='none', folder='INBOX',"
            f" username='{IMAP_USER}', password='{IMAP_PASSWORD}', department_id=None,"
            " active=True)\n"
            "    db.session.commit()\n"
        )
        subprocess.run([sys.executable, "-c", add_box], cwd=ROOT, env=env, check=True)
        env["HELPDESK_MAIL_FETCH_BATCH"] = str(count)
        start = time.perf_counter()
        proc = flask(env, "mail", "fetch")
        seconds = time.perf_counter() - start
        with server.client() as client:
            client.select_folder("INBOX", readonly=True)
            unseen = len(client.search(["UNSEEN"]))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    return {
        "messages": count,
        "seconds": round(seconds, 2),
        "per_second": round(count / seconds, 1),
        "append_seconds": round(append_seconds, 2),
        "output": proc.stdout.decode().strip(),
        "exit_code": proc.returncode,
        "left_unseen": unseen,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure inbound email throughput.")
    parser.add_argument("--pipe", type=int, default=50, help="messages through `mail import`")
    parser.add_argument("--fetch", type=int, default=1000, help="messages in one fetch pass")
    parser.add_argument(
        "--paths", type=int, default=1000, help="messages in one `mail import MAILDIR` process"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench"
    )
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count()}
    log(f"{args.pipe} messages through `flask mail import`, one process each")
    report["pipe"] = bench_pipe(workdir, args.pipe)
    log(f"{args.paths} messages through one `flask mail import MAILDIR` process")
    report["paths"] = bench_paths(workdir, args.paths)
    log(f"one `flask mail fetch` pass over {args.fetch} messages in a private dovecot")
    report["fetch"] = bench_fetch(workdir, args.fetch)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mail-latest.json").write_text(json.dumps(report, indent=2))
    pipe, fetch = report["pipe"], report["fetch"]
    print("| inbound email | messages | seconds | messages/s |")
    print("|---|---:|---:|---:|")
    print(
        f"| `mail import` (pipe) | {pipe['messages']} | {pipe['seconds']} | {pipe['per_second']} |"
    )
    paths = report["paths"]
    print(
        f"| `mail import MAILDIR` (one process) | {paths['messages']} | {paths['seconds']} "
        f"| {paths['per_second']} |"
    )
    if "skipped" in fetch:
        print(f"| `mail fetch` (IMAP) | skipped: {fetch['skipped']} | | |")
    else:
        print(
            f"| `mail fetch` (IMAP) | {fetch['messages']} | {fetch['seconds']} "
            f"| {fetch['per_second']} |"
        )
        print(f"\nfetch: {fetch['output']}; left unseen: {fetch['left_unseen']}")
    print(f"pipe exit codes: {pipe['exit_codes']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
