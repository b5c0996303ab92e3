"""In real Chromium: a supervisor selects demands in the queue, opens an investigation with them,
and the record shows them linked; the ticket workspace then shows the containment."""

from __future__ import annotations

import re

import pytest

from tests.test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_open_investigation_from_queue_selection(live_server, browser, make_user, make_ticket, db):  # noqa: F811
    base = live_server
    supervisor = make_user(role="supervisor", name="Sofia Supervisor")
    first = make_ticket(subject="Entrega atrasada no Sul")
    second = make_ticket(subject="Pedido não chegou")
    make_ticket(subject="Outra coisa")

    ctx = browser.new_context(locale="en-US")
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, base, supervisor.email)
    page.goto(f"{base}/console/?queue=department")
    page.get_by_label(f"Select {first.protocol}").check()
    page.get_by_label(f"Select {second.protocol}").check()
    page.get_by_role("button", name="Open an investigation").click()
    page.wait_for_load_state()
    assert "/console/investigations/new" in page.url
    main = page.locator("main").inner_text()
    assert first.protocol in main and second.protocol in main
    page.get_by_label("Title").fill("Late deliveries in the South")
    page.get_by_label(re.compile("Containment")).fill("Offer a free re-delivery.")
    page.get_by_role("button", name="Open the investigation").click()
    page.wait_for_load_state()
    assert re.search(r"/console/investigations/INV-\d{5}$", page.url)
    main = page.locator("main").inner_text()
    assert "Late deliveries in the South" in main
    assert first.protocol in main and second.protocol in main

    page.goto(f"{base}/console/tickets/{first.protocol}")
    panel = page.locator("#investigation").inner_text()
    assert "Offer a free re-delivery." in panel
    page.goto(f"{base}/console/investigations/reports")
    assert page.locator("svg.pareto rect.bar").count() == 1
    assert not [e for e in errors if "Content Security Policy" in e], errors
    ctx.close()
