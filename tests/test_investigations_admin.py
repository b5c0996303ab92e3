"""Admin page of Ishikawa sub-categories: admins only; add, refuse duplicates, deactivate."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.investigations.models import IshikawaSubcategory
from tests.conftest import csrf_from


@pytest.fixture
def people(make_user, make_department):
    dept_y = make_department("Finance")
    return {
        "anonymous": None,
        "customer": make_user("customer"),
        "agent_x": make_user("agent"),
        "agent_y": make_user("agent", departments=[dept_y]),
        "supervisor": make_user("supervisor"),
        "admin": make_user("admin"),
    }


@pytest.mark.parametrize(
    "role", ["anonymous", "customer", "agent_x", "agent_y", "supervisor", "admin"]
)
def test_admin_page_matrix(client, auth, people, role, db):
    if people[role] is not None:
        auth.login(people[role])
    response = client.get("/admin/ishikawa")
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
    elif role == "admin":
        assert response.status_code == 200 and "Measurement" in response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        page = "/console/" if role != "customer" else "/"
        token = csrf_from(client, page)
        r = client.post(
            "/admin/ishikawa", data={"category": "method", "name": "X", "csrf_token": token}
        )
        assert r.status_code == 403
        assert db.session.scalar(sa.select(sa.func.count(IshikawaSubcategory.id))) == 0


def test_admin_adds_and_deactivates(client, auth, people, db):
    auth.login(people["admin"])
    token = csrf_from(client, "/admin/ishikawa")
    data = {"category": "machine", "name": "Courier scanner", "csrf_token": token}
    assert client.post("/admin/ishikawa", data=data).status_code == 302
    again = client.post("/admin/ishikawa", data=data)
    assert again.status_code == 200 and "already exists" in again.get_data(as_text=True)
    sub = db.session.scalar(sa.select(IshikawaSubcategory))
    assert (sub.category, sub.name, sub.active) == ("machine", "Courier scanner", True)
    r = client.post(f"/admin/ishikawa/{sub.id}/toggle", data={"csrf_token": token})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(IshikawaSubcategory, sub.id).active is False
    assert client.post("/admin/ishikawa/999/toggle", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/admin/ishikawa/{sub.id}/toggle").status_code == 405
