"""In real Chromium: an admin without a second factor is sent from /admin to enrolment, scans
(reads) the inline QR page, confirms with a real TOTP code, sees the recovery codes once, reaches
/admin, and reads the audit log filtered by kind, every field found by its label."""

from __future__ import annotations

import re

import pyotp
import pytest

from .test_browser import _login, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_admin_enrols_then_reaches_admin_and_the_audit_log(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    make_user,
    app,
    monkeypatch,
):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", ["admin"])
    admin = make_user(role="admin", name="Ana Admin")
    page = browser.new_context(locale="en-US").new_page()
    _login(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/")
    assert "/account/two-factor" in page.url
    qr = page.locator("figure.qr-figure svg.qr")
    assert qr.is_visible()
    assert "QR code" in qr.locator("title").text_content()
    secret = page.get_by_label("Secret key").inner_text().replace(" ", "")
    page.get_by_label("The 6-digit code your app shows now").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.wait_for_load_state()
    codes = page.get_by_role("list", name="Recovery codes").locator("li")
    assert codes.count() == 10
    page.get_by_role("link", name=re.compile("I saved them")).click()
    page.wait_for_load_state()
    assert page.url.rstrip("/").endswith("/admin")
    assert page.get_by_role("heading", level=1).first.is_visible()

    # the audit log: create a department, then filter by kind
    page.goto(f"{live_server}/admin/departments/new")
    page.get_by_label("Name").fill("Ouvidoria Norte")
    page.get_by_role("button", name="Save department").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/admin/audit")
    page.get_by_label("What kind of setting").select_option("department")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert "entity=department" in page.url
    table = page.locator("table.audit-log")
    assert "Ouvidoria Norte" in table.inner_text()
    assert "created" in table.inner_text()
    page.get_by_label("What kind of setting").select_option("webhook")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert page.locator("table.audit-log").count() == 0
    assert "No entry matches these filters." in page.content()
