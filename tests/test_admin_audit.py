"""The admin audit log: every change to the setup, through the console and the API, with its
author, before and after, in one hash chain that `audit verify` checks."""

from __future__ import annotations

import json

import sqlalchemy as sa

from helpdesk.audit.models import AdminAuditEntry
from helpdesk.audit.services import verify_entries
from tests import test_api_support as support
from tests.test_api_support import API, headers

cast = support.cast
token_for = support.token_for


def _entries(db, kind=None):
    stmt = sa.select(AdminAuditEntry).order_by(AdminAuditEntry.id)
    if kind:
        stmt = stmt.where(AdminAuditEntry.entity_type == kind)
    return db.session.scalars(stmt).all()


def test_api_admin_writes_are_logged_and_chained(client, db, cast):
    admin = headers(cast, "admin")
    assert (
        client.post(f"{API}/departments", json={"name": "Cobrança"}, headers=admin).status_code
        == 201
    )
    assert (
        client.post(f"{API}/categories", json={"name": "Billing"}, headers=admin).status_code == 201
    )
    created = client.post(
        f"{API}/routing-rules",
        json={"name": "Fatura", "keywords": ["fatura"], "department": "Department Y"},
        headers=admin,
    )
    assert created.status_code == 201
    rule_id = created.get_json()["id"]
    changed = client.patch(
        f"{API}/routing-rules/{rule_id}", json={"priority": "urgent"}, headers=admin
    )
    assert changed.status_code == 200
    kinds = [(e.entity_type, e.action, e.source) for e in _entries(db)]
    assert ("department", "created", "api") in kinds
    assert ("category", "created", "api") in kinds
    assert ("routing_rule", "created", "api") in kinds
    update = _entries(db, "routing_rule")[-1]
    assert update.action == "updated" and update.actor_id == cast.admin.id
    before, after = json.loads(update.changes)["priority"]
    assert after != before
    checked, broken, _ = verify_entries(db.session.connection())
    assert checked == len(_entries(db)) and broken is None


def test_console_changes_are_logged_with_role_and_deactivation(client, db, make_user, auth):
    admin = make_user(role="admin")
    agent = make_user(role="agent", email="bea@example.com")
    auth.login(admin)
    assert (
        client.post(
            "/admin/departments/new", data={"name": "Ouvidoria 2", "active": "y"}
        ).status_code
        == 302
    )
    assert client.post(f"/admin/users/{agent.id}/deactivate").status_code == 302
    db.session.expire_all()
    entries = _entries(db)
    assert ("department", "created", "console") in [
        (e.entity_type, e.action, e.source) for e in entries
    ]
    off = _entries(db, "user")[-1]
    assert off.action == "deactivated" and off.entity_label == "bea@example.com"
    assert off.actor_id == admin.id and json.loads(off.changes) == {"active": [True, False]}


def test_a_changed_entry_breaks_the_admin_chain(client, db, cast):
    admin = headers(cast, "admin")
    client.post(f"{API}/departments", json={"name": "A1"}, headers=admin)
    client.post(f"{API}/departments", json={"name": "A2"}, headers=admin)
    first = _entries(db)[0]
    db.session.execute(
        sa.text("UPDATE admin_audit_entries SET changes = '{}' WHERE id = :id"), {"id": first.id}
    )
    _, broken, reason = verify_entries(db.session.connection())
    assert broken == first.id and reason == "altered"


def test_changes_outside_an_admin_action_are_not_logged(db, make_user):
    make_user(role="agent")
    db.session.flush()
    assert _entries(db) == []


# the screen -------------------------------------------------------------------------------------


def _page(client, query=""):
    response = client.get(f"/admin/audit{query}")
    return response.status_code, response.get_data(as_text=True)


def test_the_audit_screen_filters_by_who_kind_and_dates_with_before_and_after(
    app, client, db, make_user
):
    from datetime import timedelta

    from helpdesk.core.clock import now
    from tests.test_portal_support import IsolatedClient, login_as

    ana = make_user(role="admin", name="Ana Admin")
    bruno = make_user(role="admin", name="Bruno Admin")
    agent = make_user(role="agent", email="bea@example.com")
    login_as(client, ana)
    assert (
        client.post(
            "/admin/departments/new", data={"name": "Ouvidoria 2", "active": "y"}
        ).status_code
        == 302
    )
    other = IsolatedClient(app, app.response_class)
    login_as(other, bruno)
    assert other.post(f"/admin/users/{agent.id}/deactivate").status_code == 302
    # an older entry, two weeks ago
    db.session.execute(
        sa.update(AdminAuditEntry)
        .where(AdminAuditEntry.entity_type == "department")
        .values(created_at=now() - timedelta(days=14))
    )
    db.session.commit()

    status, html = _page(client)
    assert status == 200
    assert "Ouvidoria 2" in html and "bea@example.com" in html
    assert "<del>✓</del>" in html and "<ins>✗</ins>" in html  # active: before → after

    status, html = _page(client, f"?actor={bruno.id}")
    assert status == 200 and "bea@example.com" in html and "Ouvidoria 2" not in html
    status, html = _page(client, "?entity=department")
    assert status == 200 and "Ouvidoria 2" in html and "bea@example.com" not in html
    today = now().date()
    status, html = _page(client, f"?since={(today - timedelta(days=2)).isoformat()}")
    assert status == 200 and "bea@example.com" in html and "Ouvidoria 2" not in html
    until = (today - timedelta(days=7)).isoformat()
    status, html = _page(client, f"?until={until}")
    assert status == 200 and "Ouvidoria 2" in html and "bea@example.com" not in html

    # bad input: a clear 400, never a 500
    status, html = _page(client, f"?since={today.isoformat()}&until={until}")
    assert status == 400 and "The end date is before the start date." in html
    assert _page(client, "?since=yesterday")[0] == 400
    assert _page(client, "?entity=nonsense")[0] == 400
    assert _page(client, "?actor=999999")[0] == 400
    assert _page(client, "?before=abc")[0] == 400


def test_the_audit_screen_speaks_portuguese_and_spanish(client, db, make_user):
    from tests.test_portal_support import login_as

    admin = make_user(role="admin", locale="pt_BR")
    login_as(client, admin)
    client.post("/admin/departments/new", data={"name": "Ouvidoria 3", "active": "y"})
    status, html = _page(client)
    assert status == 200 and "Registro de auditoria" in html and "Departamento" in html
    client.post("/account", data={"action": "profile", "name": "A", "language": "es"})
    status, html = _page(client)
    assert "Registro de auditoría" in html


def test_only_admins_see_the_audit_screen(client, db, make_user):
    from tests.test_portal_support import login_as

    login_as(client, make_user(role="supervisor"))
    assert client.get("/admin/audit").status_code == 403


def test_anonymising_a_customer_empties_the_admin_entries_about_their_login(client, db, make_user):
    from helpdesk.compliance.anonymise import anonymise_customer
    from helpdesk.customers.models import Customer
    from tests.test_portal_support import login_as

    admin = make_user(role="admin")
    login_as(client, admin)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "rosa.lima@example.com",
            "name": "Rosa Lima",
            "role": "customer",
            "password": "a long unusual phrase",
        },
    )
    assert response.status_code == 302
    entry = _entries(db, "user")[-1]
    assert "rosa" in (entry.entity_label + entry.changes).lower()
    customer = db.session.scalar(sa.select(Customer).where(Customer.user_id == entry.entity_id))
    anonymise_customer(customer)
    db.session.commit()
    db.session.expire_all()
    entry = db.session.get(AdminAuditEntry, entry.id)
    assert "rosa" not in (entry.entity_label + entry.changes).lower()
    assert entry.text_digest
    _, broken, _ = verify_entries(db.session.connection())
    assert broken is None
