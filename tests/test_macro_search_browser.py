# ruff: noqa: F811 - the browser fixtures imported from test_browser are parameters here
"""Search and a macro in real Chromium: an agent presses `/` on the queue, types a word without
its accent, opens the result, picks a macro by typing in the workspace's picker, sees the reply
filled with the customer's name and the protocol, applies it in one click and sees the reply in
the thread and the demand's new status and tag. At 390 px the search results and the picker are
usable. Screenshots of the screens of this work (macro management, tag administration, search
with chips and the bulk bar, the workspace picker) at 1280 and 390 px in pt_BR and es go into
HELPDESK_SCREENSHOT_DIR when it is set."""

from __future__ import annotations

import os

import pytest

from helpdesk.tickets.protocol import display as display_protocol
from tests.conftest import customer_of

from .test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def _cast(make_user, make_ticket, db, locale="en", n=0):
    from helpdesk.macros.services import MacroValues, create_macro
    from helpdesk.tickets.tags import add_tags, create_tag

    admin = make_user("admin", name="Adriana Admin", locale=locale)
    agent = make_user("agent", name="Ana Lima", locale=locale)
    owner = make_user(role="customer", name="Maria Souza", email=f"maria{n}@example.com")
    customer = customer_of(owner)
    customer.locale = "pt_BR"
    ticket = make_ticket(
        customer=customer,
        subject="Cobrança duplicada no cartão",
        description="Fui cobrada duas vezes na fatura de novembro.",
    )
    other = make_ticket(subject="Cobrança de tarifa indevida", description="Tarifa cobrada.")
    if n == 0:  # the screenshots' later rounds reuse them
        create_tag(admin, name="vip", color="#7c3aed")
        create_tag(admin, name="cartão", color="#f59e0b")
    add_tags(other, agent, ["vip", "cartão"])
    create_macro(
        admin,
        MacroValues(
            name="Boas-vindas",
            scope="global",
            body_pt_br="Olá {{ customer.first_name }}, obrigado pelo contato.",
        ),
    )
    create_macro(
        admin,
        MacroValues(
            name="Segunda via do boleto",
            scope="global",
            body_pt_br=(
                "Olá {{ customer.first_name }}, enviamos a segunda via do boleto da demanda "
                "{{ ticket.protocol }}.\n\n{{ agent.name }}"
            ),
            body_es="Hola {{ customer.first_name }}, enviamos la segunda vía ({{ ticket.protocol }}).",
            actions={"status": "pending_customer", "tags": ["segunda via"]},
        ),
    )
    db.session.commit()
    return admin, agent, ticket, other


def test_search_open_and_answer_with_a_macro(live_server, browser, make_user, make_ticket, db):
    _, agent, ticket, _ = _cast(make_user, make_ticket, db)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    _login(page, live_server, agent.email)
    page.goto(f"{live_server}/console/?queue=department")
    page.locator("h1").click()
    page.keyboard.press("/")
    page.keyboard.type("cobranca duplicada")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/search**")
    results = page.locator(".search-results tbody tr")
    assert results.count() == 1
    results.first.locator("td.subject a").first.click()
    page.wait_for_url(f"**/console/tickets/{ticket.protocol}")

    page.locator("#macro-filter").click()
    page.keyboard.type("segunda")
    assert page.locator("#macro-choice option:not([hidden])").all_inner_texts() == [
        "Segunda via do boleto"
    ]
    page.keyboard.press("Enter")
    preview = page.locator("[data-macro-preview]")
    preview.wait_for(state="visible")
    body = page.locator("#macro-body").input_value()
    assert body.startswith("Olá Maria, enviamos a segunda via")
    assert display_protocol(ticket.protocol) in body and body.endswith("Ana Lima")
    assert "Status: Pending customer" in preview.inner_text()
    preview.get_by_role("button", name="Apply and send").click()
    page.wait_for_load_state()
    assert "Macro “Segunda via do boleto” applied." in page.locator(".flashes").inner_text()
    last = page.locator(".thread article.msg-agent").last
    assert "enviamos a segunda via" in last.inner_text()
    assert "Pending customer" in page.locator(".ws-head").inner_text()
    assert "segunda via" in page.locator("#tags").inner_text()
    context.close()


def test_search_results_and_macro_picker_at_390px(live_server, browser, make_user, make_ticket, db):
    _, agent, ticket, other = _cast(make_user, make_ticket, db)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    _login(page, live_server, agent.email)
    page.goto(f"{live_server}/console/search?q=cobranca")
    page.wait_for_selector(".search-results")
    metrics = page.evaluate(
        """() => {
        const rows = [...document.querySelectorAll('.search-results tbody tr')];
        const box = (el) => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
        return {
            pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
            checks: rows.map(r => box(r.querySelector('.row-check'))),
            links: rows.map(r => box(r.querySelector('td.subject a'))),
            chips: document.querySelectorAll('.search-results .tag-chip').length,
        };
    }"""
    )
    assert metrics["pageWidth"] <= metrics["viewport"], metrics
    assert metrics["chips"] == 2, metrics
    for check in metrics["checks"]:
        assert check["left"] >= 0 and check["right"] <= metrics["viewport"], metrics
    # selecting a result opens the bulk bar: its fields fit the screen
    page.locator(".row-check").first.check()
    page.locator("#bulk-priority").wait_for(state="visible")
    bar = page.locator(".bulk-bar").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= 390

    page.goto(f"{live_server}/console/tickets/{ticket.protocol}")
    page.locator("#macro-filter").scroll_into_view_if_needed()
    page.locator("#macro-filter").fill("boas")
    page.locator("#macro-filter").press("Enter")
    page.locator("[data-macro-preview]").wait_for(state="visible")
    picker = page.evaluate(
        """() => {
        const r = (s) => document.querySelector(s).getBoundingClientRect();
        return {pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
                filter: r('#macro-filter').right, select: r('#macro-choice').right,
                body: r('#macro-body').right, bodyWidth: r('#macro-body').width};
    }"""
    )
    assert picker["pageWidth"] <= picker["viewport"], picker
    assert max(picker["filter"], picker["select"], picker["body"]) <= picker["viewport"], picker
    assert picker["bodyWidth"] >= 250, picker
    assert page.locator("#macro-body").input_value() == "Olá Maria, obrigado pelo contato."
    context.close()


def test_screens_in_portuguese_and_spanish(
    live_server, browser, make_user, make_ticket, db, tmp_path
):
    shots = os.environ.get("HELPDESK_SCREENSHOT_DIR")
    combos = (
        [("pt_BR", 1280), ("es", 1280), ("pt_BR", 390), ("es", 390)] if shots else [("es", 390)]
    )
    for n, (locale, width) in enumerate(combos):
        _screens(
            live_server,
            browser,
            make_user,
            make_ticket,
            db,
            shots or str(tmp_path),
            locale,
            width,
            n,
        )
    assert os.listdir(shots or tmp_path)


def _screens(live_server, browser, make_user, make_ticket, db, shots, locale, width, n):
    from helpdesk.macros.models import Macro

    admin, agent, ticket, _ = _cast(make_user, make_ticket, db, locale, n)
    tag = f"{width}-{locale}"
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844})
    page = context.new_page()
    _login(page, live_server, admin.email)
    page.goto(f"{live_server}/console/macros")
    page.screenshot(path=os.path.join(shots, f"macros-{tag}.png"), full_page=True)
    macro = (
        db.session.query(Macro)
        .filter_by(name="Segunda via do boleto")
        .order_by(Macro.id.desc())
        .first()
    )
    page.goto(f"{live_server}/console/macros/{macro.id}")
    page.locator("#protocol").fill(ticket.protocol)
    shown = display_protocol(ticket.protocol)
    page.locator(".preview-text", has_text=shown).nth(1).wait_for()
    page.screenshot(path=os.path.join(shots, f"macro-form-{tag}.png"), full_page=True)
    page.locator("#body_es").fill("Hola {{ cliente.nombre }}")
    page.wait_for_selector(".macro-previews .error")
    page.locator("button.btn-primary[type=submit]").click()
    page.wait_for_load_state()
    page.screenshot(path=os.path.join(shots, f"macro-form-error-{tag}.png"), full_page=True)
    page.goto(f"{live_server}/admin/tags")
    page.screenshot(path=os.path.join(shots, f"tags-{tag}.png"), full_page=True)
    page.goto(f"{live_server}/admin/tags/new")
    page.screenshot(path=os.path.join(shots, f"tag-form-{tag}.png"), full_page=True)
    context.close()

    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844})
    page = context.new_page()
    _login(page, live_server, agent.email)
    page.goto(f"{live_server}/console/search?q=cobranca")
    page.locator(".row-check").first.check()
    page.locator("#bulk-priority").wait_for(state="visible")
    page.screenshot(path=os.path.join(shots, f"search-bulk-{tag}.png"), full_page=True)
    page.goto(f"{live_server}/console/tickets/{ticket.protocol}")
    page.locator("#macro-filter").fill("segunda")
    page.locator("#macro-filter").press("Enter")
    page.locator("[data-macro-preview]").wait_for(state="visible")
    page.locator("#macro").screenshot(path=os.path.join(shots, f"macro-picker-{tag}.png"))
    page.screenshot(path=os.path.join(shots, f"workspace-{tag}.png"), full_page=True)
    context.close()
