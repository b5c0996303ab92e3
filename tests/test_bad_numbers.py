"""Numbers and instants that once reached a 500: digits from other scripts ('²', which
str.isdigit accepts and int() refuses), ids too large for an INTEGER column, instants that do not
exist in UTC, dates whose day arithmetic overflows. Each is a 4xx that names the field."""

from __future__ import annotations

import pytest

from tests import test_api_support as support
from tests.test_api_support import API, headers

cast = support.cast
token_for = support.token_for


@pytest.mark.parametrize(
    "path",
    [
        "/tickets?limit=²",
        "/tickets?updated_since=0001-01-01T00:00:00%2B14:00",
        "/escalations?cursor=²",
        "/escalations?cursor=99999999999999999999999",
        "/investigations?cursor=²",
        "/investigations?cursor=99999999999999999999999",
    ],
)
def test_api_queries_answer_400(client, cast, path):
    response = client.get(API + path, headers=headers(cast, "admin"))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"at": "0001-01-01T00:00:00+14:00"}, "at"),
        ({"at": "9999-12-31T23:59:59-14:00"}, "at"),
        ({"at": "2001-01-01T00:00:00Z"}, "at"),  # a PBX clock is never decades off
        ({"agent": 2**70}, "agent"),
    ],
)
def test_call_events_with_impossible_values_are_refused(client, cast, body, field):
    payload = {"call_id": "bad-1", "event": "ringing", "caller": "+5511987654321", **body}
    response = client.post(f"{API}/calls", json=payload, headers=headers(cast, "admin"))
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]


def test_huge_ids_in_json_are_field_errors(client, cast):
    response = client.patch(
        f"{API}/tickets/{cast.ticket_a.protocol}",
        json={"department": 2**70},
        headers=headers(cast, "admin"),
    )
    assert 400 <= response.status_code < 500
    assert "department" in response.get_json()["errors"]


@pytest.fixture
def supervisor_in(client, auth, make_user):
    supervisor = make_user("supervisor")
    auth.login(supervisor)
    return supervisor


@pytest.mark.parametrize(
    "path",
    [
        "/console/sla/board?hours=²",
        "/console/sla/board?department=²",
        "/console/?department=²",
        "/console/investigations?cursor=²",
        "/console/investigations/new?tickets=99999999999999999999",
    ],
)
def test_console_filters_answer_400(client, supervisor_in, path):
    assert client.get(path).status_code == 400


def test_unknown_investigation_number_in_another_script_is_404(client, supervisor_in):
    assert client.get("/console/investigations/²").status_code == 404


def test_compliance_dates_out_of_range_are_an_error_next_to_the_field(client, supervisor_in):
    response = client.get("/console/sla/compliance?date_from=9999-12-01&date_to=9999-12-31")
    assert response.status_code == 400
    assert "Please choose dates from 2000 to 2100." in response.get_data(as_text=True)
