"""Real mail servers on 127.0.0.1 for the email tests: aiosmtpd (receives what we send) and a
private dovecot IMAP instance (holds what we fetch). Each picks a free port and stops on teardown.

Import the fixtures into a test module: `from tests.mailservers import smtp_server  # noqa: F401`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpInbox:
    """The aiosmtpd handler: keeps (envelope recipients, raw bytes) of every message."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on a free loopback port; the app sends to it while the test runs."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    keys = ("MAIL_TRANSPORT", "SMTP_HOST", "SMTP_PORT")
    old = {k: app.config[k] for k in keys}
    app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    try:
        yield inbox
    finally:
        controller.stop()
        app.config.update(old)


# dovecot ------------------------------------------------------------------------------------------

IMAP_USER = "sac"
IMAP_PASSWORD = "sac-test-password"

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
instance_name = helpdesk-test-{port}
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None
    )


class Dovecot:
    def __init__(self, binary: str, base: Path):
        import pwd

        self.binary = binary
        self.base = base
        self.port = free_port()
        uid, gid = os.getuid(), os.getgid()
        user = pwd.getpwuid(uid).pw_name
        self.login_user = self.internal_user = user
        if uid == 0:  # dovecot's own unprivileged users (made by the Debian package) run it
            self.login_user, self.internal_user = "dovenull", "dovecot"
            owner = pwd.getpwnam("dovecot")
            uid, gid = owner.pw_uid, owner.pw_gid
        for sub in ("run", "state", "mail"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        os.chown(base / "mail", uid, gid)
        (base / "users").write_text(
            f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}:{uid}:{gid}::{base}/mail/{IMAP_USER}::\n"
        )
        self.config = base / "dovecot.conf"
        self.config.write_text(
            DOVECOT_CONF.format(
                base=base,
                port=self.port,
                uid=uid,
                gid=gid,
                internal=self.internal_user,
                login=self.login_user,
            )
        )

    def start(self) -> None:
        subprocess.run([self.binary, "-c", str(self.config)], check=True, timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        log = (
            (self.base / "dovecot.log").read_text() if (self.base / "dovecot.log").exists() else ""
        )
        raise RuntimeError(f"dovecot did not start:\n{log}")

    def stop(self) -> None:
        subprocess.run([self.binary, "-c", str(self.config), "stop"], check=False, timeout=30)

    def client(self):
        from imapclient import IMAPClient

        c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        c.login(IMAP_USER, IMAP_PASSWORD)
        return c

    def reset(self, folder: str = "INBOX") -> None:
        """Empty the folder between tests."""
        with self.client() as c:
            c.select_folder(folder)
            uids = c.search("ALL")
            if uids:
                c.delete_messages(uids)
                c.expunge()

    def append(self, raw: bytes, folder: str = "INBOX", flags=()) -> None:
        with self.client() as c:
            c.append(folder, raw, flags=flags)


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory):
    """A private dovecot (own config, free port, maildir in a temporary folder) for the session;
    skipped when dovecot is not installed (CI installs it and fails on any skip)."""
    binary = _dovecot_binary()
    if binary is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    # not under pytest's private (0700) temporary folder: dovecot's unprivileged processes must
    # reach their sockets
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    base.chmod(0o755)
    server = Dovecot(binary, base)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
