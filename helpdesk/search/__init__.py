"""Full-text search over tickets: one service (`service.search`), two engines (SQLite FTS5,
PostgreSQL tsvector + GIN), one index row per ticket kept current in the writing transaction."""
