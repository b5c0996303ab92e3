"""API: files sent with a message are stored and listed; the ticket list filters by channel."""

from __future__ import annotations

import base64

import pytest

from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, headers

cast = support.cast
token_for = support.token_for

PDF = base64.b64encode(b"%PDF-1.4 fake").decode()


def _post_message(client, cast, who, **body):
    return client.post(
        f"{API}/tickets/{cast.ticket_a.protocol}/messages",
        json={"body": "Segue o comprovante.", **body},
        headers=headers(cast, who),
    )


@pytest.mark.parametrize("who", ["customer_a", "agent_x"])
def test_message_attachments_are_stored_and_listed(client, db, cast, who):
    from helpdesk.tickets.models import Attachment

    response = _post_message(
        client, cast, who, attachments=[{"filename": "comprovante.pdf", "content_base64": PDF}]
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert [a["filename"] for a in created["attachments"]] == ["comprovante.pdf"]
    assert created["attachments"][0]["message_id"] == created["id"]

    thread = client.get(
        f"{API}/tickets/{cast.ticket_a.protocol}/messages", headers=headers(cast, who)
    ).get_json()["items"]
    listed = next(m for m in thread if m["id"] == created["id"])
    assert [a["filename"] for a in listed["attachments"]] == ["comprovante.pdf"]
    stored = db.session.query(Attachment).filter_by(message_id=created["id"]).all()
    assert [(a.filename, a.size) for a in stored] == [("comprovante.pdf", len(b"%PDF-1.4 fake"))]


@pytest.mark.parametrize(
    ("upload", "status"),
    [
        ({"filename": "x.html", "content_base64": PDF}, 400),  # type not accepted
        ({"filename": "x.pdf", "content_base64": "!!not base64!!"}, 422),  # as POST /tickets
        ({"filename": "vazio.pdf", "content_base64": ""}, 400),  # empty file
        ({"filename": "x.pdf"}, 422),  # no content
    ],
)
def test_bad_message_attachments_refuse_the_message(client, db, cast, upload, status):
    from helpdesk.tickets.models import Message

    before = db.session.query(Message).count()
    response = _post_message(client, cast, "agent_x", attachments=[upload])
    assert "attachments" in assert_problem(response, status)["errors"]
    assert db.session.query(Message).count() == before


def test_message_attachment_too_large_is_refused(client, db, app, cast, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 8)
    response = _post_message(
        client, cast, "agent_x", attachments=[{"filename": "big.pdf", "content_base64": PDF}]
    )
    assert "too large" in assert_problem(response, 400)["errors"]["attachments"]


def test_ticket_list_filters_by_channel(client, db, cast, make_ticket):
    from tests.conftest import customer_of

    phone = make_ticket(customer=customer_of(cast.customer_a), channel="phone")
    support.move_ticket(db, phone, cast.dept_x)
    body = client.get(f"{API}/tickets?channel=phone", headers=headers(cast, "admin")).get_json()
    assert [t["protocol"] for t in body["items"]] == [phone.protocol]
    web = client.get(f"{API}/tickets?channel=web", headers=headers(cast, "admin")).get_json()
    assert phone.protocol not in [t["protocol"] for t in web["items"]]
    assert {t["channel"] for t in web["items"]} == {"web"}
    # scoped as before: agent Y sees no ticket of department X, whatever the channel
    other = client.get(f"{API}/tickets?channel=phone", headers=headers(cast, "agent_y"))
    assert other.get_json()["items"] == []


def test_unknown_channel_lists_the_valid_ones(client, db, cast):
    from helpdesk.tickets.models import CHANNELS

    response = client.get(
        f"{API}/tickets?channel=fax", headers={**headers(cast, "admin"), "Accept-Language": "en"}
    )
    message = assert_problem(response, 400)["errors"]["channel"]
    assert all(channel in message for channel in CHANNELS)


def test_channel_filter_is_documented_and_indexed(client, db):
    spec = client.get(f"{API}/openapi.json").get_json()
    names = [p["name"] for p in spec["paths"]["/api/v1/tickets"]["get"]["parameters"]]
    assert "channel" in names
    from helpdesk.tickets.models import Ticket

    assert any(
        [c.name for c in index.columns][:1] == ["channel"] for index in Ticket.__table__.indexes
    )
