"""Alembic migrations of the app's database (see bot/database.py); applied automatically on open."""
