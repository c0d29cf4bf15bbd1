"""Alembic environment: run on the connection the app hands over (see annotation/app/db.py migrate)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
