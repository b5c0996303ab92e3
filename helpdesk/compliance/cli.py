"""`flask --app wsgi customers export|anonymise` and `flask --app wsgi retention run`."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..extensions import db

customers_cli = AppGroup("customers", help="Data subjects: export and anonymise.")
retention_cli = AppGroup("retention", help="Records retention (rule 6).")


def _customer(email: str):
    from .export import customer_by_email

    customer = customer_by_email(email)
    if customer is None:
        raise click.ClickException(f"no customer with email {email}")
    return customer


@customers_cli.command("export")
@click.argument("email")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
def export_command(email, out):
    """Write everything held about the customer with EMAIL as JSON to --out (every message, staff
    notes included and marked internal)."""
    from .export import export_customer

    data = export_customer(_customer(email), include_internal=True)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
    messages = sum(len(d["messages"]) for d in data["demands"])
    click.echo(f"exported {len(data['demands'])} demand(s), {messages} message(s) to {out}")


@customers_cli.command("anonymise")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
def anonymise_command(email, yes):
    """Anonymise the customer with EMAIL and all their demands (refused under a legal hold)."""
    from .anonymise import LegalHold, anonymise_customer

    customer = _customer(email)
    if not yes:
        raise click.UsageError("anonymisation cannot be undone: add --yes to confirm")
    try:
        result = anonymise_customer(customer)
    except LegalHold as exc:
        db.session.rollback()
        raise click.ClickException(f"refused: {exc}") from None
    db.session.commit()
    click.echo(
        f"anonymised customer {customer.id}: {result['tickets']} demand(s), "
        f"{result['attachments']} attachment(s) deleted"
    )


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what would be anonymised.")
def retention_run_command(dry_run):
    """Anonymise the records whose retention period has passed."""
    from .retention import retention_days, run_retention

    result = run_retention(dry_run=dry_run, on_batch=db.session.commit)
    db.session.commit()
    verb = "would anonymise" if dry_run else "anonymised"
    click.echo(
        f"retention {retention_days()} days: {verb} {result['tickets']} demand(s) and "
        f"{result['customers']} customer(s)"
    )
