"""Persistence: SQLModel tables, engine/session factory, repositories and migrations."""
