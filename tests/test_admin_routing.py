"""Admin pages for categories and routing rules: CRUD, ordering, and the preview that saves nothing."""
# ruff: noqa: F811 - pytest fixtures imported from test_admin_support are parameters here

from __future__ import annotations

import pytest
import sqlalchemy as sa

from .test_admin_support import (  # noqa: F401 - fixtures
    ac,
    admin,
    count,
    new_client,
    post,
    text,
)


def _category(db, name):
    from helpdesk.tickets.models import Category

    return db.session.scalar(sa.select(Category).where(Category.name == name))


def _rule(db, name):
    from helpdesk.routing.models import RoutingRule

    return db.session.scalar(sa.select(RoutingRule).where(RoutingRule.name == name))


# categories ------------------------------------------------------------------------------------


def test_create_and_edit_category(ac, db):
    response = post(
        ac,
        "/admin/categories/new",
        {
            "name": "Billing",
            "name_pt_br": "Cobrança",
            "name_es": "Facturación",
            "kinds": ["complaint", "request"],
            "active": "y",
            "position": "5",
        },
    )
    assert response.status_code == 302
    html = text(ac.get("/admin/categories"))
    assert "Billing" in html and "Cobrança" in html and "Facturación" in html
    category = _category(db, "Billing")
    assert category.kinds == ["complaint", "request"] and category.position == 5

    response = post(
        ac,
        f"/admin/categories/{category.id}",
        {"name": "Billing and invoices", "name_pt_br": "Faturas", "kinds": ["suggestion"]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    category = _category(db, "Billing and invoices")
    assert category.kinds == ["suggestion"] and not category.active
    assert category.name_pt_br == "Faturas" and category.name_es == ""
    assert "Billing and invoices" in text(ac.get("/admin/categories"))


def test_category_needs_a_kind(ac, db):
    from helpdesk.tickets.models import Category

    response = post(ac, "/admin/categories/new", {"name": "Nothing", "active": "y"})
    assert response.status_code == 200
    assert "Choose at least one kind of demand for this category." in text(response)
    assert count(db, Category) == 0


def test_duplicate_category_name_is_a_field_error(ac, db):
    from helpdesk.tickets.categories import create_category

    create_category(name="Delivery")
    db.session.commit()
    response = post(ac, "/admin/categories/new", {"name": "delivery", "kinds": ["complaint"]})
    assert response.status_code == 200
    assert "A category with this name already exists." in text(response)


def test_unknown_kind_is_refused(ac, db):
    response = post(ac, "/admin/categories/new", {"name": "Odd", "kinds": ["wish"]})
    assert response.status_code == 200
    assert _category(db, "Odd") is None


def test_category_service_validates_lengths_and_kinds(db):
    from helpdesk.core.errors import ValidationError
    from helpdesk.tickets.categories import create_category

    with pytest.raises(ValidationError) as exc:
        create_category(name="x" * 121)
    assert exc.value.field == "name"
    with pytest.raises(ValidationError) as exc:
        create_category(name="Ok", name_es="y" * 121)
    assert exc.value.field == "name_es"
    with pytest.raises(ValidationError) as exc:
        create_category(name="Ok", kinds=[])
    assert exc.value.field == "kinds"


def test_category_list_query_count_does_not_grow(ac, db, count_queries):
    from helpdesk.tickets.categories import create_category

    create_category(name="First")
    db.session.commit()
    ac.get("/admin/categories")
    db.session.expire_all()
    with count_queries() as few:
        ac.get("/admin/categories")
    for i in range(10):
        create_category(name=f"Cat {i}")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        ac.get("/admin/categories")
    assert many.count == few.count


# routing rules ---------------------------------------------------------------------------------


@pytest.fixture
def teams(db, default_department, make_department, make_user):
    billing = make_department("Billing")
    tech = make_department("Technical")
    biller = make_user(role="agent", name="Bia Biller", departments=[billing], password=None)
    techie = make_user(role="agent", name="Tito Techie", departments=[tech], password=None)
    return {"billing": billing, "tech": tech, "biller": biller, "techie": techie}


def _rule_form(department, **extra):
    data = {"name": "Rule", "active": "y", "department_id": str(department.id), "key_account": ""}
    data.update(extra)
    return data


def test_create_and_edit_rule(ac, db, teams):
    response = post(
        ac,
        "/admin/rules/new",
        _rule_form(
            teams["billing"],
            name="Refunds",
            kind="complaint",
            channel="phone",
            keywords="refund, estorno ,",
            segment="premium",
            key_account="yes",
            priority="3",
            agent_id=str(teams["biller"].id),
        ),
    )
    assert response.status_code == 302
    rule = _rule(db, "Refunds")
    assert (rule.kind, rule.channel, rule.keywords, rule.segment) == (
        "complaint",
        "phone",
        "refund,estorno",
        "premium",
    )
    assert rule.key_account is True and rule.priority == 3 and rule.agent_id == teams["biller"].id
    html = text(ac.get("/admin/rules"))
    assert "Refunds" in html and "Bia Biller" in html

    edit = text(ac.get(f"/admin/rules/{rule.id}"))
    assert 'value="Refunds"' in edit and '<option selected value="yes">' in edit

    response = post(
        ac,
        f"/admin/rules/{rule.id}",
        _rule_form(teams["tech"], name="Refunds (tech)", key_account="no", action="save"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    rule = _rule(db, "Refunds (tech)")
    assert rule.department_id == teams["tech"].id and rule.key_account is False
    assert rule.kind is None and rule.agent_id is None and rule.priority is None


def test_agent_must_belong_to_the_department(ac, db, teams):
    from helpdesk.routing.models import RoutingRule

    response = post(
        ac,
        "/admin/rules/new",
        _rule_form(teams["billing"], name="Wrong agent", agent_id=str(teams["techie"].id)),
    )
    assert response.status_code == 200
    assert "The agent must be a member of the chosen department." in text(response)
    assert count(db, RoutingRule) == 0


def test_rule_needs_a_department(ac, db, teams):
    response = post(ac, "/admin/rules/new", {"name": "Nowhere", "department_id": ""})
    assert response.status_code == 200
    assert _rule(db, "Nowhere") is None


def _make_rules(db, teams):
    from helpdesk.routing.services import create_rule

    first = create_rule(
        name="Complaints to billing", kind="complaint", department_id=teams["billing"].id
    )
    second = create_rule(name="Phone to technical", channel="phone", department_id=teams["tech"].id)
    db.session.commit()
    return first, second


def _preview(ac, **sample):
    query = {"preview": "1", "kind": "complaint", "channel": "phone", **sample}
    return text(ac.get("/admin/rules", query_string=query))


def test_moving_a_rule_changes_which_rule_wins(ac, db, teams):
    first, second = _make_rules(db, teams)
    html = _preview(ac)
    assert "<strong>Complaints to billing</strong>" in html

    response = post(ac, f"/admin/rules/{second.id}/move", {"direction": "up"})
    assert response.status_code == 302
    listing = text(ac.get("/admin/rules"))
    assert listing.index("Phone to technical") < listing.index("Complaints to billing")
    html = _preview(ac)
    assert "<strong>Phone to technical</strong>" in html and "<dd>Technical</dd>" in html

    post(ac, f"/admin/rules/{second.id}/move", {"direction": "down"})
    assert "<strong>Complaints to billing</strong>" in _preview(ac)


def test_preview_on_the_list_shows_the_default_when_nothing_matches(ac, db, teams):
    _make_rules(db, teams)
    html = _preview(ac, kind="request", channel="web")
    assert "No rule matches: the default department receives it." in html
    assert "<dd>SAC</dd>" in html


def test_preview_with_unsaved_rule_wins_and_saves_nothing(ac, db, teams):
    from helpdesk.routing.models import RoutingRule

    first, second = _make_rules(db, teams)
    before = count(db, RoutingRule)
    response = post(
        ac,
        f"/admin/rules/{second.id}",
        _rule_form(
            teams["tech"],
            name="Phone and estorno to technical",
            channel="phone",
            keywords="estorno",
            priority="4",
            agent_id=str(teams["techie"].id),
            action="preview",
            **{
                "sample-kind": "complaint",
                "sample-channel": "phone",
                "sample-subject": "Quero o estorno",
            },
        ),
    )
    html = text(response)
    assert response.status_code == 200
    assert "<strong>Phone and estorno to technical</strong>" in html
    assert "this rule, unsaved" in html and "Tito Techie" in html
    assert count(db, RoutingRule) == before
    db.session.expire_all()
    saved = db.session.get(RoutingRule, second.id)
    assert saved.name == "Phone to technical" and saved.keywords == "" and saved.priority is None

    # without the keyword the unsaved rule does not match; the saved first rule wins again
    response = post(
        ac,
        f"/admin/rules/{second.id}",
        _rule_form(
            teams["tech"],
            name="Phone and estorno to technical",
            keywords="estorno",
            action="preview",
            **{"sample-kind": "complaint", "sample-channel": "phone", "sample-subject": "Oi"},
        ),
    )
    assert "<strong>Complaints to billing</strong>" in text(response)
    assert count(db, RoutingRule) == before


def test_preview_of_a_new_rule_saves_nothing(ac, db, teams):
    from helpdesk.routing.models import RoutingRule

    response = post(
        ac,
        "/admin/rules/new",
        _rule_form(
            teams["billing"],
            name="Draft",
            action="preview",
            **{"sample-kind": "suggestion", "sample-channel": "web"},
        ),
    )
    assert "<strong>Draft</strong>" in text(response)
    assert count(db, RoutingRule) == 0


def test_preview_of_an_invalid_rule_shows_the_error(ac, db, teams):
    response = post(
        ac,
        "/admin/rules/new",
        _rule_form(
            teams["billing"],
            name="Bad",
            agent_id=str(teams["techie"].id),
            action="preview",
            **{"sample-kind": "complaint", "sample-channel": "web"},
        ),
    )
    assert "The agent must be a member of the chosen department." in text(response)


def test_rule_list_query_count_does_not_grow(ac, db, teams, count_queries):
    from helpdesk.routing.services import create_rule
    from helpdesk.tickets.categories import create_category

    category = create_category(name="Cat")
    create_rule(name="R0", department_id=teams["billing"].id, category_id=category.id)
    db.session.commit()
    ac.get("/admin/rules")
    db.session.expire_all()
    with count_queries() as few:
        ac.get("/admin/rules")
    for i in range(10):
        create_rule(
            name=f"R{i + 1}",
            department_id=teams["billing"].id,
            agent_id=teams["biller"].id,
            category_id=category.id,
        )
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        ac.get("/admin/rules")
    assert many.count <= few.count + 1  # the agent relationship: one more IN query, not one per row
