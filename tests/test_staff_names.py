"""Admin-defined names show in the reader's language where a translation exists, and raw codes
(segments, encryption modes, mail states) or package names never reach staff pages."""

from __future__ import annotations

import re
from datetime import time

from .test_console_support import *  # noqa: F403 - fixtures
from .test_console_support import login_as


def _speak(db, user, locale):
    user.locale = locale
    db.session.commit()


def _text(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))


def test_category_names_follow_the_readers_language_on_admin_and_console(client, app, db, world):
    from helpdesk.routing.services import create_rule
    from helpdesk.tickets.categories import create_category

    category = create_category(name="Billing errors", name_pt_br="Erros de cobrança", name_es="")
    create_rule(name="Erros", category_id=category.id, department_id=world.dept_x.id)
    world.ticket_x.category_id = category.id
    db.session.commit()
    _speak(db, world.admin, "pt_BR")
    login_as(client, app, world.admin)
    rules = _text(client.get("/admin/rules"))
    assert "Erros de cobrança" in rules and "Billing errors" not in rules
    policy_form = _text(client.get("/admin/policies/new"))
    assert "Erros de cobrança" in policy_form
    ticket = _text(client.get(f"/console/tickets/{world.ticket_x.protocol}"))
    assert "Erros de cobrança" in ticket
    _speak(db, world.admin, "es")  # no Spanish name: the name itself
    assert "Billing errors" in _text(client.get("/admin/rules"))


def test_segments_show_their_label_not_the_code(client, app, db, world):
    world.customer.segment = "individual"
    db.session.commit()
    _speak(db, world.agent_x, "pt_BR")
    login_as(client, app, world.agent_x)
    for url in (
        f"/console/customers/{world.customer.id}",
        f"/console/tickets/{world.ticket_x.protocol}",
    ):
        page = client.get(url).get_data(as_text=True)
        assert re.search(r"<dd>Pessoa física</dd>", page), url
        assert "<dd>individual</dd>" not in page


def test_calendar_page_names_no_package(client, app, db, world):
    from helpdesk.sla.business_calendars import create_calendar

    calendar = create_calendar(
        name="São Paulo", country="BR", subdivision="SP", intervals=[(0, time(9), time(18))]
    )
    db.session.commit()
    login_as(client, app, world.admin)
    page = _text(client.get(f"/admin/calendars/{calendar.id}"))
    assert "Public holidays" in page
    assert "package" not in page


def test_mailbox_encryption_shows_a_label(client, app, db, world):
    from helpdesk.mail.services import create_mailbox

    create_mailbox(
        name="SAC",
        host="imap.example.com",
        port=993,
        username="sac",
        tls_mode="starttls",
        department_id=world.dept_x.id,
        folder="INBOX",
        active=True,
    )
    db.session.commit()
    login_as(client, app, world.admin)
    page = _text(client.get("/admin/mailboxes"))
    assert "STARTTLS (port 143)" in page
    assert "(starttls)" not in page
