# ruff: noqa: F811 - the browser fixtures imported from test_browser are parameters here
"""The agent's day in real Chromium: keyboard shortcuts (`?` lists them, j/k then Enter opens a
demand, r/n focus the reply and the note, never while typing), two agents see each other on one
demand, a view saved from the queue and opened from the sidebar; screenshots at 1280 and 390 px
in pt_BR and es when HELPDESK_SCREENSHOT_DIR is set."""

from __future__ import annotations

import os

import pytest

from tests.conftest import customer_of

from .test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def _active_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def test_keyboard_shortcuts(live_server, browser, make_user, make_ticket, db):
    agent = make_user("agent", name="Ana Lima")
    tickets = [make_ticket(subject=f"Demanda {n}") for n in range(3)]
    db.session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    _login(page, live_server, agent.email)
    page.goto(f"{live_server}/console/?queue=department&sort=oldest")
    page.wait_for_selector(".queue-table")

    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-dialog")
    assert dialog.is_visible()
    assert "Open the selected demand" in dialog.inner_text()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    selected = page.locator("tr.kb-selected")
    assert selected.count() == 1
    assert tickets[1].protocol in selected.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/tickets/{tickets[1].protocol}")

    page.keyboard.press("r")
    assert _active_id(page) == "reply-body"
    page.keyboard.type("j n ?")  # typing: no shortcut fires
    assert _active_id(page) == "reply-body"
    assert page.locator("#reply-body").input_value() == "j n ?"
    assert not page.locator("#shortcuts-dialog").is_visible()
    page.locator("h1").click()
    page.keyboard.press("n")
    assert _active_id(page) == "note-body"
    page.locator("h1").click()
    page.keyboard.press("m")  # no macro picker on this page: nothing happens, nothing breaks
    assert _active_id(page) != "note-body"
    context.close()


def test_two_agents_see_each_other_on_one_demand(live_server, browser, make_user, make_ticket, db):
    ana = make_user("agent", name="Ana Lima")
    bruno = make_user("agent", name="Bruno Reis")
    ticket = make_ticket(subject="Cobrança duplicada")
    db.session.commit()
    url = f"{live_server}/console/tickets/{ticket.protocol}"
    first = browser.new_context(locale="en-US").new_page()
    _login(first, live_server, ana.email)
    first.goto(url)
    first.wait_for_load_state("networkidle")
    second = browser.new_context(locale="en-US").new_page()
    _login(second, live_server, bruno.email)
    second.goto(url)
    second.wait_for_selector("#presence:not([hidden])")
    assert "Ana Lima is viewing" in second.locator("#presence").inner_text()
    assert second.locator("#presence").get_attribute("aria-live") == "polite"
    second.locator("#reply-body").fill("")
    second.locator("#reply-body").type("Estamos ver")
    second.wait_for_load_state("networkidle")
    first.reload()
    first.wait_for_selector("#presence:not([hidden])")
    assert "Bruno Reis is typing a reply" in first.locator("#presence").inner_text()
    first.context.close()
    second.context.close()


def test_save_a_view_and_open_it_from_the_sidebar(live_server, browser, make_user, make_ticket, db):
    agent = make_user("agent", name="Ana Lima")
    make_ticket(subject="Queixa", kind="complaint")
    make_ticket(subject="Pedido", kind="request")
    db.session.commit()
    page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US").new_page()
    _login(page, live_server, agent.email)
    page.goto(f"{live_server}/console/?queue=department&kind=complaint")
    page.locator("#save-view summary").click()
    page.locator("#view-name").fill("Queixas")
    page.locator("#save-view button[type=submit]").click()
    page.wait_for_load_state()
    link = page.locator("a.saved-view", has_text="Queixas")
    assert link.get_attribute("aria-current") == "page"
    assert link.locator(".queue-count").inner_text() == "1"
    page.goto(f"{live_server}/console/?queue=mine")
    page.locator("a.saved-view", has_text="Queixas").click()
    page.wait_for_load_state()
    assert page.locator("#f-kind").input_value() == "complaint"
    assert page.locator(".queue-table tbody tr").count() == 1
    page.context.close()


def test_screens_in_portuguese_and_spanish(
    live_server, browser, make_user, make_ticket, db, tmp_path
):
    """The new screens as a user sees them: every width and language into
    HELPDESK_SCREENSHOT_DIR when it is set (to look at them), else one of them into a temporary
    directory (the screens still render, merge included, in a real browser)."""
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
    from helpdesk.tickets.saved_views import create_saved_view

    ana = make_user("agent", name="Ana Lima", locale=locale)
    bruno = make_user("agent", name="Bruno Reis", locale=locale)
    owner = make_user(role="customer", name="Maria Souza", email=f"maria{n}@example.com")
    customer = customer_of(owner)
    phone = make_ticket(customer=customer, channel="phone", subject="Geladeira quebrada")
    email = make_ticket(customer=customer, channel="email", subject="Geladeira não gela")
    make_ticket(subject="Cobrança duplicada no cartão", kind="complaint")
    create_saved_view(ana, "Queixas abertas", {"queue": "department", "kind": "complaint"}, "due")
    create_saved_view(ana, "Por telefone", {"queue": "department", "channel": "phone"}, "due")
    db.session.commit()
    tag = f"{width}-{locale}"
    height = 900 if width > 500 else 844
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    other_page = other.new_page()
    _login(other_page, live_server, bruno.email)
    other_page.goto(f"{live_server}/console/tickets/{email.protocol}")
    other_page.locator("#reply-body").type("Olá")
    other_page.wait_for_load_state("networkidle")

    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    _login(page, live_server, ana.email)
    page.goto(f"{live_server}/console/?queue=department")
    page.keyboard.press("j")
    page.screenshot(path=os.path.join(shots, f"queue-views-{tag}.png"), full_page=True)
    page.keyboard.press("?")
    page.screenshot(path=os.path.join(shots, f"shortcuts-{tag}.png"))
    page.keyboard.press("Escape")
    page.goto(f"{live_server}/console/tickets/{email.protocol}")
    page.wait_for_selector("#presence:not([hidden])")
    assert "Bruno Reis" in page.locator("#presence").inner_text()
    page.locator("#merge summary").click()
    page.screenshot(path=os.path.join(shots, f"ticket-presence-{tag}.png"), full_page=True)
    page.goto(f"{live_server}/console/tickets/{phone.protocol}/merge?into={email.protocol}")
    page.screenshot(path=os.path.join(shots, f"merge-confirm-{tag}.png"), full_page=True)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/console/tickets/{phone.protocol}")
    assert page.locator(".merged-banner").is_visible()
    page.screenshot(path=os.path.join(shots, f"merged-banner-{tag}.png"), full_page=False)
    page.context.close()
    other.close()
