# ruff: noqa: F811 - the browser fixtures imported from test_browser are parameters here
"""The queue at 1366 px in real Chromium: every column visible, the table not wider than its
frame (no sideways scroll), long subjects cut with an ellipsis instead of columns."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine

from helpdesk.core.clock import now

from .test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en", "pt_BR"])
def test_queue_fits_1366px(live_server, browser, make_user, make_ticket, make_customer, db, locale):  # noqa: F811
    from helpdesk.sla.policies import ensure_default_policy

    agent = make_user("agent", name="Alessandra Cavalcanti de Albuquerque Agente", locale=locale)
    customer = make_customer(name="Maria Aparecida dos Santos Oliveira Cliente Preferencial")
    ensure_default_policy()  # deadlines: the "Due" column shows its longest text ("56 d 3 h …")
    db.session.commit()
    with time_machine.travel(now() - timedelta(days=60), tick=False):
        for n in range(6):
            ticket = make_ticket(
                customer=customer,
                subject=f"Cobrança duplicada no cartão de crédito em várias faturas seguidas {n} "
                "e o atendimento não resolveu nada até agora",
            )
            ticket.assignee_id = agent.id
            # what else widens a real queue: an escalation badge, a two-word status
            ticket.escalation_level = 3
            ticket.status = "pending_customer"
        db.session.commit()
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = context.new_page()
    _login(page, live_server, agent.email)
    page.goto(f"{live_server}/console/?queue=department")
    page.wait_for_selector(".queue-table")
    shot = os.environ.get("HELPDESK_SCREENSHOT_DIR")
    if shot:
        page.screenshot(path=os.path.join(shot, f"queue-1366-{locale}.png"), full_page=False)
    metrics = page.evaluate(
        """() => {
        const wrap = document.querySelector('.queue-table').closest('.table-wrap');
        const table = document.querySelector('.queue-table');
        const heads = [...table.querySelectorAll('thead th')].map(th => {
            const r = th.getBoundingClientRect();
            return {text: th.innerText, visible: r.width > 8 && r.right <= window.innerWidth};
        });
        const subject = table.querySelector('td.subject a');
        return {
            tableWidth: table.scrollWidth, wrapWidth: wrap.clientWidth,
            pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
            heads, subjectCut: subject.scrollWidth > subject.clientWidth,
            subjectOverflow: getComputedStyle(subject).textOverflow,
        };
    }"""
    )
    context.close()
    hidden = [h["text"] for h in metrics["heads"] if not h["visible"]]
    assert not hidden, metrics
    assert metrics["tableWidth"] <= metrics["wrapWidth"], metrics
    assert metrics["pageWidth"] <= metrics["viewport"], metrics
    assert metrics["subjectCut"] and metrics["subjectOverflow"] == "ellipsis", metrics


def test_console_pages_use_the_whole_width_of_a_phone(
    live_server, browser, make_user, make_ticket, db
):  # noqa: F811
    """At 390 px the page takes the whole width (the queues took a 190 px column beside it, which
    left the search results and the queue half the screen) and comes first: the menu follows it,
    a "Menu" link at the top jumps there (above the page, it filled the first screen); `/`
    focuses the header's search box."""
    agent = make_user("agent", locale="pt_BR")
    make_ticket(subject="Cobrança duplicada", description="Cobraram duas vezes a fatura.")
    db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
    page = context.new_page()
    _login(page, live_server, agent.email)
    page.goto(f"{live_server}/console/?queue=department")
    page.keyboard.press("/")
    page.keyboard.type("cobranca")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/search**")
    page.wait_for_selector("main h1")
    metrics = page.evaluate(
        """() => {
        const main = document.querySelector('.console-main') || document.querySelector('main h1').parentElement;
        const nav = document.querySelector('.sidenav').getBoundingClientRect();
        const r = main.getBoundingClientRect();
        const jump = document.querySelector('.nav-jump');
        return {mainLeft: r.left, mainWidth: r.width, navTop: nav.top, mainBottom: r.bottom,
                jumpVisible: jump.getBoundingClientRect().height > 0 && jump.getBoundingClientRect().top < 400,
                jumpTarget: document.querySelector(jump.getAttribute('href')) === document.querySelector('.sidenav'),
                pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
                marks: document.querySelectorAll('mark').length};
    }"""
    )
    context.close()
    assert metrics["mainWidth"] >= 0.85 * metrics["viewport"], metrics
    assert metrics["navTop"] >= metrics["mainBottom"] - 1, metrics
    assert metrics["jumpVisible"] and metrics["jumpTarget"], metrics
    assert metrics["pageWidth"] <= metrics["viewport"], metrics
    assert metrics["marks"] >= 1, metrics
