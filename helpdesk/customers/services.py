"""Customer operations: normalise contact data, find a caller, create or update a record."""

from __future__ import annotations

import logging
import re
import unicodedata

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..core.errors import Conflict, ValidationError
from ..extensions import db
from .documents import digits, is_valid_document
from .models import SEGMENTS, Customer, CustomerEmail, CustomerPhone

log = logging.getLogger(__name__)

MAX_NAME = 200


_RECEIVED_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]{1,64}@[^\s@<>()\[\],;:\"\\]{1,253}")


def normalize_email(value: str, *, received: bool = False) -> str:
    """The address lower-cased and validated. `received=True` is for an address a mail server
    already delivered from (inbound email): what a mailbox accepted is accepted too
    (`.test`/`.local` or dotless domains, a dot before the @), as long as it is one address."""
    value = (value or "").strip()
    if len(value) > 254:
        raise ValidationError(_l("This email address is not valid."), field="email")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        value = unicodedata.normalize("NFC", value).rstrip(".")
        if received and _RECEIVED_ADDRESS.fullmatch(value) and value.isprintable():
            return value.lower()
        raise ValidationError(_l("This email address is not valid."), field="email") from None
    return result.normalized.lower()


def normalize_phone(value: str, region: str | None = None) -> str:
    """Return E.164 (+5511...) or raise ValidationError."""
    region = region or current_app.config.get("DEFAULT_PHONE_REGION", "BR")
    value = (value or "").strip()
    if len(value) > 40:
        raise ValidationError(_l("This phone number is not valid."), field="phone")
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_l("This phone number is not valid."), field="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_l("This phone number is not valid."), field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_document(value: str) -> str:
    d = digits(value)
    if not is_valid_document(d):
        raise ValidationError(
            _l("This CPF or CNPJ is not valid: please check the digits."), field="document"
        )
    return d


def format_phone(e164: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_l("Please give the customer's name."), field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(_l("The name is too long (at most 200 characters)."), field="name")
    return name


def find_customers(
    *,
    phone: str | None = None,
    email: str | None = None,
    document: str | None = None,
    limit: int = 20,
) -> list[Customer]:
    """Find customers by any contact datum; invalid input raises ValidationError."""
    stmt = sa.select(Customer)
    if phone:
        stmt = stmt.join(CustomerPhone).where(CustomerPhone.number == normalize_phone(phone))
    elif email:
        stmt = stmt.join(CustomerEmail).where(CustomerEmail.email == normalize_email(email))
    elif document:
        stmt = stmt.where(Customer.document == normalize_document(document))
    else:
        return []
    return list(db.session.scalars(stmt.limit(limit)))


def find_customer_by_email(email: str) -> Customer | None:
    return db.session.scalar(
        sa.select(Customer).join(CustomerEmail).where(CustomerEmail.email == email)
    )


def create_customer(
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    document: str | None = None,
    segment: str = "individual",
    is_key_account: bool = False,
    key_account_agent_id: int | None = None,
    user_id: int | None = None,
    locale: str | None = None,
    received_email: bool = False,
) -> Customer:
    """`received_email`: the address comes from an email we received (see normalize_email)."""
    name = _clean_name(name)
    email_n = normalize_email(email, received=received_email) if email else None
    phone_n = normalize_phone(phone) if phone else None
    doc_n = normalize_document(document) if document else None
    if segment not in SEGMENTS:
        raise ValidationError(_l("Unknown customer segment."), field="segment")
    if email_n and find_customer_by_email(email_n):
        raise Conflict(_l("A customer with this email already exists."), field="email")
    if phone_n and db.session.scalar(
        sa.select(CustomerPhone.id).where(CustomerPhone.number == phone_n)
    ):
        raise Conflict(_l("A customer with this phone number already exists."), field="phone")
    if doc_n and db.session.scalar(sa.select(Customer.id).where(Customer.document == doc_n)):
        raise Conflict(_l("A customer with this document already exists."), field="document")
    customer = Customer(
        name=name,
        document=doc_n,
        segment=segment,
        is_key_account=is_key_account,
        key_account_agent_id=key_account_agent_id,
        user_id=user_id,
        locale=locale,
    )
    if email_n:
        customer.emails.append(CustomerEmail(email=email_n))
    if phone_n:
        customer.phones.append(CustomerPhone(number=phone_n))
    try:
        with db.session.begin_nested():
            db.session.add(customer)
            db.session.flush()
    except IntegrityError:
        # the same email, phone or document committed by another worker between the checks above
        # and this insert (two mailboxes, two servers): the same answer as the checks give
        field = "email" if email_n else "phone" if phone_n else "document"
        raise Conflict(_l("This customer was registered a moment ago."), field=field) from None
    log.info(
        "Customer %s created (segment %s, login %s)",
        customer.id,
        customer.segment,
        customer.user_id,
    )
    return customer


def resolve_customer(
    *,
    name: str | None,
    email: str | None = None,
    phone: str | None = None,
    document: str | None = None,
    locale: str | None = None,
) -> Customer:
    """Find the customer by document, email or phone (in that order) or create one.

    Contact data not yet on the record is added to it, so the next contact finds them by it.
    """
    doc_n = normalize_document(document) if document else None
    email_n = normalize_email(email) if email else None
    phone_n = normalize_phone(phone) if phone else None
    customer = _find_by_any(doc_n, email_n, phone_n)
    if customer is None:
        if not (email_n or phone_n or doc_n):
            raise ValidationError(
                _l("Give at least an email, a phone number or a document."), field="email"
            )
        try:
            return create_customer(
                name=name or email_n or phone_n or "",
                email=email_n,
                phone=phone_n,
                document=doc_n,
                locale=locale,
            )
        except Conflict:
            # another request registered the same person a moment ago (two channels, a retried
            # connector): that record is the one we were looking for
            customer = _find_by_any(doc_n, email_n, phone_n)
            if customer is None:
                raise
    add_contacts(customer, email=email_n, phone=phone_n, document=doc_n)
    return customer


def _find_by_any(document: str | None, email: str | None, phone: str | None) -> Customer | None:
    """By document, then email, then phone (already normalised)."""
    customer = None
    if document:
        customer = db.session.scalar(sa.select(Customer).where(Customer.document == document))
    if customer is None and email:
        customer = find_customer_by_email(email)
    if customer is None and phone:
        customer = db.session.scalar(
            sa.select(Customer).join(CustomerPhone).where(CustomerPhone.number == phone)
        )
    return customer


def add_contacts(
    customer: Customer,
    *,
    email: str | None = None,
    phone: str | None = None,
    document: str | None = None,
) -> None:
    """Attach already-normalised contact data that belongs to nobody else."""
    if (
        email
        and email not in {e.email for e in customer.emails}
        and not find_customer_by_email(email)
    ):
        customer.emails.append(CustomerEmail(email=email))
    if (
        phone
        and phone not in {p.number for p in customer.phones}
        and not db.session.scalar(sa.select(CustomerPhone.id).where(CustomerPhone.number == phone))
    ):
        customer.phones.append(CustomerPhone(number=phone))
    if (
        document
        and not customer.document
        and not db.session.scalar(sa.select(Customer.id).where(Customer.document == document))
    ):
        customer.document = document
    db.session.flush()
    log.info("Customer %s: contact data added", customer.id)


def update_customer(
    customer: Customer,
    *,
    name: str | None = None,
    segment: str | None = None,
    is_key_account: bool | None = None,
    key_account_agent_id: int | None = None,
) -> Customer:
    if name is not None:
        customer.name = _clean_name(name)
    if segment is not None:
        if segment not in SEGMENTS:
            raise ValidationError(_l("Unknown customer segment."), field="segment")
        customer.segment = segment
    if is_key_account is not None:
        customer.is_key_account = is_key_account
        customer.key_account_agent_id = key_account_agent_id if is_key_account else None
    db.session.flush()
    log.info(
        "Customer %s updated (segment %s, key account %s)",
        customer.id,
        customer.segment,
        customer.is_key_account,
    )
    return customer
