"""Administration → Tags: the list with how many demands carry each tag (one query, whatever the
number of tags), create with a colour (hex checked) and the curated flag, rename (the demands keep
the tag and search finds it by its new name), recolour, delete after a page that says how many
demands lose it; admins only."""
# ruff: noqa: F811 - pytest fixtures imported from test_admin_support are parameters here

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from .test_admin_support import ac, admin, count, new_client, post, text  # noqa: F401


@pytest.fixture
def tagged(db, admin, make_ticket):
    from helpdesk.tickets.tags import add_tags, create_tag

    vip = create_tag(admin, name="VIP", color="#2563eb")
    tickets = [make_ticket(subject=f"Cobrança {n}") for n in range(3)]
    for ticket in tickets:
        add_tags(ticket, admin, ["vip"])
    add_tags(tickets[0], admin, ["boleto"])
    db.session.commit()
    return vip, tickets


def _rows(html: str) -> list[tuple[str, str]]:
    """(tag name, demands count) as the list shows them."""
    return re.findall(
        r'tag-c\d+">([^<]+)</span>.*?<td data-label="Demands"[^>]*><a [^>]+>(\d+)</a>', html, re.S
    )


def test_list_with_usage_counts(ac, tagged):
    html = text(ac.get("/admin/tags"))
    assert _rows(html) == [("boleto", "1"), ("vip", "3")]
    assert "Curated" in html and "Free (made while tagging)" in html
    assert _rows(text(ac.get("/admin/tags?sort=use"))) == [("vip", "3"), ("boleto", "1")]
    assert ac.get("/admin/tags?sort=odd").status_code == 400
    assert 'href="/admin/tags"' in text(ac.get("/admin/"))


def test_list_query_count_does_not_grow_with_tags(ac, db, admin, make_ticket, count_queries):
    from helpdesk.tickets.tags import add_tags, create_tag

    def queries():
        with count_queries() as q:
            assert ac.get("/admin/tags").status_code == 200
        return q.count

    ticket = make_ticket()
    for n in range(2):
        create_tag(admin, name=f"few {n}")
    add_tags(ticket, admin, ["few 0"])
    db.session.commit()
    few = queries()
    for n in range(15):
        create_tag(admin, name=f"many {n}", color="#10b981")
    add_tags(ticket, admin, [f"many {n}" for n in range(10)])
    db.session.commit()
    assert queries() == few


def test_create_with_colour_and_curated_flag(ac, db):
    from helpdesk.tickets.models import Tag

    response = post(
        ac, "/admin/tags/new", {"name": "  Segunda   Via ", "color": "#FF8800", "curated": "y"}
    )
    assert response.status_code == 302
    tag = db.session.scalar(sa.select(Tag).where(Tag.name == "segunda via"))
    assert (tag.color, tag.curated) == ("#ff8800", True)
    assert f".tag-c{tag.id}{{background:#ff8800" in text(ac.get("/console/tags.css"))
    page = text(ac.get("/admin/tags/new"))
    assert 'type="color"' in page


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"name": "vip", "color": "#000000"}, "name", "already exists"),
        ({"name": "<script>", "color": "#000000"}, "name", "is not a valid tag"),
        ({"name": "novo", "color": "red"}, "color", "#rrggbb"),
        ({"name": "novo", "color": "#12345g"}, "color", "#rrggbb"),
    ],
)
def test_bad_input_is_shown_on_the_field(ac, db, tagged, data, field, message):
    from helpdesk.tickets.models import Tag

    before = count(db, Tag)
    response = post(ac, "/admin/tags/new", data)
    assert response.status_code == 400
    html = text(response)
    block = re.search(
        rf'<div class="field[^"]*has-error[^"]*">(?:(?!<div class="field).)*?id="{field}"'
        r'(?:(?!<div class="field).)*',
        html,
        re.S,
    )
    assert block and message in block.group(0)
    assert count(db, Tag) == before


def test_rename_and_recolour_keep_the_demands_and_search_follows(
    ac, db, tagged, new_client, make_user
):
    from helpdesk.tickets.models import Tag

    vip, tickets = tagged
    response = post(
        ac, f"/admin/tags/{vip.id}", {"name": "Cliente Ouro", "color": "#d97706", "curated": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    tag = db.session.get(Tag, vip.id)
    assert (tag.name, tag.color) == ("cliente ouro", "#d97706")
    assert {t.name for t in tickets[1].tags} == {"cliente ouro"}
    found = text(ac.get("/console/search?q=ouro&jump=0"))
    assert all(t.protocol in found for t in tickets)


def test_delete_after_confirmation_says_how_many_lose_it(ac, db, tagged):
    from helpdesk.tickets.models import Tag

    vip, tickets = tagged
    vip_id = vip.id
    page = ac.get(f"/admin/tags/{vip_id}/delete")
    assert page.status_code == 200
    assert "3 demands lose this tag." in text(page)
    assert db.session.get(Tag, vip_id) is not None
    response = post(ac, f"/admin/tags/{vip_id}/delete")
    assert response.status_code == 302
    assert "no longer carry it" in text(ac.get("/admin/tags"))
    db.session.expire_all()
    assert db.session.get(Tag, vip_id) is None
    assert [t.name for t in tickets[0].tags] == ["boleto"]


ROUTES = ("/admin/tags", "/admin/tags/new", "/admin/tags/{id}", "/admin/tags/{id}/delete")


@pytest.mark.parametrize("role", ["anonymous", "customer", "agent", "supervisor", "admin"])
def test_access_matrix(new_client, db, make_user, admin, tagged, role):
    from helpdesk.tickets.models import Tag

    vip = tagged[0]
    if role in ("anonymous", "admin"):
        user = admin if role == "admin" else None
    else:
        user = make_user(role, password=None)
    db.session.commit()
    client = new_client(user)
    for route in ROUTES:
        response = client.get(route.format(id=vip.id))
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == (200 if role == "admin" else 403), route
    if role != "admin":
        for route, data in (
            ("/admin/tags/new", {"name": "intrusa"}),
            ("/admin/tags/{id}", {"name": "mudada", "color": "#000000"}),
            ("/admin/tags/{id}/delete", {}),
        ):
            response = post(client, route.format(id=vip.id), data)
            assert response.status_code in ((302,) if role == "anonymous" else (403,))
        db.session.expire_all()
        assert db.session.get(Tag, vip.id).name == "vip"
        assert count(db, Tag) == 2


def test_unknown_tag_is_404(ac):
    for route in ("/admin/tags/999999", "/admin/tags/999999/delete"):
        assert ac.get(route).status_code == 404


@pytest.mark.csrf
def test_posts_without_csrf_are_400(ac, db, tagged):
    from helpdesk.tickets.models import Tag

    vip = tagged[0]
    assert ac.post("/admin/tags/new", data={"name": "sem token"}).status_code == 400
    assert ac.post(f"/admin/tags/{vip.id}/delete").status_code == 400
    assert count(db, Tag) == 2
