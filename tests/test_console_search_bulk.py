"""The search page as a work list: tag chips on each result (one query for the page), a `tag=`
filter combined with the others, checkboxes and the bulk bar (the selected results, or every
demand the search finds, bounded), and the bar's count of matching demands ("500+" past the
bound) on the search page and the queue; the queue's query count with many tagged rows."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from helpdesk.tickets.models import Ticket


@pytest.fixture
def cast(db, make_user, make_ticket, make_department):
    from helpdesk.tickets.tags import add_tags

    agent = make_user("agent")
    found = [make_ticket(subject=f"Fatura duplicada {n}") for n in range(3)]
    other = make_ticket(subject="Entrega atrasada")
    add_tags(found[0], agent, ["vip", "boleto"])
    add_tags(found[1], agent, ["boleto"])
    outsiders = make_department("Ouvidoria")
    foreign = make_ticket(subject="Fatura da ouvidoria")
    foreign.department = outsiders
    foreign.assignee = None
    db.session.commit()
    return agent, found, other, foreign


def _protocols(html: str) -> list[str]:
    return re.findall(r'class="protocol-inline" href="[^"]+">(\d+)</a>', html)


def test_results_show_their_tags_and_a_checkbox(client, auth, cast):
    agent, found, _, _ = cast
    auth.login(agent)
    html = client.get("/console/search?q=fatura").get_data(as_text=True)
    row = re.search(rf"<tr>(?:(?!</tr>).)*{found[0].protocol}(?:(?!</tr>).)*</tr>", html, re.S)
    chips = re.findall(r'class="tag tag-chip tag-c\d+">([^<]+)<', row.group(0))
    assert chips == ["boleto", "vip"]
    assert f'name="ticket" value="{found[0].id}" form="bulk-form"' in row.group(0)
    assert 'id="bulk-form"' in html and "tags.css" in html
    assert "All demands matching this filter: 3" in html


def test_tag_filter_combines_with_the_others(client, auth, db, cast):
    agent, found, _, _ = cast
    found[1].status = "pending_customer"
    db.session.commit()
    auth.login(agent)
    html = client.get("/console/search?q=fatura&tag=Boleto").get_data(as_text=True)
    assert sorted(_protocols(html)) == sorted([found[0].protocol, found[1].protocol])
    html = client.get("/console/search?q=fatura&tag=boleto&status=pending_customer").get_data(
        as_text=True
    )
    assert _protocols(html) == [found[1].protocol]
    assert 'value="boleto"' in html  # the filter stays filled in
    assert (
        _protocols(client.get("/console/search?q=fatura&tag=nenhuma").get_data(as_text=True)) == []
    )
    assert client.get("/console/search?q=fatura&tag=<b>").status_code == 400


def test_bulk_on_selected_results_goes_back_to_the_search(client, auth, db, cast):
    agent, found, _, _ = cast
    auth.login(agent)
    response = client.post(
        "/console/tickets/bulk?q=fatura&tag=boleto&source=search",
        data={"ticket": [str(found[0].id), str(found[1].id)], "priority": "urgent"},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/console/search?") and "q=fatura" in location
    assert "tag=boleto" in location and "source" not in location and "jump=0" in location
    assert "2 changed" in client.get(location).get_data(as_text=True)
    db.session.expire_all()
    assert [db.session.get(Ticket, t.id).priority for t in found] == [4, 4, 2]


def test_bulk_on_all_that_the_search_finds(client, auth, db, cast):
    """Every demand the search finds within the agent's reach, and no other."""
    agent, found, other, foreign = cast
    auth.login(agent)
    response = client.post(
        "/console/tickets/bulk?q=fatura&source=search",
        data={"all_matching": "1", "add_tags": "lote"},
        follow_redirects=True,
    )
    assert "3 changed" in response.get_data(as_text=True)
    db.session.expire_all()
    tagged = db.session.scalars(
        sa.select(Ticket.id).where(Ticket.tags.any(name="lote")).order_by(Ticket.id)
    ).all()
    assert tagged == [t.id for t in found]
    assert other.id not in tagged and foreign.id not in tagged


def test_matching_count_is_bounded(client, auth, cast, monkeypatch):
    import helpdesk.bulk.services as bulk
    import helpdesk.console.search as search

    agent, found, _, _ = cast
    monkeypatch.setattr(bulk, "MAX_TICKETS", 2)
    monkeypatch.setattr(search, "MAX_TICKETS", 2)
    auth.login(agent)
    html = client.get("/console/search?q=fatura").get_data(as_text=True)
    assert "All demands matching this filter: 2+" in html
    queue = client.get("/console/?queue=department").get_data(as_text=True)
    assert "All demands matching this filter: 2+" in queue
    html = client.get("/console/?queue=department&tag=vip").get_data(as_text=True)
    assert "All demands matching this filter: 1" in html


def _tagged_tickets(make_ticket, agent, n, start=0):
    from helpdesk.tickets.tags import add_tags

    for i in range(start, start + n):
        add_tags(make_ticket(subject=f"Fatura {i}"), agent, [f"t{i % 7}", "lote"])


def test_search_query_count_does_not_grow_with_tagged_results(
    client, auth, db, make_user, make_ticket, count_queries
):
    agent = make_user("agent")
    _tagged_tickets(make_ticket, agent, 3)
    db.session.commit()
    auth.login(agent)
    client.get("/console/search?q=fatura")  # warm up

    def queries():
        with count_queries() as q:
            html = client.get("/console/search?q=fatura").get_data(as_text=True)
        return q.count, html.count("tag-chip")

    few, chips_few = queries()
    _tagged_tickets(make_ticket, agent, 17, start=3)
    db.session.commit()
    many, chips_many = queries()
    assert (chips_few, chips_many) == (6, 40)
    assert many == few


def test_queue_query_count_does_not_grow_with_tagged_rows(
    client, auth, db, make_user, make_ticket, count_queries
):
    agent = make_user("agent")
    _tagged_tickets(make_ticket, agent, 5)
    db.session.commit()
    auth.login(agent)
    client.get("/console/?queue=department")  # warm up

    def queries():
        with count_queries() as q:
            html = client.get("/console/?queue=department").get_data(as_text=True)
        return q.count, html.count('class="row-check"')

    few, rows_few = queries()
    _tagged_tickets(make_ticket, agent, 25, start=5)
    db.session.commit()
    many, rows_many = queries()
    assert (rows_few, rows_many) == (5, 30)
    assert many == few
