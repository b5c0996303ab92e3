"""`flask --app wsgi mail import PATH...`: a backlog or a migration (Maildirs, mboxes, .eml
files, folders of them) imported in one process, one line per message and a summary; stdin
without paths stays as it was (see test_mail_fetch.py)."""

from __future__ import annotations

import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.mail.models import InboundMessage
from helpdesk.tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent


def _msg(n: int, sender: str = "Bia Nunes <bia@example.org>") -> bytes:
    return (
        f"From: {sender}\r\nTo: sac@example.com\r\nSubject: Pedido {n} atrasado\r\n"
        f"Message-ID: <backlog-{n}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"O pedido {n} não chegou.\r\n"
    ).encode()


def _backlog(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A Maildir with 2 messages (new/ and cur/), an mbox with 2 (one an auto-reply) and a
    stray .eml file that is not mail at all."""
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    maildir.add(_msg(1))
    key = maildir.add(_msg(2, "Caio <caio@example.org>"))
    message = maildir.get_message(key)
    message.set_subdir("cur")
    maildir[key] = message
    box = mailbox.mbox(str(tmp_path / "old.mbox"), create=True)
    box.add(_msg(3, "Dora <dora@example.org>"))
    box.add(_msg(4).replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:"))
    box.flush()
    box.close()
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\x01 not mail")
    return tmp_path / "Maildir", tmp_path / "old.mbox", junk


@pytest.mark.commits
def test_a_maildir_and_an_mbox_are_imported_by_a_real_process(db, tmp_path, database_url):
    from helpdesk.accounts.models import Department

    db.session.add(Department(name="SAC", is_default=True))
    db.session.commit()
    backlog = tmp_path / "backlog"
    backlog.mkdir()
    maildir, mbox, junk = _backlog(backlog)
    env = {
        **os.environ,
        "HELPDESK_ENV": "production",
        "HELPDESK_SECRET_KEY": "x" * 32,
        "HELPDESK_BASE_URL": "https://sac.example.com",
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("HELPDESK_TEST_DATABASE_URL", None)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "import"]
    proc = subprocess.run(
        [*command, str(maildir), str(mbox), str(junk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=180,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 65, proc.stderr.decode()[-2000:]  # one message was unusable
    lines = out.strip().splitlines()
    assert len(lines) == 6  # five messages and the summary
    assert lines[-1].startswith("messages=5 created=3 appended=0 ignored=1 held=0 failed=1")
    db.session.expire_all()
    protocols = db.session.scalars(sa.select(Ticket.protocol)).all()
    assert len(protocols) == 3
    for protocol in protocols:  # each created line names its protocol
        assert sum(protocol in line and "\tcreated\t" in line for line in lines) == 1
    assert sum(str(maildir) in line for line in lines) == 2
    assert sum(f"{mbox}#" in line for line in lines) == 2
    assert any(line.startswith(f"{junk}\tfailed\t-") for line in lines)
    # run again (a migration resumed): every message is a duplicate, nothing new
    again = subprocess.run(
        [*command, "--failed-exit", "0", str(backlog)],  # a folder of them
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert "messages=5 created=0" in again.stdout.decode()
    assert "duplicate=5" in again.stdout.decode()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 5


def test_paths_in_process_report_each_message(app, db, default_department, tmp_path):
    maildir, mbox, _junk = _backlog(tmp_path)
    out = app.test_cli_runner().invoke(args=["mail", "import", str(maildir), str(mbox)])
    assert out.exit_code == 0, out.output
    assert "messages=4 created=3 appended=0 ignored=1" in out.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 3


def test_a_message_with_nul_bytes_is_a_ticket_not_exit_75(app, db, default_department):
    """PostgreSQL refuses NUL in text: the pipe used to exit 75 forever (the MTA retried it for
    days). Raw, quoted-printable (=00) and base64 NULs are stripped."""
    raw = (
        b"From: Rita <rita@example.net>\r\nSubject: Boleto\x00 errado\r\nMessage-ID: <nul@x>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
        b"\r\n\r\nO boleto=00 veio errado.\x00\r\n"
    )
    out = app.test_cli_runner().invoke(args=["mail", "import"], input=raw)
    assert out.exit_code == 0 and out.output.startswith("created"), out.output
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.subject == "Boleto errado" and "O boleto veio errado." in ticket.description


def test_a_database_error_on_one_message_loses_none_of_the_others(
    app, db, default_department, tmp_path, monkeypatch
):
    """Messages are committed a batch at a time; when the database refuses one message the batch
    is rolled back and imported again one by one: only that one is left for the next run (exit 75),
    every other message of the batch is stored and reported."""
    from sqlalchemy.exc import OperationalError

    from helpdesk.mail import cli, services

    monkeypatch.setattr(cli, "IMPORT_BATCH", 4)
    maildir = tmp_path / "Maildir"
    box = mailbox.Maildir(str(maildir), create=True)
    for n in range(10):
        box.add(_msg(n))
    real = services.ingest

    def ingest(raw, box=None):
        if b"<backlog-5@" in raw:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(raw, box)

    monkeypatch.setattr(services, "ingest", ingest)
    out = app.test_cli_runner().invoke(args=["mail", "import", str(maildir)])
    assert out.exit_code == 75, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 11 and lines[-1].startswith("messages=10 created=9 appended=0")
    assert sum("\ttempfail\t" in line for line in lines) == 1
    subjects = set(db.session.scalars(sa.select(InboundMessage.subject)))
    assert len(subjects) == 9 and "Pedido 5 atrasado" not in subjects

    monkeypatch.setattr(services, "ingest", real)  # the next run stores the one left
    again = app.test_cli_runner().invoke(args=["mail", "import", str(maildir)])
    assert again.exit_code == 0 and "messages=10 created=1 appended=0" in again.output
    assert "duplicate=9" in again.output
