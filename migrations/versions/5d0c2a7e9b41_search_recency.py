"""search: `recency` beside each text vector in one GIN index (btree_gin), so that PostgreSQL
finds "the matches among the newest tickets" with one index scan; the tickets that exist are
indexed here when the index is empty

Revision ID: 5d0c2a7e9b41
Revises: 36653d9aa70e
Create Date: 2026-12-04 18:30:00
"""

import sqlalchemy as sa
from alembic import op

from helpdesk.search.models import POSTGRESQL_EXTENSIONS, RECENCY_BUCKET

revision = "5d0c2a7e9b41"
down_revision = "36653d9aa70e"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:
        for statement in POSTGRESQL_EXTENSIONS:
            bind.exec_driver_sql(statement)
    op.add_column("search_documents", sa.Column("recency", sa.Integer(), nullable=True))
    op.drop_index("ix_search_documents_public_tsv", table_name="search_documents")
    op.drop_index("ix_search_documents_all_tsv", table_name="search_documents")
    if postgresql:
        # filled without firing the trigger that rebuilds both vectors of every row
        bind.exec_driver_sql("ALTER TABLE search_documents DISABLE TRIGGER search_documents_tsv")
        bind.execute(
            sa.text("UPDATE search_documents SET recency = ticket_id / :bucket"),
            {"bucket": RECENCY_BUCKET},
        )
        bind.exec_driver_sql("ALTER TABLE search_documents ENABLE TRIGGER search_documents_tsv")
    op.create_index(
        "ix_search_documents_public_tsv_recency",
        "search_documents",
        ["public_tsv", "recency"],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_search_documents_all_tsv_recency",
        "search_documents",
        ["all_tsv", "recency"],
        postgresql_using="gin",
    )
    # a database upgraded from empty or from before the search index: index what exists
    if bind.scalar(sa.text("SELECT count(*) FROM search_documents")) == 0:
        from helpdesk.search.indexer import reindex_all

        reindex_all(bind)


def downgrade():
    op.drop_index("ix_search_documents_all_tsv_recency", table_name="search_documents")
    op.drop_index("ix_search_documents_public_tsv_recency", table_name="search_documents")
    op.create_index(
        "ix_search_documents_all_tsv", "search_documents", ["all_tsv"], postgresql_using="gin"
    )
    op.create_index(
        "ix_search_documents_public_tsv",
        "search_documents",
        ["public_tsv"],
        postgresql_using="gin",
    )
    # not in batch mode: rebuilding the table on SQLite would drop the FTS5 triggers on it
    op.drop_column("search_documents", "recency")
