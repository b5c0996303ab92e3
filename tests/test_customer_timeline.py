"""The customer's timeline on the console customer page: every demand, call, email, conversation,
survey answer, verdict and record change in one list, newest first, keyset paginated, in a
constant number of queries, limited to what the staff member may work."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.channels.models import Call, Conversation
from helpdesk.customers.profile import update_profile
from helpdesk.mail.models import InboundMessage
from helpdesk.surveys.models import Survey
from helpdesk.tickets import services as tickets

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def _at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
def story(db, make_user, make_customer, make_ticket, make_department):
    """A customer who called, wrote, chatted, complained, was answered, said "not resolved",
    rated a survey, and whose record an agent changed: one row of each kind, an hour apart."""
    agent = make_user("agent", name="Agente Bia")
    customer = make_customer(name="Dona Clara", email="clara@example.com")
    first = make_ticket(customer=customer, kind="complaint", subject="Entrega atrasada")
    first.created_at = _at(0)
    call = Call(call_id="c-1", customer_id=customer.id, ticket_id=first.id, started_at=_at(1))
    call.duration_seconds = 95
    email = InboundMessage(
        dedupe_key="pipe|<m1@example.com>",
        sha256="0" * 64,
        raw=b"x",
        subject="Re: Entrega atrasada",
        state="processed",
        ticket_id=first.id,
        created_at=_at(2),
    )
    chat = Conversation(
        channel="whatsapp",
        external_id="w-1",
        contact_handle="+5511987654321",
        customer_id=customer.id,
        ticket_id=first.id,
        created_at=_at(3),
    )
    db.session.add_all([call, email, chat])
    tickets.add_message(first, agent, "Já reenviamos.")
    tickets.change_status(first, agent, "resolved")
    db.session.commit()
    tickets.record_ticket_verdict(first, None, resolved=False)
    survey = Survey(
        ticket_id=first.id,
        customer_id=customer.id,
        channel="email",
        status="answered",
        answered_at=_at(6),
        rating=2,
        nps=4,
    )
    db.session.add(survey)
    update_profile(customer, agent, {"lifecycle_stage": "dissolution"})
    db.session.commit()

    # a demand of another department: its agent only sees it
    other = make_department("Logística")
    hidden = make_ticket(customer=customer, kind="request", subject="Segredo da logística")
    hidden.department_id = other.id
    db.session.commit()
    return {"agent": agent, "customer": customer, "first": first, "hidden": hidden}


def _items(html: str) -> list[str]:
    section = html[html.index('id="timeline"') :]
    section = section[: section.index("</section>")]
    return re.findall(r'<li class="timeline-(\w+)">', section)


def test_every_kind_of_contact_in_one_list_newest_first(client, auth, story):
    auth.login(story["agent"])
    html = client.get(f"/console/customers/{story['customer'].id}").get_data(as_text=True)
    kinds = _items(html)
    # the resolution, the verdict, the flag and the record change happened "now"
    assert set(kinds) == {
        "record",
        "survey",
        "verdict",
        "resolved",
        "conversation",
        "email",
        "call",
        "registered",
    }
    assert kinds[-4:] == ["conversation", "email", "call", "registered"]
    assert kinds.count("record") == 2  # flagged at risk by the verdict, then the agent's change
    assert "Segredo da logística" not in html  # another department's demand
    assert "Rated 2 out of 5" in html and "NPS 4" in html
    assert "Not resolved, by the customer's word" in html
    assert (
        "Duration: 1 min 35 s." in html
        and "Re: Entrega atrasada" in html
        and "+5511987654321" in html
    )
    assert f'href="/console/tickets/{story["first"].protocol}"' in html
    assert "Lifecycle stage" in html


def test_admin_sees_every_department_and_pages_follow_the_cursor(
    client, auth, story, make_user, monkeypatch
):
    from helpdesk.console import customers as page

    monkeypatch.setattr(page, "TIMELINE_SIZE", 4)
    auth.login(make_user("admin"))
    url = f"/console/customers/{story['customer'].id}"
    seen = []
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _items(html)
        match = re.search(r'href="([^"]*tcursor=[^"#]*)#timeline" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert len(seen) == 10  # the story's 9 rows and the other department's demand
    assert seen.count("registered") == 2 and seen[-1] == "registered"


def test_the_page_runs_a_constant_number_of_queries(
    client, auth, db, story, make_ticket, count_queries
):
    auth.login(story["agent"])
    url = f"/console/customers/{story['customer'].id}"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for n in range(6):
        ticket = make_ticket(customer=story["customer"], subject=f"Mais uma {n}")
        db.session.add(
            Call(call_id=f"c-more-{n}", customer_id=story["customer"].id, ticket_id=ticket.id)
        )
    db.session.commit()
    with count_queries() as many:
        html = client.get(url).get_data(as_text=True)
    assert len(_items(html)) > 15
    assert many.count == few.count, many.statements


def test_a_bad_cursor_is_a_clear_400(client, auth, story):
    auth.login(story["agent"])
    response = client.get(f"/console/customers/{story['customer'].id}?tcursor=nonsense")
    assert response.status_code == 400
    assert "no longer valid" in response.get_data(as_text=True)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_rows_at_the_same_instant_are_each_shown_once_across_pages(
    db, make_customer, make_ticket, size
):
    from helpdesk.customers.models import CustomerEvent
    from helpdesk.customers.timeline import timeline_page

    customer = make_customer()
    for n in range(3):
        ticket = make_ticket(customer=customer, subject=f"Mesmo instante {n}")
        ticket.created_at = T0
        db.session.add(
            CustomerEvent(customer_id=customer.id, action="changed", field="segment", created_at=T0)
        )
    db.session.commit()
    seen, cursor = [], None
    while True:
        page = timeline_page(customer.id, None, cursor=cursor, limit=size)
        seen += [(item.kind, item.row_id) for item in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 6
    assert [kind for kind, _ in seen] == ["record"] * 3 + ["registered"] * 3
