"""Alembic environment: runs on the connection that bot.database.migrate hands over (inside its lock)."""

from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
