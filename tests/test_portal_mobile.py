"""The customer's pages on a phone (390 px wide, real Chromium): "My demands" shows each demand's
protocol and status without sideways scrolling, and a visitor's demand form fits too."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import customer_of

from .test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("HELPDESK_SCREENSHOTS")  # a directory: keep the screenshots to look at


def _shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_my_demands_fits_a_phone(live_server, browser, make_user, make_ticket, db):  # noqa: F811
    customer = make_user(role="customer", name="Carla Cliente")
    record = customer_of(customer)
    make_ticket(customer=record, subject="Internet caiu de novo e o técnico não apareceu ainda")
    make_ticket(customer=record, kind="request", subject="Segunda via da fatura de março")
    make_ticket(customer=record, kind="suggestion", subject="Atendimento por chat no sábado")

    ctx = browser.new_context(locale="en-US", viewport=PHONE, device_scale_factor=1)
    page = ctx.new_page()
    _login(page, live_server, customer.email)
    page.goto(f"{live_server}/portal/demands")
    _shot(page, "my_demands_390")
    assert _overflow(page) <= 0
    cards = page.locator("main .demand-card")
    assert cards.count() == 3
    for i in range(3):
        card = cards.nth(i)
        for part in (".badge", ".protocol-inline"):
            box = card.locator(part).first.bounding_box()
            assert box is not None and box["width"] > 0, part
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], part
        assert card.locator(".badge").first.is_visible()
    ctx.close()


def test_visitor_form_fits_a_phone(live_server, browser, default_department):  # noqa: F811
    ctx = browser.new_context(locale="pt-BR", viewport=PHONE, device_scale_factor=1)
    page = ctx.new_page()
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Abrir uma demanda").first.click()
    page.wait_for_load_state()
    assert page.locator("input[name=email]").is_visible()
    assert not page.locator("input[name=website]").is_visible() or (
        page.locator("input[name=website]").bounding_box()["x"] < 0
    )
    _shot(page, "guest_form_390")
    assert _overflow(page) <= 0

    # a visitor opens a demand from the home page without an account and sees a protocol
    page.locator("input[name=name]").fill("Joana Visitante")
    page.locator("input[name=email]").fill("joana@example.com")
    page.locator("input[name=kind][value=request]").check()
    page.locator("input[name=subject]").fill("Segunda via do boleto")
    page.locator("textarea[name=description]").fill("Preciso da segunda via de dezembro.")
    page.get_by_role("button", name="Enviar minha demanda").click()
    page.wait_for_load_state()
    shown = page.locator(".protocol-number").first
    assert re.fullmatch(r"\d{8} \d{6} \d", shown.inner_text().strip())
    box = shown.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _shot(page, "guest_registered_390")
    assert _overflow(page) <= 0
    page.get_by_role("link", name="Ver minha demanda").click()
    page.wait_for_load_state()
    assert "Segunda via do boleto" in page.content()
    _shot(page, "guest_demand_390")
    assert _overflow(page) <= 0
    ctx.close()


def test_every_page_a_visitor_reaches_fits_a_phone(live_server, browser, default_department):  # noqa: F811
    ctx = browser.new_context(locale="es-ES", viewport=PHONE, device_scale_factor=1)
    page = ctx.new_page()
    for path in ("/", "/portal/new", "/guest", "/signup", "/login", "/reset"):
        page.goto(f"{live_server}{path}")
        _shot(page, "visitor" + path.replace("/", "_"))
        assert _overflow(page) <= 0, path
    ctx.close()
