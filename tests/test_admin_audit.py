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
