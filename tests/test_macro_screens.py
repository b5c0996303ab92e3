"""Console → Macros: who sees which macros on the management list (admins all, supervisors their
departments' and their own, agents their own), the form's errors on the fields they concern, the
live preview against a demand, (de)activation and deletion after a confirmation page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from .test_console_support import *  # noqa: F403 - fixtures and helpers


def _macro(actor, name, scope="personal", department=None, **kw):
    from helpdesk.macros.services import MacroValues, create_macro

    values = MacroValues(
        name=name,
        scope=scope,
        department_id=department.id if department else None,
        body_pt_br=kw.pop("body", "Olá {{ customer.first_name }}"),
        **kw,
    )
    return create_macro(actor, values)


@pytest.fixture
def macros(db, world):
    made = {
        "global": _macro(world.admin, "Boas-vindas", "global"),
        "dept_x": _macro(world.supervisor, "Estorno Billing", "department", world.dept_x),
        "dept_y": _macro(world.admin, "Entrega Logistics", "department", world.dept_y),
        "mine_x": _macro(world.agent_x, "Minha resposta"),
        "mine_sup": _macro(world.supervisor, "Da supervisora"),
        "mine_y": _macro(world.agent_y, "Da Yara"),
    }
    made["mine_x"].usage_count = 7
    made["dept_x"].usage_count = 3
    db.session.commit()
    return made


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/console/macros/\d+"><strong>([^<]+)</strong>', html)


@pytest.mark.parametrize(
    "who,expected",
    [
        ("agent_x", ["Minha resposta"]),
        ("supervisor", ["Estorno Billing", "Da supervisora"]),
        (
            "admin",
            [
                "Minha resposta",
                "Estorno Billing",
                "Boas-vindas",
                "Da supervisora",
                "Da Yara",
                "Entrega Logistics",
            ],
        ),
    ],
)
def test_list_shows_what_each_role_manages_most_used_first(
    client, app, world, macros, who, expected
):
    login_as(client, app, getattr(world, who))  # noqa: F405
    html = client.get("/console/macros").get_data(as_text=True)
    assert _names(html) == expected
    if who == "admin":
        by_name = client.get("/console/macros?sort=name").get_data(as_text=True)
        assert _names(by_name) == sorted(expected, key=str.lower)
        scoped = client.get(f"/console/macros?scope=department&department={world.dept_y.id}")
        assert _names(scoped.get_data(as_text=True)) == ["Entrega Logistics"]


def test_list_filters_refuse_odd_values(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    assert client.get("/console/macros?scope=wizard").status_code == 400
    assert client.get("/console/macros?sort=random").status_code == 400
    assert client.get(f"/console/macros?department={world.dept_y.id}").status_code == 400


def test_the_console_navigation_leads_to_macros(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    assert 'href="/console/macros"' in client.get("/console/").get_data(as_text=True)


def _form(**kw):
    data = {
        "name": "Segunda via",
        "scope": "personal",
        "department": "",
        "body_pt_br": "Olá {{ customer.first_name }}, segue o boleto do {{ ticket.protocol }}.",
        "body_es": "",
        "body_en": "",
        "status": "",
        "priority": "",
        "assignee_id": "",
        "department_id": "",
        "transfer_reason": "",
        "tags": "",
        "note": "",
        "active": "y",
        "protocol": "",
    }
    data.update(kw)
    return data


def test_create_with_actions(client, app, db, world):
    from helpdesk.macros.models import Macro

    login_as(client, app, world.supervisor)  # noqa: F405
    data = _form(
        scope="department",
        department=str(world.dept_x.id),
        status="pending_customer",
        priority="high",
        department_id=str(world.dept_y.id),
        transfer_reason="Logística cuida disso",
        tags="segunda via, Boleto",
        note="Conferir o pagamento",
    )
    response = post_form(client, "/console/macros/new", data, csrf_path="/console/macros/new")  # noqa: F405
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    macro = db.session.scalar(sa.select(Macro).where(Macro.name == "Segunda via"))
    assert (macro.scope, macro.department_id) == ("department", world.dept_x.id)
    assert macro.actions == {
        "status": "pending_customer",
        "priority": "high",
        "department_id": world.dept_y.id,
        "transfer_reason": "Logística cuida disso",
        "tags": ["segunda via", "boleto"],
        "note": "Conferir o pagamento",
    }
    edit = client.get(f"/console/macros/{macro.id}").get_data(as_text=True)
    assert "segunda via, boleto" in edit and "Conferir o pagamento" in edit


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"body_es": "Hola {{ customer.cpf }}"}, "body_es", "Only these placeholders"),
        ({"body_en": "Hi {{ customer.first_name"}, "body_en", "broken placeholder"),
        ({"department_id": "__dept_y__"}, "transfer_reason", "A transfer needs a reason"),
        ({"tags": "<b>"}, "tags", "is not a valid tag"),
        ({"body_pt_br": "", "status": ""}, "body_pt_br", "at least one language"),
        ({"scope": "department"}, "department", "Choose the department"),
    ],
)
def test_errors_are_shown_on_their_fields_and_nothing_is_saved(
    client, app, db, world, changes, field, message
):
    from helpdesk.macros.models import Macro

    login_as(client, app, world.supervisor)  # noqa: F405
    changes = {k: str(world.dept_y.id) if v == "__dept_y__" else v for k, v in changes.items()}
    response = post_form(  # noqa: F405
        client, "/console/macros/new", _form(**changes), csrf_path="/console/macros/new"
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # the message follows the field's input, inside its .field block
    block = re.search(
        rf'<div class="field[^"]*has-error[^"]*">(?:(?!<div class="field).)*?id="{field}"(?:(?!<div class="field).)*',
        html,
        re.S,
    )
    assert block and message in block.group(0), html[:200]
    assert db.session.scalar(sa.select(sa.func.count(Macro.id))) == 0


def test_errors_are_translated(client, app, db, make_user, world):
    agent = make_user("agent", departments=[world.dept_x], locale="pt_BR")
    db.session.commit()
    login_as(client, app, agent)  # noqa: F405
    response = post_form(  # noqa: F405
        client,
        "/console/macros/new",
        _form(body_pt_br="Olá {{ cliente.nome }}"),
        csrf_path="/console/macros/new",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Only these placeholders" not in html
    assert "{{ customer.first_name }}" in html


def test_an_agent_may_not_make_a_macro_for_everyone(client, app, db, world):
    from helpdesk.macros.models import Macro

    login_as(client, app, world.agent_x)  # noqa: F405
    page = client.get("/console/macros/new").get_data(as_text=True)
    assert 'value="global"' not in page and 'value="department"' not in page
    response = post_form(  # noqa: F405
        client, "/console/macros/new", _form(scope="global"), csrf_path="/console/macros/new"
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Macro.id))) == 0


def test_preview_against_a_demand(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    token = csrf_for(client, "/console/macros/new")  # noqa: F405
    body = "Olá {{ customer.first_name }}, protocolo {{ ticket.protocol }}. {{ agent.name }}"
    answer = client.post(
        "/console/macros/preview",
        data={"csrf_token": token, "body_pt_br": body, "protocol": world.ticket_x.protocol},
    ).get_json()
    assert answer["error"] is None
    text = answer["previews"][0]["text"]
    assert text.startswith("Olá Diego, protocolo ") and text.endswith("Ana X")
    assert world.ticket_x.protocol[:8] in text
    # without a demand: example values; a foreign demand is not found; a bad placeholder is named
    sample = client.post(
        "/console/macros/preview", data={"csrf_token": token, "body_es": body}
    ).get_json()
    assert sample["previews"][0]["text"].startswith("Olá Maria, protocolo 20260115")
    foreign = client.post(
        "/console/macros/preview",
        data={"csrf_token": token, "body_pt_br": body, "protocol": world.ticket_y.protocol},
    ).get_json()
    assert foreign["error"]["field"] == "protocol"
    bad = client.post(
        "/console/macros/preview", data={"csrf_token": token, "body_en": "{{ config }}"}
    ).get_json()
    assert bad["error"]["field"] == "body_en"


@pytest.mark.csrf
def test_posts_without_csrf_are_400(client, app, db, world, macros):
    from helpdesk.macros.models import Macro

    login_as(client, app, world.agent_x)  # noqa: F405
    mine = macros["mine_x"].id
    assert client.post("/console/macros/preview", data={"body_pt_br": "x"}).status_code == 400
    assert client.post("/console/macros/new", data=_form()).status_code == 400
    assert client.post(f"/console/macros/{mine}/active", data={"active": "0"}).status_code == 400
    assert client.post(f"/console/macros/{mine}/delete").status_code == 400
    db.session.expire_all()
    assert db.session.get(Macro, mine).active
    assert db.session.scalar(sa.select(sa.func.count(Macro.id))) == len(macros)


def test_preview_without_script_renders_the_form_with_the_filled_text(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    response = post_form(  # noqa: F405
        client,
        "/console/macros/new",
        _form(op="preview", protocol=world.ticket_x.protocol),
        csrf_path="/console/macros/new",
    )
    assert response.status_code == 200
    assert "Olá Diego, segue o boleto do" in response.get_data(as_text=True)


def test_deactivate_activate_and_delete_after_confirmation(client, app, db, world, macros):
    from helpdesk.macros.models import Macro
    from helpdesk.macros.services import macros_for

    mine = macros["mine_x"]
    mine_id = mine.id
    login_as(client, app, world.agent_x)  # noqa: F405
    token = csrf_for(client, "/console/macros")  # noqa: F405
    assert (
        client.post(
            f"/console/macros/{mine.id}/active", data={"csrf_token": token, "active": "0"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert not db.session.get(Macro, mine.id).active
    assert mine.id not in [m.id for m in macros_for(world.agent_x)]
    assert "Inactive" in client.get("/console/macros").get_data(as_text=True)
    client.post(f"/console/macros/{mine.id}/active", data={"csrf_token": token, "active": "1"})
    db.session.expire_all()
    assert db.session.get(Macro, mine.id).active

    confirm = client.get(f"/console/macros/{mine.id}/delete")
    assert confirm.status_code == 200
    assert "applied 7 times" in confirm.get_data(as_text=True)
    assert db.session.get(Macro, mine.id) is not None  # the page alone deletes nothing
    response = client.post(f"/console/macros/{mine.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Macro, mine_id) is None


MACRO_ROUTES = ("/console/macros/{id}", "/console/macros/{id}/delete")


@pytest.mark.parametrize(
    "who,key,status",
    [
        ("agent_x", "mine_x", 200),
        ("agent_x", "mine_y", 404),
        ("agent_x", "dept_x", 404),
        ("agent_x", "global", 404),
        ("agent_y", "mine_x", 404),
        ("supervisor", "dept_x", 200),
        ("supervisor", "dept_y", 404),
        ("supervisor", "global", 404),
        ("supervisor", "mine_x", 404),
        ("admin", "mine_y", 200),
        ("admin", "global", 200),
    ],
)
def test_macro_pages_matrix(client, app, db, world, macros, who, key, status):
    """Someone else's macro is unknown (404) on every page and POST; nothing changes."""
    from helpdesk.macros.models import Macro

    macro = macros[key]
    login_as(client, app, getattr(world, who))  # noqa: F405
    for route in MACRO_ROUTES:
        assert client.get(route.format(id=macro.id)).status_code == status
    token = csrf_for(client, "/console/macros")  # noqa: F405
    posts = (
        (f"/console/macros/{macro.id}", _form(name="Mudado")),
        (f"/console/macros/{macro.id}/active", {"active": "0"}),
    )
    for path, data in posts:
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == (404 if status == 404 else response.status_code)
    if status == 404:
        assert (
            client.post(
                f"/console/macros/{macro.id}/delete", data={"csrf_token": token}
            ).status_code
            == 404
        )
        db.session.expire_all()
        same = db.session.get(Macro, macro.id)
        assert same.active and same.name == macro.name


def test_list_query_count_does_not_grow_with_macros(client, app, db, world, count_queries):
    login_as(client, app, world.admin)  # noqa: F405

    def queries():
        with count_queries() as q:
            assert client.get("/console/macros").status_code == 200
        return q.count

    for n in range(2):
        _macro(world.admin, f"Dept {n}", "department", world.dept_x)
        _macro(world.agent_x, f"Own {n}")
    db.session.commit()
    few = queries()
    for n in range(10):
        _macro(world.admin, f"More dept {n}", "department", world.dept_y)
        _macro(world.agent_y, f"More own {n}")
    db.session.commit()
    assert queries() == few
