"""Translations: complete catalogs, and pages, API errors, emails and times in the user's language.

The catalogs must be compiled first (`make test` does it; by hand:
`.venv/bin/pybabel compile -d helpdesk/translations`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from babel.messages.pofile import read_po

from .test_portal_support import mail_text

TRANSLATIONS = Path(__file__).resolve().parent.parent / "helpdesk" / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


def _catalog(path):
    with path.open("rb") as handle:
        return read_po(handle)


def _forms(value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


# (a) complete catalogs --------------------------------------------------------------------------


def test_there_are_catalogs_for_portuguese_and_spanish():
    assert {path.parts[-3] for path in CATALOGS} >= {"pt_BR", "es"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_catalog_is_complete(path):
    untranslated = [
        message.id
        for message in _catalog(path)
        if message.id and (message.fuzzy or not all(_forms(message.string)))
    ]
    assert untranslated == [], f"{len(untranslated)} untranslated or fuzzy in {path}"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-3])
def test_placeholders_match(path):
    wrong = []
    for message in _catalog(path):
        if not message.id:
            continue
        expected = sorted(PLACEHOLDER.findall(_forms(message.id)[-1]))
        for form in _forms(message.string):
            if form and sorted(PLACEHOLDER.findall(form)) != expected:
                wrong.append((message.id, form))
    assert wrong == []


# (b) pages in the visitor's and the user's language ----------------------------------------------


def test_login_page_follows_the_browser_language(client):
    portuguese = client.get("/login", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    assert 'lang="pt-BR"' in portuguese.get_data(as_text=True)
    assert "Entrar" in portuguese.get_data(as_text=True)
    assert "Acompanhe as suas demandas" in portuguese.get_data(as_text=True)

    spanish = client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert 'lang="es"' in spanish.get_data(as_text=True)
    assert "Iniciar sesión" in spanish.get_data(as_text=True)
    assert "Siga sus casos" in spanish.get_data(as_text=True)


def test_users_preference_wins_over_the_browser(client, auth, make_user):
    user = make_user(role="customer", locale="es")
    assert auth.login(user).status_code == 302
    page = client.get("/portal/demands", headers={"Accept-Language": "pt-BR"}).get_data(
        as_text=True
    )
    assert 'lang="es"' in page
    assert "Mis casos" in page
    assert "Cerrar sesión" in page
    assert "Minhas demandas" not in page


# (c) API errors --------------------------------------------------------------------------------


def test_api_error_in_portuguese(client):
    response = client.get("/api/v1/tickets", headers={"Accept-Language": "pt-BR"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["title"] == "Autenticação necessária"
    assert body["detail"].startswith("Envie um token de API válido")
    assert "Authorization: Bearer <token>" in body["detail"]


# (d) emails in the customer's language ------------------------------------------------------------


def test_acknowledgement_email_in_the_customers_language(db, make_customer, make_ticket, sent_mail):
    from helpdesk.core.unit import commit

    customer = make_customer(locale="es")
    ticket = make_ticket(customer=customer)
    commit()
    assert len(sent_mail) == 1
    message = sent_mail[0]
    assert message["Subject"] == (f"[#{ticket.protocol}] Recibimos su caso")
    text = mail_text(message)
    from helpdesk.tickets.protocol import display

    # read aloud in groups (issue 9); the subject tag above keeps the plain digits
    assert f"Número de seguimiento: {display(ticket.protocol)}" in text
    assert "Registramos su caso" in text
    assert "We registered" not in text


# (e) times in the user's time zone ------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone,shown",
    [(None, "12:00"), ("America/Sao_Paulo", "12:00"), ("America/Mexico_City", "09:00")],
)
def test_times_are_shown_in_the_users_zone(client, db, auth, make_user, make_ticket, zone, shown):
    from .conftest import customer_of

    user = make_user(role="customer", locale="pt_BR")
    user.timezone = zone
    db.session.commit()
    with time_machine.travel(datetime(2026, 11, 23, 15, 0, tzinfo=UTC), tick=False):
        ticket = make_ticket(customer=customer_of(user))
    auth.login(user)
    page = client.get(f"/portal/demands/{ticket.protocol}").get_data(as_text=True)
    shown_times = re.findall(r"<time[^>]*>([^<]*)</time>", page)
    assert shown_times, "no <time> on the demand page"
    assert any(shown in text and "23/11/2026" in text for text in shown_times), shown_times
    assert not any("15:00" in text for text in shown_times), shown_times
