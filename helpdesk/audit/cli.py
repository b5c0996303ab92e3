"""`flask --app wsgi audit verify [--seal]`: check every ticket's event chain and the admin chain."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..extensions import db
from ..tickets import trail
from .services import verify_entries

audit_cli = AppGroup("audit", help="The tamper-evident trail.")


@audit_cli.command("verify")
@click.option(
    "--seal",
    is_flag=True,
    help="First compute the links of events stored without one (rows written before the chain "
    "existed or by a bulk loader); rows already sealed are never rewritten.",
)
def verify_command(seal: bool):
    """Check every hash chain; name the first broken row of each broken chain; exit 1 if any."""
    started = time.perf_counter()
    with db.engine.connect() as connection:
        if seal:
            with connection.begin():
                sealed = trail.seal_events(connection)
            click.echo(f"sealed {sealed} event(s)")
        events, broken = trail.verify_events(connection)
        entries, bad_entry, reason = verify_entries(connection)
    for b in broken:
        click.echo(
            f"BROKEN ticket {b.protocol or b.ticket_id} (id {b.ticket_id}): event {b.event_id} "
            f"{'has no hash (run audit verify --seal)' if b.reason == 'unsealed' else 'does not match its content and the chain before it'}",
            err=True,
        )
    if bad_entry is not None:
        click.echo(
            f"BROKEN admin audit log: entry {bad_entry} "
            f"{'has no hash' if reason == 'unsealed' else 'does not match its content and the chain before it'}",
            err=True,
        )
    took = time.perf_counter() - started
    click.echo(
        f"checked {events} ticket event(s) and {entries} admin audit entr(ies) in {took:.1f} s"
    )
    if broken or bad_entry is not None:
        raise SystemExit(1)
    click.echo("OK: every chain verifies")
