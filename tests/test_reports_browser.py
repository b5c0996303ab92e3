"""The supervisors' dashboard in real Chromium, in Portuguese: the tiles, the SVG charts with
their titles, a table behind a chart, and a report page with its exports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_supervisor_reads_the_dashboard_in_portuguese(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    make_user,
    make_ticket,
    db,
):
    from helpdesk.core.clock import now

    supervisor = make_user(role="supervisor", locale="pt_BR", name="Sueli Supervisora")
    for channel, rating in (("phone", 5), ("email", 2), ("phone", None)):
        t = make_ticket(channel=channel)
        t.created_at = now() - timedelta(days=2)
        t.first_response_at = now() - timedelta(days=1)
        t.resolved_at, t.status, t.rating = now() - timedelta(hours=5), "resolved", rating
    db.session.commit()
    page = browser.new_page(viewport={"width": 390, "height": 900})
    _login(page, live_server, supervisor.email)
    page.goto(f"{live_server}/console/reports")
    assert page.locator("h1").first.inner_text() == "Relatórios"
    tiles = page.locator(".tile")
    assert tiles.count() == 10
    assert "Demandas registradas" in tiles.first.inner_text()
    assert tiles.first.locator(".tile-value").inner_text() == "3"
    assert page.locator("svg.chart[role=img]").count() >= 4
    assert page.locator("svg.chart title").first.inner_html()
    channel_card = page.locator(
        "section.chart-card", has=page.locator("h2", has_text="Volume por canal")
    )
    assert channel_card.locator("svg").get_attribute("aria-labelledby")
    channel_card.locator("summary").click()
    table = channel_card.locator("table")
    assert table.is_visible()
    assert "Telefone" in table.locator("tbody").inner_text()
    # nothing wider than the phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    channel_card.locator("h2 a").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Volume por canal"
    assert page.locator("a", has_text="Baixar CSV").count() == 1
    assert page.locator("a", has_text="Baixar XLSX").count() == 1
    page.locator("table.report-table a", has_text="Telefone").click()
    page.wait_for_load_state()
    assert "/console/?queue=department" in page.url and "channel=phone" in page.url
    assert page.locator("table").first.inner_text().count("Problema") == 2
    page.close()
