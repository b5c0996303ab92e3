"""The help centre and deflection in real Chromium, on a desktop and on a phone (390 px), in
pt_BR and es: the search finds an article by a word of its body without its accents, the
article opens; typing that word in the new-demand form shows the article beside the form (under
the description on a phone), opening it counts as opened."""

from __future__ import annotations

import os

import pytest

from .test_browser import browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("HELPDESK_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.fixture
def articles(db, make_user, default_department):
    from helpdesk.core.unit import commit
    from helpdesk.kb.services import create_article
    from helpdesk.tickets.categories import create_category

    supervisor = make_user("supervisor", name="Sofia")
    billing = create_category(name="Billing", name_pt_br="Faturamento", name_es="Facturación")
    pt = create_article(
        supervisor, language="pt_BR", title="Como emitir a segunda via da fatura",
        body="<p>Entre em <strong>Minha conta › Faturas</strong>. A cobrança aparece em até 48 horas.</p>",
        category_id=billing.id, status="published", tags="fatura",
    )  # fmt: skip
    create_article(
        supervisor, language="es", title="Cómo obtener un duplicado de la factura",
        body="<p>Entra en <strong>Mi cuenta › Facturas</strong>. La facturación electrónica llega por correo.</p>",
        status="published", translation_of=pt,
    )  # fmt: skip
    create_article(
        supervisor, language="pt_BR", title="Cancelamento do plano", body="<p>Como cancelar o plano.</p>",
        category_id=billing.id, status="published",
    )  # fmt: skip
    commit()


CASES = [
    ("pt-BR", "cobranca", "Como emitir a segunda via da fatura", "Enviar minha demanda"),
    ("es", "facturacion", "Cómo obtener un duplicado de la factura", "Enviar mi caso"),
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize(("locale", "word", "title", "send"), CASES, ids=["pt_BR", "es"])
def test_help_centre_search_and_deflection(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    articles,
    db,
    viewport,
    locale,
    word,
    title,
    send,
):
    from helpdesk.kb.models import DeflectionEvent

    tag = f"{locale}_{viewport['width']}"
    ctx = browser.new_context(locale=locale, viewport=viewport, device_scale_factor=1)
    page = ctx.new_page()
    page.goto(f"{live_server}/help/")
    _shot(page, f"help_home_{tag}")
    assert _overflow(page) <= 0
    page.locator("#help-q").fill(word)
    page.locator("#help-q").press("Enter")
    page.wait_for_load_state()
    _shot(page, f"help_search_{tag}")
    assert _overflow(page) <= 0
    page.get_by_role("link", name=title).click()
    page.wait_for_load_state()
    _shot(page, f"help_article_{tag}")
    assert _overflow(page) <= 0
    assert page.locator("h1").inner_text() == title

    # the same word typed in the new-demand form: the article is suggested beside it
    page.goto(f"{live_server}/portal/new")
    page.locator("input[name=subject]").fill(word[:-1])
    page.locator("input[name=subject]").press_sequentially(word[-1])
    suggestion = page.locator(".suggest-list a", has_text=title)
    suggestion.wait_for(timeout=5000)
    _shot(page, f"deflection_{tag}")
    assert _overflow(page) <= 0
    box = suggestion.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    if viewport is DESKTOP:  # beside the form
        form_box = page.locator("main form").first.bounding_box()
        assert box["x"] > form_box["x"] + form_box["width"] - 1
    with ctx.expect_page() as opened:
        suggestion.click()
    article_page = opened.value
    article_page.wait_for_load_state()
    assert article_page.locator("h1").inner_text() == title
    assert send in page.content()
    kinds = {e.kind for e in db.session.query(DeflectionEvent)}
    assert {"shown", "opened"} <= kinds
    ctx.close()
