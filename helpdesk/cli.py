"""Command-line interface under `flask --app wsgi` (see the contract in ARCHITECTURE.md)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from .extensions import db

user_cli = AppGroup("user", help="Manage users.")
token_cli = AppGroup("token", help="Manage API tokens.")
demo_cli = AppGroup("demo", help="Demo data.")
outbox_cli = AppGroup("outbox", help="Outbound email.")
sla_cli = AppGroup("sla", help="Deadlines and escalation.")
investigations_cli = AppGroup("investigations", help="Root-cause investigations.")
reports_cli = AppGroup("reports", help="Supervisors' reports.")


@user_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["customer", "agent", "supervisor", "admin", "integration"]),
    default="agent",
)
@click.option("--password", default=None, help="Required, except for integration accounts.")
@click.option("--name", default=None)
@click.option("--department", "departments", multiple=True, help="Department name (repeatable).")
def create_user_command(email, role, password, name, departments):
    """Create a user (staff or customer)."""
    from .accounts.models import Department
    from .accounts.services import create_user, link_customer_record
    from .core.errors import DomainError

    if password is None and role != "integration":
        raise click.UsageError("--password is required (integration accounts never sign in)")
    depts = []
    for dept_name in departments:
        dept = db.session.scalar(sa.select(Department).where(Department.name == dept_name))
        if dept is None:
            raise click.ClickException(f"unknown department: {dept_name}")
        depts.append(dept)
    from .audit.services import acting

    acting(db.session(), None, "cli")
    try:
        user = create_user(
            email=email,
            name=name or email.split("@")[0],
            role=role,
            password=password,
            departments=depts,
        )
        if role == "customer":
            link_customer_record(user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.email}")


@user_cli.command("reset-2fa")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Confirm: the person lost their phone and their codes.")
def reset_two_factor_command(email, yes):
    """Turn off EMAIL's two-step sign-in and sign them out everywhere (a lost phone and lost
    recovery codes); a required role enrols again at the next sign-in. Logged in the admin log."""
    from .accounts import second_factor
    from .accounts.services import get_user_by_email
    from .accounts.sessions import revoke_user_sessions
    from .audit.services import acting

    if not yes:
        raise click.UsageError("add --yes to confirm")
    user = get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    acting(db.session(), None, "cli")
    second_factor.disable(user)
    revoke_user_sessions(user)
    db.session.commit()
    click.echo(f"two-step sign-in of {user.email} turned off; every session ended")


@token_cli.command("create")
@click.argument("email")
@click.option("--name", default="cli")
def create_token_command(email, name):
    """Create an API token for EMAIL; the token is the last line printed."""
    from .accounts.services import get_user_by_email, issue_api_token

    user = get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    raw = issue_api_token(user, name)
    db.session.commit()
    click.echo(f"API token for {user.email} ({user.role}):")
    click.echo(raw)


@demo_cli.command("load")
@click.option("--tickets", default=300, show_default=True, help="How many demo tickets.")
@click.option("--force", is_flag=True, help="Load even when the database is not empty.")
def demo_load_command(tickets, force):
    """Load demo departments, people, categories, rules and tickets (only into an empty database)."""
    from .accounts.models import User
    from .demo import load_demo

    if db.session.scalar(sa.select(User.id).limit(1)) and not force:
        click.echo("database not empty: demo data not loaded (use --force to add anyway)")
        return
    summary = load_demo(tickets=tickets)
    db.session.commit()
    click.echo(summary)


@outbox_cli.command("deliver")
def outbox_deliver_command():
    """Send the pending outbound emails once."""
    from .notifications.services import deliver_outbox

    click.echo(deliver_outbox())


@sla_cli.command("init")
def sla_init_command():
    """Create the SAC defaults when missing: the business-hours calendar, the "SAC" policy (first
    response in 1 business day, resolution in 7 calendar days) and the escalation ladder."""
    from .escalations.services import ensure_default_ladder
    from .sla.policies import ensure_default_policy

    policy = ensure_default_policy()
    rules = ensure_default_ladder()
    db.session.commit()
    click.echo(f"SLA policy: {policy.name}")
    click.echo(
        f"Escalation rules created: {len(rules)}" if rules else "Escalation rules: kept as they are"
    )


@click.command("escalate")
@with_appcontext
def escalate_command():
    """Run one escalation sweep now: mark breached deadlines, fire escalation levels."""
    from .escalations.sweep import sweep

    result = sweep()
    if not result:
        click.echo("Nothing due.")
        return
    click.echo(
        "Examined {examined} due deadline(s): {breached} breached, {escalated} escalated.".format(
            examined=result.get("examined", 0),
            breached=result.get("breached", 0),
            escalated=result.get("escalated", 0),
        )
    )
    for key in sorted(k for k in result if k.startswith("level_")):
        click.echo(f"  level {key[6:]}: {result[key]}")


@investigations_cli.command("notify-overdue")
def notify_overdue_command():
    """Tell the owners of overdue actions (once per action), as the scheduler does."""
    from .investigations.capa import notify_overdue_actions

    sent = notify_overdue_actions()
    db.session.commit()
    click.echo(f"{sent} overdue action(s) notified")


@reports_cli.command("digest")
@with_appcontext
def reports_digest_command():
    """Send the weekly digest to every supervisor and admin now (the last seven days)."""
    from .notifications.services import deliver_outbox, take_queued_ids
    from .reports.digest import send_digests

    sent = send_digests()
    db.session.commit()
    ids = take_queued_ids()
    if ids:
        deliver_outbox(ids)  # now, not at the scheduler's next outbox pass
    click.echo(f"{sent} digest(s) sent")


surveys_cli = AppGroup("surveys", help="Satisfaction surveys.")


@surveys_cli.command("send")
def surveys_send_command():
    """Send every due survey (and due reminder) now, as the scheduler does every minute."""
    from .notifications.services import deliver_queued
    from .surveys.services import send_due_surveys

    result = send_due_surveys(limit=100000)
    db.session.commit()
    deliver_queued()
    click.echo(
        "{sent} survey(s) sent, {reminded} reminder(s), {skipped} without an address.".format(
            sent=result.get("sent", 0),
            reminded=result.get("reminded", 0),
            skipped=result.get("skipped", 0),
        )
    )


def register(app: Flask) -> None:
    from .audit.cli import audit_cli
    from .compliance.cli import customers_cli, retention_cli
    from .kb import cli as kb_cli  # noqa: F401 - adds `search reindex-articles`
    from .mail.cli import mail_cli
    from .search.cli import search_cli

    groups = (
        user_cli,
        token_cli,
        demo_cli,
        outbox_cli,
        sla_cli,
        mail_cli,
        investigations_cli,
        search_cli,
        audit_cli,
        customers_cli,
        retention_cli,
        reports_cli,
        surveys_cli,
    )
    for group in groups:
        app.cli.add_command(group)
    app.cli.add_command(escalate_command)
