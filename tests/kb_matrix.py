"""The knowledge base's rows of the API permission matrix (tests/test_api_access.py), kept apart
so that the matrix file changes by one line. The article (published, public) is made by
`add_article` in the matrix's world."""

from __future__ import annotations

WHO = ("anonymous", "customer_a", "customer_b", "agent_x", "agent_y", "supervisor", "admin")


def _row(*codes):
    return dict(zip(WHO, codes, strict=True))


ARTICLE_ROWS = [
    ("GET", "/articles", lambda c: "/articles?q=fatura", None, _row(*[200] * 7)),
    (
        "POST",
        "/articles",
        lambda c: "/articles",
        lambda w: {"language": "pt_BR", "title": "Boleto", "body": "Como pagar o boleto"},
        _row(401, 403, 403, 201, 201, 201, 201),
    ),
    (
        "GET",
        "/articles/<article_id>",
        lambda c: f"/articles/{c.article.id}",
        None,
        _row(*[200] * 7),
    ),
    (
        "PATCH",
        "/articles/<article_id>",
        lambda c: f"/articles/{c.article.id}",
        lambda w: {"title": "Fatura em atraso"},
        _row(401, 403, 403, 403, 403, 200, 200),
    ),
]


def add_article(cast) -> None:
    from helpdesk.kb.services import create_article

    cast.article = create_article(
        cast.supervisor,
        language="pt_BR",
        title="Fatura",
        body="Segunda via da fatura",
        status="published",
    )
