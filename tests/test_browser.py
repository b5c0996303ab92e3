"""End to end in real Chromium (Playwright drives Debian's chromium through executable_path):
a customer files a complaint and sees the protocol, an agent answers it, the customer marks it
resolved and rates it."""

from __future__ import annotations

import os
import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("HELPDESK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def live_server(app, db):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def _login(page, base, email, password="password123"):
    page.goto(f"{base}/login")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.get_by_label(re.compile("password|senha|contraseña", re.I)).first.fill(password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def test_customer_files_agent_answers_customer_resolves(live_server, browser, make_user, db):
    base = live_server
    customer = make_user(role="customer", name="Carla Cliente")
    agent = make_user(role="agent", name="Alice Agente")

    # the customer files a complaint and sees the protocol at once
    ctx_c = browser.new_context(locale="en-US")
    page = ctx_c.new_page()
    _login(page, base, customer.email)
    page.goto(f"{base}/portal/new")
    page.locator("input[name=kind][value=complaint]").check()
    page.locator("input[name=subject]").fill("Internet down since Monday")
    page.locator("textarea[name=description]").fill("The connection drops every hour.")
    page.get_by_role("button", name=re.compile("Send my demand")).click()
    page.wait_for_load_state()
    shown = page.locator(".protocol-number").first.inner_text().strip()
    assert re.fullmatch(r"\d{8} \d{6} \d", shown)  # grouped for reading aloud (issue 9)
    protocol = shown.replace(" ", "")

    # the agent of the department finds it in the queue and answers it
    ctx_a = browser.new_context(locale="en-US")
    agent_page = ctx_a.new_page()
    _login(agent_page, base, agent.email)
    agent_page.goto(f"{base}/console/")
    agent_page.get_by_role("link", name=re.compile("Internet down since Monday")).first.click()
    agent_page.wait_for_load_state()
    assert protocol in agent_page.content()
    reply_form = agent_page.locator("form[action$='/reply']")
    reply_form.locator("textarea[name=body]").fill("We reset your line; please check now.")
    reply_form.locator("button[type=submit]").click()
    agent_page.wait_for_load_state()
    assert "We reset your line" in agent_page.content()

    # the customer reads the answer and marks the demand resolved with a rating
    page.goto(f"{base}/portal/demands/{protocol}")
    assert "We reset your line; please check now." in page.content()
    verdict = page.locator("form[action$='/verdict']")
    verdict.locator("input[name=resolved][value=yes]").check()
    verdict.locator("input[name=rating][value='5']").check()
    verdict.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "resolved" in page.locator("main").inner_text().lower()

    from helpdesk.tickets.models import Ticket

    db.session.expire_all()
    ticket = db.session.query(Ticket).filter_by(protocol=protocol).one()
    assert ticket.status == "resolved" and ticket.rating == 5
    assert ticket.customer_verdict == "resolved"
    ctx_a.close()
    ctx_c.close()
