"""Protocol numbers: digits only, date-prefixed, check digit, unique under concurrent intake."""

import threading
from datetime import UTC, datetime

import pytest
import time_machine

from helpdesk.core.errors import InvalidProtocol, ProtocolNotFound
from helpdesk.tickets import protocol
from helpdesk.tickets.services import get_ticket_by_protocol


def test_format_is_date_prefixed_digits_with_valid_check_digit():
    value = protocol.format_protocol("20261123", 42)
    assert value.isdigit() and len(value) == 15
    assert value.startswith("20261123000042")
    assert protocol.is_valid(value)


def test_every_single_digit_typo_and_adjacent_swap_is_detected():
    value = protocol.format_protocol("20261123", 123456)
    for i, ch in enumerate(value):
        for d in "0123456789":
            if d != ch:
                assert not protocol.is_valid(value[:i] + d + value[i + 1 :])
    for i in range(len(value) - 1):
        if value[i] != value[i + 1]:
            swapped = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
            assert not protocol.is_valid(swapped)


def test_people_can_type_separators():
    value = protocol.format_protocol("20261123", 7)
    typed = f"{value[:8]} {value[8:14]}-{value[14:]}"
    assert protocol.parse(typed) == value


def test_lookup_tells_wrong_check_digit_from_unknown(make_ticket):
    ticket = make_ticket()
    assert get_ticket_by_protocol(ticket.protocol).id == ticket.id
    wrong = ticket.protocol[:-1] + str((int(ticket.protocol[-1]) + 1) % 10)
    with pytest.raises(InvalidProtocol):
        get_ticket_by_protocol(wrong)
    unknown = protocol.format_protocol("20200101", 999)
    with pytest.raises(ProtocolNotFound):
        get_ticket_by_protocol(unknown)
    with pytest.raises(InvalidProtocol):
        get_ticket_by_protocol("abc")


def test_protocol_uses_local_date_and_restarts_each_day(make_ticket):
    # 01:30 UTC on the 24th is still the 23rd in São Paulo (UTC-3)
    with time_machine.travel(datetime(2026, 11, 24, 1, 30, tzinfo=UTC), tick=False):
        first = make_ticket().protocol
        second = make_ticket().protocol
    with time_machine.travel(datetime(2026, 11, 24, 12, 0, tzinfo=UTC), tick=False):
        next_day = make_ticket().protocol
    assert first[:8] == "20261123" and first[8:14] == "000001"
    assert second[8:14] == "000002"
    assert next_day[:14] == "20261124000001"


@pytest.mark.commits
def test_fifty_concurrent_registrations_get_fifty_distinct_protocols(
    app, db, make_customer, default_department
):
    from helpdesk.customers.models import Customer
    from helpdesk.extensions import db as _db
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.services import register_ticket

    customer_id = make_customer().id
    barrier = threading.Barrier(50)
    results, errors = [], []

    def worker(n):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                customer = _db.session.get(Customer, customer_id)
                ticket = register_ticket(
                    actor=None,
                    customer=customer,
                    channel="api",
                    kind="request",
                    subject=f"Pedido {n}",
                    description="x",
                )
                _db.session.commit()
                results.append(ticket.protocol)
            except Exception as exc:  # collected and asserted below
                errors.append(repr(exc))
                _db.session.rollback()
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(results) == 50 and len(set(results)) == 50
    assert all(protocol.is_valid(p) for p in results)
    assert sorted(int(p[8:14]) for p in results) == list(range(1, 51))
    db.session.expire_all()
    assert db.session.query(Ticket).count() == 50
