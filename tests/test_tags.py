"""Tags: names normalised, free or curated-only, one event per change, the API's filter and
PATCH, search by tag, and list pages whose query count does not grow with their rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, headers

cast = support.cast
token_for = support.token_for


def _events(db, ticket, action):
    from helpdesk.tickets.models import TicketEvent

    return list(
        db.session.scalars(
            sa.select(TicketEvent.new_value if action == "tagged" else TicketEvent.old_value)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action)
            .order_by(TicketEvent.id)
        )
    )


@pytest.mark.parametrize(
    ("raw", "name"),
    [("  Boleto   Atrasado ", "boleto atrasado"), ("VIP", "vip"), ("2ª via", "2ª via")],
)
def test_names_are_normalised(app, raw, name):
    from helpdesk.tickets.tags import normalize_tag_name

    with app.test_request_context():
        assert normalize_tag_name(raw) == name


@pytest.mark.parametrize("raw", ["", "   ", "x" * 61, "<script>", "{{ x }}", "_hidden"])
def test_bad_names_are_refused(app, raw):
    from helpdesk.core.errors import ValidationError
    from helpdesk.tickets.tags import normalize_tag_name

    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        with pytest.raises(ValidationError) as err:
            normalize_tag_name(raw)
        assert str(err.value)  # a sentence, in the reader's language


def test_add_and_remove_make_one_event_each(db, make_ticket, make_user):
    from helpdesk.tickets.tags import add_tags, remove_tags

    agent = make_user("agent")
    ticket = make_ticket()
    assert add_tags(ticket, agent, ["Boleto", "boleto ", "VIP"]) == ["boleto", "vip"]
    assert add_tags(ticket, agent, ["vip"]) == []  # already there: no event
    db.session.commit()
    assert [t.name for t in ticket.tags] == ["boleto", "vip"]
    assert remove_tags(ticket, agent, ["VIP", "unknown"]) == ["vip"]
    db.session.commit()
    assert _events(db, ticket, "tagged") == ["boleto", "vip"]
    assert _events(db, ticket, "untagged") == ["vip"]


def test_curated_only_mode_refuses_new_names(app, db, make_ticket, make_user):
    from helpdesk.core.errors import ValidationError
    from helpdesk.tickets.tags import add_tags, create_tag

    admin = make_user("admin")
    agent = make_user("agent")
    create_tag(admin, name="Fraude", color="#dc2626")
    ticket = make_ticket()
    app.config["FREE_TAGS"] = False
    with pytest.raises(ValidationError):
        add_tags(ticket, agent, ["invented"])
    db.session.rollback()
    assert add_tags(ticket, agent, ["fraude"]) == ["fraude"]


def test_colour_is_validated(db, make_user):
    from helpdesk.core.errors import ValidationError
    from helpdesk.tickets.tags import create_tag

    with pytest.raises(ValidationError):
        create_tag(make_user("admin"), name="x", color="red")


# API ----------------------------------------------------------------------------------------------


def test_patch_tags_then_filter_and_search(client, cast):
    protocol = cast.ticket_a.protocol
    hdrs = headers(cast, "agent_x")
    got = client.patch(
        f"{API}/tickets/{protocol}", json={"tags": ["Segunda Via", "vip"]}, headers=hdrs
    )
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.get_json()["tags"] == ["segunda via", "vip"]
    got = client.patch(f"{API}/tickets/{protocol}", json={"remove_tags": ["vip"]}, headers=hdrs)
    assert got.get_json()["tags"] == ["segunda via"]

    listed = client.get(f"{API}/tickets?tag=Segunda%20Via", headers=hdrs).get_json()
    assert [i["protocol"] for i in listed["items"]] == [protocol]
    assert listed["items"][0]["tags"] == ["segunda via"]
    assert client.get(f"{API}/tickets?tag=vip", headers=hdrs).get_json()["items"] == []
    # the tag is searchable, alone and with the list's other filters
    found = client.get(f"{API}/tickets?q=segunda&tag=segunda via", headers=hdrs).get_json()
    assert [i["protocol"] for i in found["items"]] == [protocol]
    # another department's agent neither finds nor filters it
    other = headers(cast, "agent_y")
    assert client.get(f"{API}/tickets?tag=segunda via", headers=other).get_json()["items"] == []
    # customers do not see the team's labels
    own = client.get(f"{API}/tickets/{protocol}", headers=headers(cast, "customer_a")).get_json()
    assert "tags" not in own


def test_bad_tag_filter_is_a_400(client, cast):
    response = client.get(f"{API}/tickets?tag=%3Cb%3E", headers=headers(cast, "agent_x"))
    body = assert_problem(response, 400)
    assert "tag" in body["errors"]


def test_list_tags(client, db, cast):
    from helpdesk.tickets.tags import create_tag

    create_tag(cast.admin, name="Fraude", color="#DC2626")
    db.session.commit()
    body = client.get(f"{API}/tags", headers=headers(cast, "agent_x")).get_json()
    assert body["items"][0] == {
        "id": body["items"][0]["id"],
        "name": "fraude",
        "color": "#dc2626",
        "curated": True,
    }
    assert body["free_tags"] is True


def test_renaming_a_tag_reindexes_its_tickets(client, db, cast):
    from helpdesk.tickets.models import Tag
    from helpdesk.tickets.tags import add_tags, update_tag

    add_tags(cast.ticket_a, cast.agent_x, ["chargeback"])
    db.session.commit()
    tag = db.session.scalar(sa.select(Tag).where(Tag.name == "chargeback"))
    update_tag(tag, cast.admin, name="estorno", color="#123456")
    db.session.commit()
    hdrs = headers(cast, "agent_x")
    found = client.get(f"{API}/tickets?q=estorno", headers=hdrs).get_json()["items"]
    assert [i["protocol"] for i in found] == [cast.ticket_a.protocol]
    assert client.get(f"{API}/tickets?q=chargeback", headers=hdrs).get_json()["items"] == []


def test_list_query_count_does_not_grow_with_tagged_rows(
    client, db, make_ticket, make_user, token_for, count_queries
):
    from helpdesk.tickets.tags import add_tags

    admin = make_user("admin", password=None)
    hdrs = support.bearer(token_for(admin))

    def page_queries():
        with count_queries() as q:
            assert client.get(f"{API}/tickets", headers=hdrs).status_code == 200
        return q.count

    for _ in range(2):
        add_tags(make_ticket(), admin, ["a", "b"])
    db.session.commit()
    few = page_queries()
    for _ in range(6):
        add_tags(make_ticket(), admin, ["a", "c"])
    db.session.commit()
    assert page_queries() == few
