"""Alembic migrations of the post store: every schema change comes as one of these."""

# The newest migration, so that checking a database's schema (at start-up, /readyz) needs no
# Alembic: importing it costs every worker about 11 MiB. A new migration moves this too;
# tests/test_migrations.py fails until it does.
SCHEMA_HEAD = "0009"
