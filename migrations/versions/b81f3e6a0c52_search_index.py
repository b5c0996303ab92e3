"""search: one index row per ticket; SQLite FTS5 table, or PostgreSQL tsvectors, unaccent and
the unaccented text search configurations; filled for the tickets that exist

Revision ID: b81f3e6a0c52
Revises: a7d4c2e91b30
Create Date: 2026-12-04 16:10:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b81f3e6a0c52'
down_revision = 'a7d4c2e91b30'
branch_labels = None
depends_on = None

# frozen here (not imported), so that this revision keeps doing what it did
SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "public_text, internal_text, keys, content='search_documents', content_rowid='ticket_id', "
    "tokenize=\"unicode61 remove_diacritics 2\")",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, public_text, internal_text, keys) "
    "VALUES (new.ticket_id, new.public_text, new.internal_text, new.keys); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, public_text, internal_text, keys) "
    "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text, old.keys); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, public_text, internal_text, keys) "
    "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text, old.keys); "
    "INSERT INTO search_fts(rowid, public_text, internal_text, keys) "
    "VALUES (new.ticket_id, new.public_text, new.internal_text, new.keys); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TABLE IF EXISTS search_fts",
)
_CONFIGS = {"pt_unaccent": "portuguese", "es_unaccent": "spanish", "simple_unaccent": "simple"}
POSTGRESQL_DDL = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    *(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{name}') THEN "
        f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {source}); "
        f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word "
        f"WITH unaccent, {'simple' if source == 'simple' else source + '_stem'}; "
        "END IF; END $$"
        for name, source in _CONFIGS.items()
    ),
    """CREATE OR REPLACE FUNCTION search_documents_tsv() RETURNS trigger AS $$
BEGIN
  NEW.public_tsv :=
    setweight(to_tsvector('simple_unaccent', coalesce(NEW.keys, '')), 'A')
    || to_tsvector(NEW.config::regconfig, coalesce(NEW.public_text, ''))
    || to_tsvector('simple_unaccent', coalesce(NEW.public_text, ''));
  NEW.all_tsv := NEW.public_tsv
    || to_tsvector(NEW.config::regconfig, coalesce(NEW.internal_text, ''))
    || to_tsvector('simple_unaccent', coalesce(NEW.internal_text, ''));
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS search_documents_tsv ON search_documents",
    "CREATE TRIGGER search_documents_tsv BEFORE INSERT OR UPDATE ON search_documents "
    "FOR EACH ROW EXECUTE FUNCTION search_documents_tsv()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS search_documents_tsv ON search_documents",
    "DROP FUNCTION IF EXISTS search_documents_tsv()",
)


def upgrade():
    tsv = sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql')
    op.create_table(
        'search_documents',
        sa.Column('ticket_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('config', sa.String(length=20), nullable=False),
        sa.Column('public_text', sa.Text(), nullable=False),
        sa.Column('internal_text', sa.Text(), nullable=False),
        sa.Column('keys', sa.Text(), nullable=False),
        sa.Column('public_tsv', tsv, nullable=True),
        sa.Column('all_tsv', tsv, nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id'),
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index(
            'ix_search_documents_public_tsv', ['public_tsv'], unique=False,
            postgresql_using='gin',
        )
        batch_op.create_index(
            'ix_search_documents_all_tsv', ['all_tsv'], unique=False, postgresql_using='gin'
        )
    bind = op.get_bind()
    statements = {'sqlite': SQLITE_DDL, 'postgresql': POSTGRESQL_DDL}.get(bind.dialect.name, ())
    for statement in statements:
        bind.exec_driver_sql(statement)

    # The tickets that exist get their rows in revision 5d0c2a7e9b41, once the table has all the
    # columns that today's indexer writes (this revision used to call it here).


def downgrade():
    bind = op.get_bind()
    statements = {'sqlite': SQLITE_DROP, 'postgresql': POSTGRESQL_DROP}.get(bind.dialect.name, ())
    for statement in statements:
        bind.exec_driver_sql(statement)
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_all_tsv')
        batch_op.drop_index('ix_search_documents_public_tsv')
    op.drop_table('search_documents')
