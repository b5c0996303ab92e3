"""Who may use the admin pages: the permission matrix over every route, methods, CSRF, escaping."""
# ruff: noqa: F811 - pytest fixtures imported from test_admin_support are parameters here

from __future__ import annotations

import pytest

from tests.conftest import module_world

from .test_admin_support import (  # noqa: F401 - fixtures
    ac,
    admin,
    count,
    new_client,
    post,
    text,
    token,
)

GET_ROUTES = [
    "/admin/",
    "/admin/departments",
    "/admin/departments/new",
    "/admin/departments/{dept}",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/categories",
    "/admin/categories/new",
    "/admin/categories/{category}",
    "/admin/rules",
    "/admin/rules/new",
    "/admin/rules/{rule}",
    "/admin/tags",
    "/admin/tags/new",
    "/admin/tags/{tag}",
    "/admin/tags/{tag}/delete",
    "/admin/audit",
]
POST_ROUTES = [
    "/admin/departments/new",
    "/admin/departments/{dept}",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/users/{user}/deactivate",
    "/admin/users/{user}/reactivate",
    "/admin/categories/new",
    "/admin/categories/{category}",
    "/admin/rules/new",
    "/admin/rules/{rule}",
    "/admin/rules/{rule}/move",
    "/admin/tags/new",
    "/admin/tags/{tag}",
]
POST_ONLY = [
    "/admin/users/{user}/deactivate",
    "/admin/users/{user}/reactivate",
    "/admin/rules/{rule}/move",
]
PRINCIPALS = ["anonymous", "customer_a", "customer_b", "agent_x", "agent_y", "supervisor", "admin"]


@module_world
def world(db, make_department, make_user, admin):
    """Two departments, people of every role, a category and a rule."""
    from helpdesk.routing.services import create_rule
    from helpdesk.tickets.categories import create_category
    from helpdesk.tickets.tags import create_tag

    x = make_department("Billing")
    y = make_department("Technical")
    people = {  # no passwords: hashing is slow and these tests sign in through the session
        "customer_a": make_user(role="customer", password=None),
        "customer_b": make_user(role="customer", password=None),
        "agent_x": make_user(role="agent", departments=[x], password=None),
        "agent_y": make_user(role="agent", departments=[y], password=None),
        "supervisor": make_user(role="supervisor", password=None),
        "admin": admin,
    }
    target = make_user(role="agent", departments=[x], name="Target Agent", password=None)
    category = create_category(name="Billing errors")
    rule = create_rule(name="Billing to billing", department_id=x.id)
    tag = create_tag(admin, name="vip")
    db.session.commit()
    ids = {
        "dept": x.id,
        "user": target.id,
        "category": category.id,
        "rule": rule.id,
        "tag": tag.id,
    }
    return people, ids


def _client_for(new_client, world, who):
    people, _ids = world
    return new_client(None if who == "anonymous" else people[who])


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("route", GET_ROUTES)
def test_get_matrix(new_client, world, who, route):
    client = _client_for(new_client, world, who)
    response = client.get(route.format(**world[1]))
    if who == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    elif who == "admin":
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("route", POST_ROUTES)
def test_post_matrix(new_client, world, who, route, db):
    from helpdesk.accounts.models import User

    client = _client_for(new_client, world, who)
    path = route.format(**world[1])
    response = post(client, path, {"name": "Changed by someone", "direction": "up"})
    if who == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    elif who == "admin":
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
    if who != "admin":
        target = db.session.get(User, world[1]["user"])
        db.session.refresh(target)
        assert target.name == "Target Agent" and target.active


@pytest.mark.parametrize("route", POST_ONLY)
def test_get_on_post_only_routes_is_405(ac, world, route):
    assert ac.get(route.format(**world[1])).status_code == 405


@pytest.mark.parametrize(
    "route",
    [
        "/admin/departments/new",
        "/admin/users/{user}/deactivate",
        "/admin/categories/new",
        "/admin/rules/{rule}/move",
    ],
)
@pytest.mark.csrf
def test_post_without_csrf_is_400_and_changes_nothing(ac, world, route, db):
    from helpdesk.accounts.models import Department
    from helpdesk.tickets.models import Category

    before = (count(db, Department), count(db, Category))
    response = ac.post(route.format(**world[1]), data={"name": "No token", "direction": "up"})
    assert response.status_code == 400
    assert (count(db, Department), count(db, Category)) == before


def test_unknown_ids_are_404(ac, world):
    for path in (
        "/admin/departments/999999",
        "/admin/users/999999",
        "/admin/categories/999999",
        "/admin/rules/999999",
    ):
        assert ac.get(path).status_code == 404
    assert post(ac, "/admin/users/999999/deactivate").status_code == 404


XSS = '<img src=x onerror=alert(1)><script>alert("x")</script>'


def test_xss_in_department_and_category_names_is_escaped(ac, db, default_department):
    response = post(ac, "/admin/departments/new", {"name": XSS, "active": "y"})
    assert response.status_code == 302
    response = post(
        ac, "/admin/categories/new", {"name": XSS, "kinds": ["complaint"], "active": "y"}
    )
    assert response.status_code == 302
    for page in ("/admin/departments", "/admin/categories", "/admin/rules/new"):
        html = text(ac.get(page))
        assert "<img src=x" not in html and '<script>alert("x")' not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "script-src 'self'" in ac.get("/admin/departments").headers["Content-Security-Policy"]


def test_oversized_and_malformed_input_is_4xx_not_500(ac, world):
    assert post(ac, "/admin/departments/new", {"name": "x" * 100_000}).status_code == 200
    assert ac.get("/admin/users?after=abc").status_code == 400
    assert ac.get("/admin/users?role=wizard").status_code == 400
    assert (
        post(
            ac, "/admin/rules/{rule}/move".format(**world[1]), {"direction": "sideways"}
        ).status_code
        == 400
    )
    response = post(ac, "/admin/rules/new", {"name": "R", "department_id": "not-a-number"})
    assert response.status_code == 200
    assert "Not a valid choice" in text(response) or "error" in text(response)
