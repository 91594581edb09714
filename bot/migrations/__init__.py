"""Alembic migrations of the app's database (see bot/database.py), applied automatically when it is opened.

A new migration is a file in versions/ like the others: ``revision`` a new id, ``down_revision`` the newest one.
Migrations copy the columns they need instead of importing bot/database.py, so an old one never changes.
"""
