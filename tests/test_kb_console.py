"""The knowledge base in the console (authors, reviewers, the workspace's picker and "draft from
this answer", the deflection report, an investigation's known-problem notice) and the known
problem's life in the help centre: shown, followed, told when solved."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from helpdesk.core.unit import commit

from .test_console_support import *  # noqa: F403 - fixtures and helpers

ROLES = ("anonymous", "customer", "agent_x", "agent_y", "supervisor", "admin")


def _user(world, role):
    return {
        "anonymous": None,
        "customer": world.customer_user,
        "agent_x": world.agent_x,
        "agent_y": world.agent_y,
        "supervisor": world.supervisor,
        "admin": world.admin,
    }[role]


@pytest.fixture
def kb(db, world):
    """A published article, an investigation of ticket X."""
    from helpdesk.investigations.operations import open_investigation
    from helpdesk.kb.services import create_article

    article = create_article(
        world.supervisor,
        language="pt_BR",
        title="Cobrança duplicada no cartão",
        body="<p>Quando a cobrança aparece duas vezes, a segunda é estornada em 5 dias.</p>",
        status="published",
    )
    internal = create_article(
        world.supervisor,
        language="pt_BR",
        title="Estorno manual",
        body="Procedimento interno de estorno no sistema antigo.",
        status="published",
        visibility="internal",
    )
    inv = open_investigation(
        by=world.supervisor, title="Cobranças em dobro", from_ticket=world.ticket_x
    )
    inv.keywords = "cobrança, dobro, duplicada"
    commit()
    return {"article": article, "internal": internal, "inv": inv}


GET_ROUTES = {
    # route: expected status for (customer, agent_x, agent_y, supervisor, admin)
    "/console/kb": (403, 200, 200, 200, 200),
    "/console/kb/new": (403, 200, 200, 200, 200),
    "/console/kb/{aid}": (403, 200, 200, 200, 200),
    "/console/kb/picker?q=estorno": (403, 200, 200, 200, 200),
    "/console/kb/deflection": (403, 403, 403, 200, 200),
    "/console/investigations/{inv}/known-problem": (403, 403, 403, 200, 200),
}


@pytest.mark.parametrize("route", list(GET_ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_get_permission_matrix(client, app, world, kb, route, role):
    url = route.format(aid=kb["article"].id, inv=kb["inv"].number)
    login_as(client, app, _user(world, role))  # noqa: F405
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code in (302, 401)
        return
    expected = dict(zip(ROLES[1:], GET_ROUTES[route], strict=True))[role]
    assert response.status_code == expected


POST_ROUTES = {
    # route, data: expected status for (customer, agent_x, agent_y, supervisor, admin)
    "/console/kb/new": (
        {
            "language": "es",
            "title": "Envío",
            "body": "Plazo de envío",
            "visibility": "public",
            "status": "draft",
        },
        (403, 302, 302, 302, 302),
    ),
    "/console/kb/{aid}": (
        {"title": "Novo título", "body": "Corpo", "visibility": "public"},
        (403, 403, 403, 302, 302),
    ),
    "/console/kb/{aid}/status": ({"status": "archived"}, (403, 403, 403, 302, 302)),
    "/console/investigations/{inv}/known-problem": (
        {"pt_BR_title": "Cobrança em dobro"},
        (403, 403, 403, 302, 302),
    ),
    "/console/investigations/{inv}/known-problem/withdraw": ({}, (403, 403, 403, 404, 404)),
}


@pytest.mark.parametrize("route", list(POST_ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_post_permission_matrix(client, app, world, kb, route, role):
    url = route.format(aid=kb["article"].id, inv=kb["inv"].number)
    data, codes = POST_ROUTES[route]
    login_as(client, app, _user(world, role))  # noqa: F405
    response = client.post(url, data=data)
    if role == "anonymous":
        assert response.status_code in (302, 401)
        return
    assert response.status_code == dict(zip(ROLES[1:], codes, strict=True))[role]


@pytest.mark.parametrize(
    "route",
    [
        "/console/kb/1/status",
        "/console/kb/images",
        "/console/investigations/INV-00001/known-problem/solve",
    ],
)
def test_get_on_post_only_routes_is_405(client, app, world, route):
    login_as(client, app, world.supervisor)  # noqa: F405
    assert client.get(route).status_code == 405


@pytest.mark.csrf
def test_post_without_csrf_is_400(client, app, world, kb):
    login_as(client, app, world.supervisor)  # noqa: F405
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/console/kb/{kb['article'].id}/status", data={"status": "archived"})
    assert response.status_code == 400


def test_author_writes_supervisor_publishes(client, app, world, db):
    from helpdesk.kb.models import Article

    login_as(client, app, world.agent_x)  # noqa: F405
    response = client.post(
        "/console/kb/new",
        data={
            "language": "pt_BR",
            "title": "Troca de titularidade",
            "body": "Leve o RG e o CPF.\n\nA troca leva 2 dias.",
            "visibility": "public",
            "status": "review",
            "tags": "titular, documentos",
        },
    )
    assert response.status_code == 302
    article = db.session.scalar(sa.select(Article).where(Article.title == "Troca de titularidade"))
    assert article.status == "review"
    assert article.body_html == "<p>Leve o RG e o CPF.</p><p>A troca leva 2 dias.</p>"
    assert (
        client.post(f"/console/kb/{article.id}/status", data={"status": "published"}).status_code
        == 403
    )
    page = client.get(f"/console/kb/{article.id}").get_data(as_text=True)
    assert "Troca de titularidade" in page and "#1" in page
    login_as(client, app, world.supervisor)  # noqa: F405
    assert (
        client.post(
            f"/console/kb/{article.id}/status", data={"status": "published", "note": "Revisado"}
        ).status_code
        == 302
    )
    db.session.refresh(article)
    assert article.status == "published" and article.reviewer_id == world.supervisor.id
    # a Spanish version, linked as its translation
    response = client.post(
        f"/console/kb/new?translation_of={article.id}",
        data={
            "language": "es",
            "title": "Cambio de titular",
            "body": "Lleva tu documento.",
            "visibility": "public",
            "status": "draft",
        },
    )
    assert response.status_code == 302
    es = db.session.scalar(sa.select(Article).where(Article.language == "es"))
    assert es.topic_id == article.topic_id
    listing = client.get("/console/kb?language=es").get_data(as_text=True)
    assert "Cambio de titular" in listing and ">pt_BR</a>" in listing  # "also in"


def test_list_page_queries_do_not_grow_with_rows(client, app, world, db, count_queries):
    from helpdesk.kb.services import create_article

    login_as(client, app, world.agent_x)  # noqa: F405

    def make(n):
        for i in range(n):
            create_article(world.agent_x, language="pt_BR", title=f"Artigo {i} {n}", body="Corpo")
        commit()

    make(2)
    with count_queries() as few:
        assert client.get("/console/kb").status_code == 200
    make(8)
    with count_queries() as many:
        assert client.get("/console/kb").status_code == 200
    assert many.count == few.count


def test_picker_finds_internal_articles_for_agents_and_use_is_counted(client, app, world, kb, db):
    from helpdesk.kb.models import Article, KbUse

    login_as(client, app, world.agent_x)  # noqa: F405
    items = client.get("/console/kb/picker", query_string={"q": "estorn"}).get_json()["items"]
    titles = {i["title"]: i for i in items}
    assert set(titles) == {"Cobrança duplicada no cartão", "Estorno manual"}
    assert titles["Estorno manual"]["internal"] is True
    link = titles["Cobrança duplicada no cartão"]["url"]
    assert link.endswith("/help/" + kb["article"].slug)
    # an answer that carries the link counts one use
    response = post_form(  # noqa: F405
        client,
        f"/console/tickets/{world.ticket_x.protocol}/reply",
        {"body": f"Veja: {link}"},
    )
    assert response.status_code in (302, 303)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KbUse)) == 1
    assert db.session.get(Article, kb["article"].id).uses == 1


def test_draft_article_from_an_answer_in_one_step(client, app, world, db):
    from helpdesk.kb.models import Article
    from helpdesk.tickets.services import add_message

    message = add_message(
        world.ticket_x, world.agent_x, "Para pedir o estorno, responda com o comprovante."
    )
    note = add_message(world.ticket_x, world.agent_x, "nota", internal=True)
    commit()
    login_as(client, app, world.agent_x)  # noqa: F405
    page = client.get(f"/console/tickets/{world.ticket_x.protocol}").get_data(as_text=True)
    assert f"/messages/{message.id}/kb-draft" in page
    assert f"/messages/{note.id}/kb-draft" not in page
    response = client.post(
        f"/console/tickets/{world.ticket_x.protocol}/messages/{message.id}/kb-draft"
    )
    assert response.status_code == 302
    article = db.session.scalar(sa.select(Article).order_by(Article.id.desc()))
    assert article.status == "draft" and article.title == "Cobrança duplicada"
    assert "comprovante" in article.body_text and article.author_id == world.agent_x.id
    assert (
        client.post(
            f"/console/tickets/{world.ticket_x.protocol}/messages/{note.id}/kb-draft"
        ).status_code
        == 400
    )
    login_as(client, app, world.agent_y)  # noqa: F405 - not their department
    assert (
        client.post(
            f"/console/tickets/{world.ticket_x.protocol}/messages/{message.id}/kb-draft"
        ).status_code
        == 403
    )


def test_known_problem_shown_followed_and_told_when_solved(client, app, world, kb, db, sent_mail):
    from helpdesk.investigations.notices import notify_customers
    from helpdesk.kb.models import ProblemFollower

    login_as(client, app, world.supervisor)  # noqa: F405
    response = client.post(
        f"/console/investigations/{kb['inv'].number}/known-problem",
        data={
            "pt_BR_title": "Cobrança em dobro no cartão",
            "pt_BR_affected": "Pagamentos com cartão de crédito feitos em março.",
            "pt_BR_workaround": "Não é preciso abrir demanda: o estorno é automático.",
            "es_title": "Cobro doble con tarjeta",
            "es_affected": "Pagos con tarjeta de crédito de marzo.",
        },
    )
    assert response.status_code == 302
    login_as(client, app, None)  # noqa: F405
    home = client.get("/help/", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert "Cobrança em dobro no cartão" in home
    es = client.get("/help/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Cobro doble con tarjeta" in es
    found = client.get(
        "/help/suggest",
        query_string={"q": "cobranca no cartao"},
        headers={"Accept-Language": "pt-BR"},
    ).get_json()
    assert [p["title"] for p in found["problems"]] == ["Cobrança em dobro no cartão"]
    assert "automático" in found["problems"][0]["workaround"]
    notice_id = found["problems"][0]["id"]
    # a guest follows by email: confirmed through the link
    sent_mail.clear()
    assert (
        client.post(
            f"/help/problems/{notice_id}/follow", data={"email": "guest@example.com"}
        ).status_code
        == 303
    )
    assert len(sent_mail) == 1
    body = sent_mail[0].get_body(preferencelist=("plain",)).get_content()
    token = re.search(r"/help/follow/([\w-]+)", body).group(1)
    assert client.get(f"/help/follow/{token}").status_code == 303
    assert client.get(f"/help/follow/{token}").status_code == 404  # single use
    assert client.post(f"/help/problems/{notice_id}/follow", data={}).status_code == 400
    # a signed-in customer follows at once
    login_as(client, app, world.customer_user)  # noqa: F405
    assert client.post(f"/help/problems/{notice_id}/follow").status_code == 303
    followers = db.session.scalars(sa.select(ProblemFollower)).all()
    assert all(f.confirmed_at for f in followers) and len(followers) == 2
    # the investigation tells every affected customer and resolves: followers are told once
    sent_mail.clear()
    inv = db.session.merge(kb["inv"])
    notify_customers(
        inv,
        db.session.merge(world.supervisor),
        resolve=True,
        templates={"pt_BR": "Resolvido", "es": "Resuelto", "en": "Solved"},
    )
    commit()
    told = [m["To"] for m in sent_mail if "Cobrança em dobro" in (m["Subject"] or "")]
    assert any("guest@example.com" in t for t in told)
    assert any(world.customer_user.email in t for t in told)
    page = client.get(f"/help/problems/{notice_id}").get_data(as_text=True)
    assert "Follow this problem" not in page
    # solving again tells nobody twice
    from helpdesk.kb.problems import notice_of, solve_notice

    sent_mail.clear()
    assert solve_notice(notice_of(inv), db.session.merge(world.supervisor)) == 0
    commit()
    assert sent_mail == []
