"""Alembic migrations of the post store: every schema change comes as one of these."""
