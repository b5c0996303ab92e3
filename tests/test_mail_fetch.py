"""IMAP fetch against a private dovecot on 127.0.0.1 (tests/mailservers.py), and the `mail`
CLI: a fetch pass imports unseen mail and flags it seen only after the commit, two fetches at
once give one entry each, a broken database leaves everything unseen; `mail import` exits 0, 65
or 75 (EX_TEMPFAIL when the database is unreachable, so the MTA retries)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.mail import services as mail
from helpdesk.mail.fetch import fetch_all, fetch_mailbox
from helpdesk.mail.models import InboundMessage, Mailbox
from helpdesk.tickets.models import Ticket
from tests.mailservers import IMAP_PASSWORD, IMAP_USER, free_port

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "email"


def message(n: int, sender="bia@example.org") -> bytes:
    return (
        f"From: Cliente {n} <{sender}>\r\nTo: sac@example.com\r\nSubject: Demanda {n}\r\n"
        f"Message-ID: <fetch-{n}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"\r\nTexto da demanda {n}.\r\n"
    ).encode()


@pytest.fixture
def mailbox(db, dovecot, default_department):
    dovecot.reset()
    box = mail.create_mailbox(
        name="sac",
        host="127.0.0.1",
        port=dovecot.port,
        tls_mode="none",
        folder="INBOX",
        username=IMAP_USER,
        department_id=None,
        active=True,
        password=IMAP_PASSWORD,
    )
    db.session.commit()
    return box


def _flags(dovecot) -> dict:
    with dovecot.client() as c:
        c.select_folder("INBOX", readonly=True)
        return {uid: set(v[b"FLAGS"]) for uid, v in c.fetch(c.search("ALL"), ["FLAGS"]).items()}


def _count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_fetch_pass_imports_unseen_mail_and_then_flags_it_seen(db, dovecot, mailbox):
    for n in range(3):
        dovecot.append(message(n))
    dovecot.append(message(99), flags=[b"\\Seen"])  # read by a person already: left alone
    counts = fetch_mailbox(mailbox)
    assert counts == {"created": 3}
    assert _count(db, Ticket) == 3
    assert all(b"\\Seen" in f for f in _flags(dovecot).values())
    assert fetch_mailbox(mailbox) == {}  # nothing new


def test_the_whole_corpus_through_imap_adds_up(db, dovecot, mailbox):
    files = sorted(CORPUS.glob("*.eml"))
    for path in files:
        dovecot.append(path.read_bytes())
    result = fetch_all()
    counts = mail.inbound_counts()
    assert _count(db, InboundMessage) == len(files)
    assert sum(result.get(k, 0) for k in ("created", "appended", "ignored", "failed")) == len(files)
    assert sum(counts[k] for k in ("created", "appended", "ignored", "failed")) == len(files)
    assert result["mailboxes"] == 1 and result.get("mailbox_errors", 0) == 0


def test_nothing_is_flagged_seen_when_the_commit_fails(db, dovecot, mailbox, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from helpdesk.mail import fetch

    dovecot.append(message(1))

    def down(raw, box):
        raise OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(fetch, "ingest", down)
    with pytest.raises(OperationalError):
        fetch_mailbox(mailbox)
    assert all(b"\\Seen" not in f for f in _flags(dovecot).values())
    monkeypatch.undo()
    assert fetch_mailbox(db.session.get(Mailbox, mailbox.id)) == {"created": 1}


@pytest.mark.commits
def test_two_fetches_at_once_give_one_entry_each(app, db, dovecot, mailbox):
    for n in range(8):
        dovecot.append(message(n))
    mailbox_id = mailbox.id
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        with app.app_context():
            from helpdesk.extensions import db as wdb

            try:
                barrier.wait(timeout=10)
                results.append(fetch_mailbox(wdb.session.get(Mailbox, mailbox_id)))
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                wdb.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db.session.expire_all()
    assert _count(db, InboundMessage) == 8 and _count(db, Ticket) == 8
    assert sum(r.get("created", 0) for r in results) == 8


def test_a_wrong_password_is_recorded_on_the_mailbox(db, dovecot, mailbox):
    mailbox.password = "wrong"
    db.session.commit()
    result = fetch_all()
    assert result["mailbox_errors"] == 1
    assert db.session.get(Mailbox, mailbox.id).last_error


def test_password_can_come_from_the_environment(db, dovecot, mailbox, monkeypatch):
    monkeypatch.setenv("HELPDESK_TEST_IMAP_PASSWORD", IMAP_PASSWORD)
    mailbox.password = "env:HELPDESK_TEST_IMAP_PASSWORD"
    db.session.commit()
    dovecot.append(message(5))
    assert fetch_mailbox(mailbox) == {"created": 1}


def test_inactive_mailboxes_are_not_polled(db, dovecot, mailbox):
    mailbox.active = False
    db.session.commit()
    dovecot.append(message(1))
    assert fetch_all() == {}


def test_cli_fetch_prints_counts(app, db, dovecot, mailbox):
    dovecot.append(message(1))
    out = app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert out.exit_code == 0, out.output
    assert "created=1" in out.output and "mailboxes=1" in out.output


def test_cli_import_reads_one_message_from_stdin(app, db, default_department):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["mail", "import"], input=message(1))
    assert first.exit_code == 0 and first.output.startswith("created")
    again = runner.invoke(args=["mail", "import"], input=message(1))
    assert again.exit_code == 0 and again.output.startswith("duplicate")
    bad = runner.invoke(args=["mail", "import"], input=b"\x00\x01 not mail")
    assert bad.exit_code == 65
    assert db.session.scalar(
        sa.select(InboundMessage.state).order_by(InboundMessage.id.desc())
    ) == ("failed")
    quiet = runner.invoke(args=["mail", "import", "--failed-exit", "0"], input=b"\x00\x02 junk")
    assert quiet.exit_code == 0 and quiet.output.startswith("failed")
    unknown = runner.invoke(args=["mail", "import", "--mailbox", "nope"], input=message(2))
    assert unknown.exit_code == 75
    assert _count(db, InboundMessage) == 3


def test_cli_import_exits_75_when_the_database_is_unreachable(tmp_path):
    """Exactly what Postfix runs: a separate process, nothing listening on the database port."""
    env = {
        **os.environ,
        "HELPDESK_ENV": "production",
        "HELPDESK_SECRET_KEY": "x" * 32,
        "HELPDESK_BASE_URL": "https://sac.example.com",  # required in production
        "HELPDESK_DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
        "HELPDESK_INSTANCE_PATH": str(tmp_path),
    }
    env.pop("HELPDESK_TEST_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "import"],
        input=message(1),
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 75, proc.stderr.decode()[-2000:]


def test_the_scheduler_polls_mailboxes(app, db):
    from helpdesk.scheduler import build_scheduler, fetch_mail_job

    assert "fetch_mail" in {job.id for job in build_scheduler(app).get_jobs()}
    assert fetch_mail_job() is None  # no mailbox, nothing to report


def _big(n: int, size: int) -> bytes:
    return message(n).replace(b"\r\n\r\n", b"\r\n\r\n" + b"x" * 76 + b"\r\n", 1) + (
        b"y" * 76 + b"\r\n"
    ) * (size // 78)


@pytest.mark.commits
def test_mailboxes_are_fetched_at_once_and_a_huge_message_is_left_on_the_server(
    app, db, dovecot, default_department
):
    """Two mailboxes in one pass, side by side; a message over MAIL_FETCH_MAX_BYTES is not
    downloaded: it is recorded as failed (headers only, saying where it is), flagged seen and left
    on the server, and the messages after it are imported in the same pass."""
    from helpdesk.core.errors import Conflict

    dovecot.reset()
    with dovecot.client() as c:
        if not c.folder_exists("Outra"):
            c.create_folder("Outra")
    dovecot.reset("Outra")
    boxes = [
        mail.create_mailbox(
            name=name,
            host="127.0.0.1",
            port=dovecot.port,
            tls_mode="none",
            folder=folder,
            username=IMAP_USER,
            department_id=None,
            active=True,
            password=IMAP_PASSWORD,
        )
        for name, folder in (("sac", "INBOX"), ("outra", "Outra"))
    ]
    db.session.commit()
    app.config.update(MAIL_FETCH_MAX_BYTES=50_000, MAIL_FETCH_CONCURRENCY=4)
    dovecot.append(message(1))
    dovecot.append(_big(2, 200_000))  # a huge one between two small ones
    dovecot.append(message(3))
    dovecot.append(message(4), folder="Outra")
    dovecot.append(message(5), folder="Outra")

    result = fetch_all()
    assert result == {"mailboxes": 2, "created": 4, "too_large": 1}
    db.session.expire_all()
    big = db.session.scalar(sa.select(InboundMessage).where(InboundMessage.reason == "too_large"))
    assert big.state == "failed" and big.mailbox_id == boxes[0].id
    assert big.subject == "Demanda 2" and "bia@example.org" in big.from_addr
    assert "left on the server" in big.error and "'INBOX'" in big.error
    assert len(big.raw) < 1000  # its headers, not the 200 kB
    assert _count(db, Ticket) == 4
    with dovecot.client() as c:  # nothing deleted; everything read, the huge one included
        for folder, count in (("INBOX", 3), ("Outra", 2)):
            c.select_folder(folder, readonly=True)
            assert len(c.search("ALL")) == count and c.search(["UNSEEN"]) == []
    assert all(db.session.get(Mailbox, b.id).last_fetch_at for b in boxes)
    with pytest.raises(Conflict, match="too large"):
        mail.reprocess(big)
    db.session.rollback()
    assert fetch_all() == {"mailboxes": 2}  # nothing new

    # unread again on the server (say, after the limit was raised): fetched as one entry
    with dovecot.client() as c:
        c.select_folder("INBOX")
        c.remove_flags(c.search("ALL"), [b"\\Seen"])
    assert fetch_all() == {"mailboxes": 2, "duplicate": 3}
