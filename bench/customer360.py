"""Figures for the customer 360 queries on PostgreSQL: the timeline page and the at-risk count.

`HELPDESK_DATABASE_URL=postgresql+psycopg://…/EMPTY_DB flask --app wsgi db upgrade`, then
`HELPDESK_DATABASE_URL=… python -m bench.customer360`: seeds 200k tickets over 20k customers
(customer 1 has 5,000 demands, their resolutions, 500 verdicts, 1,000 calls, 500 record changes)
by SQL when the database has no ticket, then prints the best and median of 20 runs.
"""

import time
from datetime import timedelta

import sqlalchemy as sa

from helpdesk import create_app
from helpdesk.core.clock import now
from helpdesk.extensions import db

app = create_app()

SQL = """
insert into departments (name, description, is_default, is_ombudsman, active, created_at)
  select 'SAC', '', true, false, true, now() where not exists (select 1 from departments);
insert into customers (name, segment, is_key_account, legal_hold, customer_notes, customer_important_dates, created_at)
  select 'Cliente ' || g, 'individual', false, false, '', '', now() from generate_series(1, 20000) g;
insert into tickets (protocol, kind, channel, subject, description, remedy, outcome, status, priority,
  department_id, customer_id, created_at, updated_at)
  select lpad(g::text, 15, '0'), (array['complaint','request','suggestion'])[1 + g % 3], 'web', 'Assunto ' || g, '', '', '',
    'open', 2, (select min(id) from departments), case when g <= 5000 then 1 else 1 + g % 20000 end,
    now() - (g % 400) * interval '1 day' - g * interval '1 second', now()
  from generate_series(1, 200000) g;
insert into ticket_events (ticket_id, action, field, new_value, detail, is_public, created_at)
  select id, 'status', 'status', 'resolved', '', true, created_at + interval '2 days' from tickets where customer_id = 1;
insert into ticket_events (ticket_id, action, new_value, detail, is_public, created_at)
  select id, 'verdict', 'not_resolved', '', true, created_at + interval '3 days' from tickets where customer_id = 1 and id % 10 = 0;
insert into calls (provider, call_id, caller_number, called_number, customer_id, ticket_id, started_at, created_at, updated_at)
  select 'pbx', 'c' || id, '', '', customer_id, id, created_at, created_at, created_at from tickets where id % 5 = 0;
insert into customer_events (customer_id, action, field, new_value, created_at)
  select 1, 'changed', 'value_tier', 'high', now() - g * interval '1 hour' from generate_series(1, 500) g;
analyze;
"""

with app.app_context():
    if not db.session.scalar(sa.text("select count(*) from tickets")):
        t = time.perf_counter()
        for stmt in SQL.split(";\n"):
            if stmt.strip():
                db.session.execute(sa.text(stmt))
        db.session.commit()
        print(f"seeded in {time.perf_counter() - t:.1f} s")
    from helpdesk.customers.timeline import timeline_page
    from helpdesk.tickets.models import Ticket

    def best(fn, n=20):
        times = []
        for _ in range(n):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return min(times) * 1000, sorted(times)[n // 2] * 1000

    def show(label, fn):
        fastest, median = best(fn)
        print(f"{label}: best {fastest:.2f} ms, median {median:.2f} ms")

    def complaints(customer_id):
        return sa.select(sa.func.count(Ticket.id)).where(
            Ticket.customer_id == customer_id,
            Ticket.created_at >= now() - timedelta(days=30),
            Ticket.kind == "complaint",
        )

    page = timeline_page(1, None, limit=30)
    show("timeline first page (5,000-demand customer)", lambda: timeline_page(1, None, limit=30))
    show(
        "timeline next page",
        lambda: timeline_page(1, None, cursor=page.next_cursor, limit=30),
    )
    show("timeline, agent of one department", lambda: timeline_page(1, [1], limit=30))
    show("timeline (customer with 10 demands)", lambda: timeline_page(777, None, limit=30))
    show(
        "at-risk complaint count (5,000-demand customer)", lambda: db.session.scalar(complaints(1))
    )
    show("at-risk complaint count (typical customer)", lambda: db.session.scalar(complaints(777)))
    sql = str(complaints(777).compile(db.engine, compile_kwargs={"literal_binds": True}))
    print("\n".join(db.session.execute(sa.text("explain " + sql)).scalars()))
    db.session.rollback()
