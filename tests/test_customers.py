"""Customers: E.164 phones, validated CPF/CNPJ, found by any contact datum."""

import pytest

from helpdesk.core.errors import Conflict, ValidationError
from helpdesk.customers.documents import is_valid_document, make_cpf
from helpdesk.customers.services import (
    find_customers,
    normalize_document,
    normalize_phone,
    resolve_customer,
)


@pytest.mark.parametrize(
    "typed", ["(11) 98765-4321", "11 98765 4321", "+55 11 98765-4321", "011987654321"]
)
def test_phones_are_stored_in_e164_whatever_the_typing(db, typed):
    assert normalize_phone(typed) == "+5511987654321"


@pytest.mark.parametrize("bad", ["123", "abc", "+55 11 1234", "9" * 50])
def test_invalid_phone_is_refused(db, bad):
    with pytest.raises(ValidationError) as info:
        normalize_phone(bad)
    assert info.value.field == "phone"


def test_cpf_and_cnpj_check_digits():
    cpf = make_cpf("123456789")
    assert cpf == "12345678909"
    assert is_valid_document("123.456.789-09")
    assert not is_valid_document("123.456.789-08")
    assert not is_valid_document("111.111.111-11")
    assert is_valid_document("11.222.333/0001-81")
    assert not is_valid_document("11.222.333/0001-82")
    with pytest.raises(ValidationError):
        normalize_document("123.456.789-00")


def test_caller_found_by_phone_email_or_document(db, make_customer):
    customer = make_customer(
        name="Maria Souza",
        email="Maria@Example.com",
        phone="11987654321",
        document="123.456.789-09",
    )
    assert find_customers(phone="(11) 98765-4321") == [customer]
    assert find_customers(email="maria@example.com") == [customer]
    assert find_customers(document="12345678909") == [customer]
    assert find_customers(phone="(11) 91234-5678") == []


def test_resolve_customer_reuses_record_and_adds_new_contacts(db, make_customer):
    customer = make_customer(email="joao@example.com")
    again = resolve_customer(name="João", email="JOAO@example.com", phone="+55 21 99876-5432")
    assert again.id == customer.id
    assert find_customers(phone="21998765432") == [customer]


def test_duplicate_contact_is_a_conflict(db, make_customer):
    make_customer(email="ana@example.com")
    from helpdesk.customers.services import create_customer

    with pytest.raises(Conflict):
        create_customer(name="Outra Ana", email="ana@example.com")


def test_resolve_customer_takes_the_record_a_concurrent_request_just_created(db, monkeypatch):
    """Two channels register the same new person at once: the second finds nobody, then meets
    the first one's record when it tries to create it. It must use that record, not fail."""
    from helpdesk.customers import services

    real_create = services.create_customer

    def create_after_the_other_request(**kw):
        real_create(name="Primeira Requisição", email="nova@example.com")  # the other request
        return real_create(**kw)

    monkeypatch.setattr(services, "create_customer", create_after_the_other_request)
    customer = resolve_customer(name="Nova Cliente", email="nova@example.com", phone="11987650000")
    assert customer.name == "Primeira Requisição"
    assert find_customers(phone="11987650000") == [customer]
