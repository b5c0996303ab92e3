"""Every console and admin page the tests can reach: no duplicate `id` attribute (labels and
scripts find the wrong element otherwise), and no customer-facing footer on staff pages."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import sqlalchemy as sa

from .test_console_support import *  # noqa: F403 - fixtures
from .test_console_support import login_as


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter = Counter()
        self.footer = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1
        if tag == "footer":
            self.footer = True


def _model_for(endpoint: str, arg: str):
    from helpdesk.accounts.models import Department, User
    from helpdesk.customers.models import Customer
    from helpdesk.escalations.models import Escalation, EscalationRule
    from helpdesk.investigations.models import Investigation
    from helpdesk.mail.models import InboundMessage, Mailbox
    from helpdesk.notifications.models import OutboxMessage
    from helpdesk.routing.models import RoutingRule
    from helpdesk.sla.models import BusinessCalendar, SlaPolicy
    from helpdesk.tickets.models import Category, Ticket
    from helpdesk.webhooks.models import WebhookSubscription

    if arg == "rule_id":
        return (EscalationRule if "escalation" in endpoint else RoutingRule), "id"
    return {
        "protocol": (Ticket, "protocol"),
        "number": (Investigation, "number"),
        "customer_id": (Customer, "id"),
        "escalation_id": (Escalation, "id"),
        "calendar_id": (BusinessCalendar, "id"),
        "category_id": (Category, "id"),
        "department_id": (Department, "id"),
        "policy_id": (SlaPolicy, "id"),
        "mailbox_id": (Mailbox, "id"),
        "outbox_id": (OutboxMessage, "id"),
        "inbound_id": (InboundMessage, "id"),
        "user_id": (User, "id"),
        "subscription_id": (WebhookSubscription, "id"),
    }.get(arg, (None, None))


def _staff_urls(app, db):
    urls = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if blueprint not in ("console", "admin") or "GET" not in rule.methods:
            continue
        if rule.rule.endswith((".csv", "/attachments/<int:attachment_id>")):
            continue  # downloads, not pages
        values = {}
        for arg in rule.arguments:
            model, column = _model_for(rule.endpoint, arg)
            value = db.session.scalar(sa.select(getattr(model, column)).limit(1)) if model else None
            if value is None:
                break
            values[arg] = value
        else:
            urls.append(rule.build(values)[1])
    return urls


def _world_of_everything(app, db, world, monkeypatch):
    from helpdesk.escalations import services as esc
    from helpdesk.investigations import operations
    from helpdesk.mail.services import create_mailbox
    from helpdesk.routing.services import create_rule
    from helpdesk.sla.policies import ensure_default_policy
    from helpdesk.tickets.categories import create_category
    from helpdesk.webhooks.services import create_subscription

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", ["127.0.0.1"])
    ensure_default_policy()
    esc.ensure_default_ladder()
    create_category(name="Billing", name_pt_br="Cobrança", name_es="Facturación")
    create_rule(name="Boletos", keywords="boleto", department_id=world.dept_x.id)
    create_subscription(world.admin, url="http://127.0.0.1:9/hook", events=["ticket.created"])
    create_mailbox(
        name="SAC",
        host="imap.example.com",
        port=993,
        username="sac",
        tls_mode="ssl",
        department_id=world.dept_x.id,
        folder="INBOX",
        active=True,
    )
    esc.escalate_by_agent(world.ticket_x, world.agent_x, reason="complex_case", note="Difícil.")
    operations.open_investigation(
        by=world.supervisor, title="Cobranças", from_ticket=world.ticket_x
    )
    db.session.commit()


def test_every_staff_page_has_unique_ids_and_no_customer_footer(
    client, app, db, world, monkeypatch
):
    _world_of_everything(app, db, world, monkeypatch)
    login_as(client, app, world.admin)
    urls = _staff_urls(app, db)
    assert len(urls) >= 45, urls
    problems = []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            problems.append(f"{url}: {response.status_code}")
            continue
        parser = _Ids()
        parser.feed(response.get_data(as_text=True))
        dupes = sorted(name for name, n in parser.ids.items() if n > 1)
        if dupes:
            problems.append(f"{url}: duplicate ids {dupes}")
        if parser.footer:
            problems.append(f"{url}: customer footer")
    assert not problems, "\n".join(problems)
