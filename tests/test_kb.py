"""The knowledge base: articles through the API found anonymously at /help in pt_BR and es,
accent-insensitively; internal ones never; the same word suggested on the new-demand form;
sanitised bodies, revisions, votes, uses in replies, review permissions."""

from __future__ import annotations

import pytest

from tests import test_api_support as support
from tests.test_api_support import API, bearer

token_for = support.token_for

PT_BODY = "<p>Para emitir a <strong>segunda via</strong> do boleto, acesse Minha conta › Faturas. A cobrança aparece em até 48 horas.</p>"
ES_BODY = "<p>Para descargar la factura, entra en Mi cuenta › Facturas. La facturación electrónica llega por correo.</p>"


@pytest.fixture
def people(db, make_user):
    nopw = {"password": None}
    return {
        "agent": make_user("agent", name="Agente", **nopw),
        "supervisor": make_user("supervisor", name="Supervisora", **nopw),
        "customer": make_user("customer", email="cli@example.com", name="Cli"),
    }


def _create(client, token, **body):
    body.setdefault("visibility", "public")
    return client.post(f"{API}/articles", json=body, headers=bearer(token))


def _search(client, q, lang):
    return client.get("/help/", query_string={"q": q}, headers={"Accept-Language": lang})


def test_article_published_through_the_api_is_found_anonymously_in_pt_and_es(
    client, db, people, token_for
):
    token = token_for(people["supervisor"])
    pt = _create(
        client,
        token,
        language="pt_BR",
        title="Segunda via do boleto",
        body=PT_BODY,
        status="published",
        tags=["fatura"],
    )
    assert pt.status_code == 201, pt.get_json()
    es = _create(
        client,
        token,
        language="es",
        title="Descargar la factura",
        body=ES_BODY,
        status="published",
        translation_of=pt.get_json()["id"],
    )
    assert es.status_code == 201, es.get_json()
    hidden = _create(
        client,
        token,
        language="pt_BR",
        title="Procedimento interno de cobrança",
        body="<p>Cobrança: estorno manual no sistema legado.</p>",
        status="published",
        visibility="internal",
    )
    assert hidden.status_code == 201

    # a word of the body, typed without accents and in capitals, in each language
    page = _search(client, "COBRANCA", "pt-BR").get_data(as_text=True)
    assert "Segunda via do boleto" in page
    assert "Procedimento interno" not in page
    page = _search(client, "facturacion", "es").get_data(as_text=True)
    assert "Descargar la factura" in page
    # the article pages, translations linked
    page = client.get("/help/" + pt.get_json()["slug"], headers={"Accept-Language": "pt-BR"})
    assert page.status_code == 200
    assert "Descargar la factura" not in page.get_data(as_text=True)
    assert 'hreflang="es"' in page.get_data(as_text=True)
    # the internal one has no page on /help
    assert client.get("/help/" + hidden.get_json()["slug"]).status_code == 404
    # the same word typed in the new-demand form is suggested
    found = client.get(
        "/help/suggest",
        query_string={"q": "Cobranca", "visit": "v" * 16},
        headers={"Accept-Language": "pt-BR"},
    ).get_json()
    assert [a["title"] for a in found["articles"]] == ["Segunda via do boleto"]
    found = client.get(
        "/help/suggest",
        query_string={"q": "la facturacion no llega"},
        headers={"Accept-Language": "es"},
    ).get_json()
    assert [a["title"] for a in found["articles"]] == ["Descargar la factura"]
    # and the API finds it without a token, the internal one not
    listed = client.get(f"{API}/articles", query_string={"q": "cobrança", "lang": "pt_BR"})
    assert listed.status_code == 200
    assert [i["title"] for i in listed.get_json()["items"]] == ["Segunda via do boleto"]


def test_prefix_while_typing_and_drafts_not_shown(client, db, people, token_for):
    token = token_for(people["supervisor"])
    _create(
        client,
        token,
        language="pt_BR",
        title="Troca de produto",
        body="<p>Trocas em até 7 dias.</p>",
        status="published",
    )
    _create(
        client, token, language="pt_BR", title="Rascunho de troca", body="<p>Trocas rascunho.</p>"
    )
    page = _search(client, "troc", "pt-BR").get_data(as_text=True)
    assert "Troca de produto" in page
    assert "Rascunho de troca" not in page


def test_script_in_the_body_is_stripped(client, db, people, token_for):
    token = token_for(people["agent"])
    created = _create(
        client,
        token,
        language="pt_BR",
        title="XSS",
        body='<p onclick="x()">Olá<script>alert(1)</script><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">link</a><img src="/help/images/1" alt="ok"></p>',
    )
    assert created.status_code == 201
    html = created.get_json()["body_html"]
    assert "<script" not in html and "alert(1)" not in html
    assert "onclick" not in html and "onerror" not in html and "javascript:" not in html
    assert '<img src="/help/images/1" alt="ok">' in html


def test_agent_drafts_supervisor_publishes_every_change_a_revision(client, db, people, token_for):
    agent, supervisor = token_for(people["agent"]), token_for(people["supervisor"])
    refused = _create(client, agent, language="pt_BR", title="T", body="Corpo", status="published")
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    draft = _create(client, agent, language="pt_BR", title="Cancelamento", body="Como cancelar")
    article_id = draft.get_json()["id"]
    assert (
        client.patch(
            f"{API}/articles/{article_id}", json={"status": "review"}, headers=bearer(agent)
        ).status_code
        == 200
    )
    assert (
        client.patch(
            f"{API}/articles/{article_id}", json={"status": "published"}, headers=bearer(agent)
        ).status_code
        == 403
    )
    done = client.patch(
        f"{API}/articles/{article_id}",
        json={"status": "published", "note": "ok"},
        headers=bearer(supervisor),
    )
    assert done.status_code == 200
    assert done.get_json()["reviewer"]["name"] == "Supervisora"
    # the agent may no longer edit it; the supervisor may
    assert (
        client.patch(
            f"{API}/articles/{article_id}", json={"title": "X"}, headers=bearer(agent)
        ).status_code
        == 403
    )
    edited = client.patch(
        f"{API}/articles/{article_id}",
        json={"title": "Cancelar o plano"},
        headers=bearer(supervisor),
    ).get_json()
    assert edited["revision"] == 4  # created, review, published, edited
    from helpdesk.kb.models import KbRevision

    actions = [r.action for r in db.session.query(KbRevision).order_by(KbRevision.number)]
    assert actions == ["created", "status", "status", "edited"]
    # anonymous readers: the published article yes, drafts no
    assert client.get(f"{API}/articles/{article_id}").status_code == 200
    other = _create(client, agent, language="pt_BR", title="Outro", body="Rascunho").get_json()
    assert client.get(f"{API}/articles/{other['id']}").status_code == 404
    assert client.get(f"{API}/articles/{other['id']}", headers=bearer(agent)).status_code == 200


def test_bad_input_is_a_clear_4xx(client, db, people, token_for):
    token = token_for(people["agent"])
    assert _create(client, token, language="xx", title="T", body="B").status_code == 400
    assert _create(client, token, language=1, title="T", body="B").status_code == 422
    assert _create(client, token, language="pt_BR", title="", body="B").status_code == 400
    assert (
        _create(client, token, language="pt_BR", title="T", body="<script>x</script>").status_code
        == 400
    )
    assert client.get(f"{API}/articles", query_string={"lang": "fr"}).status_code == 400
    assert client.get(f"{API}/articles", headers=bearer("nope")).status_code == 401
    assert client.get("/help/?category=abc").status_code == 400
    assert client.get("/help/suggest", query_string={"q": "x" * 5000}).status_code == 200


def test_customers_only_article_needs_a_signed_in_customer(client, db, people, token_for, auth):
    token = token_for(people["supervisor"])
    created = _create(
        client,
        token,
        language="pt_BR",
        title="Portabilidade",
        body="Portabilidade numérica",
        status="published",
        visibility="customers",
    ).get_json()
    assert client.get("/help/" + created["slug"]).status_code == 404
    assert "Portabilidade" not in _search(client, "portabilidade", "pt-BR").get_data(as_text=True)
    auth.login(people["customer"])
    assert client.get("/help/" + created["slug"]).status_code == 200
    assert (
        client.get(
            f"{API}/articles/{created['id']}", headers=bearer(token_for(people["customer"]))
        ).status_code
        == 200
    )


def test_helpful_votes_are_counted(client, db, people, token_for):
    token = token_for(people["supervisor"])
    created = _create(
        client,
        token,
        language="pt_BR",
        title="Entrega",
        body="Prazo de entrega",
        status="published",
    ).get_json()
    url = f"/help/{created['slug']}/vote"
    assert client.post(url, data={"helpful": "yes"}).status_code == 303
    assert client.post(url, data={"helpful": "no", "comment": "Faltou o prazo"}).status_code == 303
    assert client.post(url, data={}).status_code == 303  # no choice: back with a message
    got = client.get(f"{API}/articles/{created['id']}").get_json()
    assert (got["helpful_yes"], got["helpful_no"]) == (1, 1)
    from helpdesk.kb.models import KbVote

    assert [v.comment for v in db.session.query(KbVote).order_by(KbVote.id)] == [
        "",
        "Faltou o prazo",
    ]


@pytest.mark.csrf
def test_vote_without_csrf_is_refused(client, db, people, token_for, app):
    token = token_for(people["supervisor"])
    created = _create(
        client, token, language="pt_BR", title="Entrega", body="Prazo", status="published"
    ).get_json()
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/help/{created['slug']}/vote", data={"helpful": "yes"}).status_code == 400


def test_deflection_events_and_report(client, db, people, token_for, auth):
    from helpdesk.kb.models import DeflectionEvent

    token = token_for(people["supervisor"])
    created = _create(
        client,
        token,
        language="pt_BR",
        title="Segunda via",
        body="Boleto vencido",
        status="published",
    ).get_json()
    found = client.get(
        "/help/suggest", query_string={"q": "boleto", "visit": "visit-one-1234"}
    ).get_json()
    url = found["articles"][0]["url"]
    assert "visit=visit-one-1234" in url
    assert client.get(url).status_code == 200  # opened, never submitted: deflected
    client.get("/help/suggest", query_string={"q": "boleto", "visit": "visit-two-1234"})
    assert (
        client.post(
            "/help/events", data={"visit": "visit-two-1234", "kind": "submitted"}
        ).status_code
        == 204
    )
    assert client.post("/help/events", data={"visit": "x", "kind": "submitted"}).status_code == 400
    kinds = sorted((e.visit, e.kind) for e in db.session.query(DeflectionEvent))
    assert kinds == [
        ("visit-one-1234", "opened"),
        ("visit-one-1234", "shown"),
        ("visit-two-1234", "shown"),
        ("visit-two-1234", "submitted"),
    ]
    from datetime import timedelta

    from helpdesk.core.clock import now
    from helpdesk.kb.queries import deflection_report

    report = deflection_report(now() - timedelta(days=1), now() + timedelta(days=1))
    assert (report.visits, report.opened, report.deflected, report.submitted) == (2, 1, 1, 1)
    assert report.share == 0.5
    assert report.top[0][0].id == created["id"]


def test_sitemap_lists_public_published_articles(client, db, people, token_for):
    token = token_for(people["supervisor"])
    pub = _create(
        client, token, language="es", title="Envío gratis", body="Envío", status="published"
    ).get_json()
    _create(
        client,
        token,
        language="es",
        title="Solo clientes",
        body="x",
        status="published",
        visibility="customers",
    )
    xml = client.get("/help/sitemap.xml")
    assert xml.status_code == 200
    assert xml.headers["Content-Type"].startswith("application/xml")
    text = xml.get_data(as_text=True)
    assert f"/help/{pub['slug']}</loc>" in text
    assert "solo-clientes" not in text
    assert pub["slug"] == "envio-gratis"


def test_openapi_documents_the_articles(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    listing = spec["paths"]["/api/v1/articles"]["get"]
    assert listing["security"] == [{}, {"bearerAuth": []}]
    assert {"post"} <= set(spec["paths"]["/api/v1/articles"])
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/articles/{article_id}"])
    assert "Article" in spec["components"]["schemas"]


def test_image_is_served_to_readers_of_an_article_that_shows_it(client, db, people, app):
    import io

    from werkzeug.datastructures import FileStorage

    from helpdesk.core.unit import commit
    from helpdesk.kb.services import create_article, store_image

    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    image = store_image(FileStorage(io.BytesIO(png), filename="tela.png"), people["agent"])
    hidden = store_image(FileStorage(io.BytesIO(png), filename="x.png"), people["agent"])
    create_article(people["supervisor"], language="pt_BR", title="Com imagem", status="published",
                   body=f'<p>Veja</p><img src="/help/images/{image.id}" alt="tela">')  # fmt: skip
    create_article(people["supervisor"], language="pt_BR", title="Interno", status="published",
                   visibility="internal", body=f'<img src="/help/images/{hidden.id}" alt="x"><p>x</p>')  # fmt: skip
    commit()
    shown = client.get(f"/help/images/{image.id}")
    assert shown.status_code == 200
    assert shown.headers["Content-Type"] == "image/png"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/help/images/{hidden.id}").status_code == 404
    with pytest.raises(Exception, match="not accepted"):
        store_image(
            FileStorage(io.BytesIO(b"<svg onload=alert(1)>"), filename="x.svg"), people["agent"]
        )


def test_help_pages_do_not_grow_queries_with_articles(client, db, people, count_queries):
    from helpdesk.core.unit import commit
    from helpdesk.kb.services import create_article
    from helpdesk.tickets.categories import create_category

    category = create_category(name="Billing", name_pt_br="Faturamento", name_es="Facturación")

    def make(n, start):
        for i in range(start, start + n):
            create_article(people["supervisor"], language="pt_BR", title=f"Fatura {i}",
                           body=f"Boleto número {i}", category_id=category.id, status="published",
                           tags="fatura")  # fmt: skip
        commit()

    def counts():
        found = []
        for url in (
            "/help/",
            "/help/?q=boleto",
            f"/help/?category={category.id}",
            "/help/fatura-1",
        ):
            with count_queries() as q:
                assert client.get(url, headers={"Accept-Language": "pt-BR"}).status_code == 200
            found.append(q.count)
        return found

    make(2, 1)
    few = counts()
    make(8, 3)
    assert counts() == few


def test_reindex_command_rebuilds_the_article_index(app, db, people):
    import sqlalchemy as sa

    from helpdesk.core.unit import commit
    from helpdesk.kb.index import ArticleSearch
    from helpdesk.kb.search import search_articles
    from helpdesk.kb.services import create_article

    create_article(people["supervisor"], language="es", title="Devolución", body="Reembolso",
                   status="published")  # fmt: skip
    commit()
    db.session.execute(sa.delete(ArticleSearch))
    assert search_articles("reembolso", "es") == []
    result = app.test_cli_runner().invoke(args=["search", "reindex-articles"])
    assert "reindexed 1 articles" in result.output
    assert [h.article.title for h in search_articles("reembolso", "es")] == ["Devolución"]
