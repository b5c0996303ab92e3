"""Customer 360 screens in real Chromium: a supervisor reading Portuguese sees an at-risk
customer's badge and timeline, merges a duplicate found by email, and clears the flag; an agent
reading Spanish forwards a suggestion to the feedback list (accessible labels drive every step)."""

from __future__ import annotations

import os
import re

import pytest

from .test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("HELPDESK_SCREENSHOTS")


def _sign_in(page, base, email, password="password123"):
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_supervisor_reads_the_timeline_merges_a_duplicate_and_clears_the_flag(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    make_user,
    make_customer,
    make_ticket,
    db,
):
    supervisor = make_user("supervisor", name="Sônia Supervisora", locale="pt_BR")
    customer = make_customer(name="Dona Clara", email="clara@example.com")
    make_ticket(customer=customer, kind="complaint", subject="Entrega atrasada")
    make_ticket(customer=customer, kind="complaint", subject="Produto com defeito")
    dup = make_customer(name="Clara S.", email="clara.s@example.com")
    make_ticket(customer=dup, kind="request", subject="Segunda via do boleto")

    ctx = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    _login(page, live_server, supervisor.email)
    page.goto(f"{live_server}/console/customers/{customer.id}")
    assert page.locator("h1 .badge.at-risk").inner_text().strip() == "Em risco"
    timeline = page.get_by_role("heading", name="Linha do tempo")
    assert timeline.is_visible()
    assert page.locator("#timeline li").count() == 3  # two demands and the at-risk flag
    _shot(page, "customer-pt_BR")

    page.get_by_role("link", name="Juntar um cadastro duplicado a este").click()
    page.get_by_label("Email ou CPF/CNPJ do cadastro duplicado").fill("clara.s@example.com")
    page.get_by_role("button", name="Buscar").click()
    page.get_by_label(re.compile("Verifiquei: é a mesma pessoa")).check()
    _shot(page, "merge-pt_BR")
    page.get_by_role("button", name=re.compile("Juntar “Clara S.”")).click()
    page.wait_for_load_state()
    assert "Cadastro “Clara S.” juntado a este." in page.content()
    assert "Segunda via do boleto" in page.locator("#timeline").inner_text()

    page.get_by_role("button", name="Retirar a marca de risco").click()
    page.wait_for_load_state()
    assert page.locator("h1 .badge.at-risk").count() == 0
    ctx.close()


def test_agent_forwards_a_suggestion_in_spanish(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    make_user,
    make_customer,
    make_ticket,
    db,
):
    agent = make_user("agent", name="Ana Agente", locale="es")
    ticket = make_ticket(customer=make_customer(), kind="suggestion", subject="Modo oscuro")
    ctx = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    _sign_in(page, live_server, agent.email)
    page.goto(f"{live_server}/console/tickets/{ticket.protocol}")
    page.get_by_label("Tema de sugerencia (un título existente o uno nuevo)").fill("Modo oscuro")
    page.get_by_role("button", name="Enviar a la lista de sugerencias").click()
    page.wait_for_load_state()
    assert "Sugerencia agregada al tema “Modo oscuro”." in page.content()
    _shot(page, "ticket-es")
    page.get_by_role("link", name="Lista de sugerencias").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Modo oscuro").is_visible()
    _shot(page, "feedback-es")
    ctx.close()
