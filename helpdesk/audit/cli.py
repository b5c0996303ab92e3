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
@click.option(
    "--ticket",
    "protocol",
    default=None,
    help="Check only this demand's chain (its protocol), e.g. against a printed history document.",
)
@click.option(
    "--hash",
    "printed",
    default=None,
    help="With --ticket: the trail hash printed on the document; it must be a link of the chain.",
)
def verify_command(seal: bool, protocol: str | None, printed: str | None):
    """Check every hash chain; name the first broken row of each broken chain; exit 1 if any."""
    if printed and not protocol:
        raise click.UsageError("--hash needs --ticket")
    if protocol:
        _verify_one(protocol, printed)
        return
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


def _verify_one(raw_protocol: str, printed: str | None) -> None:
    """One demand's chain, and where a printed final hash sits in it (exit 1 if broken or absent)."""
    import sqlalchemy as sa

    from ..core.errors import InvalidProtocol
    from ..tickets import protocol as protocols
    from ..tickets.models import Ticket

    try:
        number = protocols.parse(raw_protocol)
    except InvalidProtocol as exc:
        raise click.ClickException(str(exc)) from None
    ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.protocol == number))
    if ticket_id is None:
        raise click.ClickException(f"no demand with protocol {number}")
    try:
        links, broken = trail.verify_ticket(db.session.connection(), ticket_id)
    finally:
        db.session.rollback()  # read only: end the transaction
    if broken is not None:
        click.echo(
            f"BROKEN ticket {number}: event {broken.event_id} "
            f"{'has no hash' if broken.reason == 'unsealed' else 'does not match its content and the chain before it'}",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"ticket {number}: {len(links)} event(s), the chain verifies")
    if links:
        click.echo(f"final hash now: {links[-1][1]}")
    if not printed:
        return
    printed = printed.strip().lower()
    for position, (event_id, link) in enumerate(links, start=1):
        if link == printed:
            after = len(links) - position
            click.echo(
                f"OK: the printed hash is the link of event {event_id} "
                f"(event {position} of {len(links)}; {after} event(s) recorded after it)"
            )
            return
    click.echo("NOT FOUND: the printed hash is not a link of this demand's chain", err=True)
    raise SystemExit(1)
