"""Alembic's environment for the register: run from code (`formkit db upgrade`) with a connection given.

From the Alembic command line (a developer writing a revision), the database is FORMKIT_DATABASE_URL.
"""

from alembic import context

from handler.register.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # the Alembic command line: open the configured database
    import os

    from handler.register.migrate import engine_for

    with engine_for(os.environ.get("FORMKIT_DATABASE_URL", "sqlite:///var/formkit.db")).connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    # SQLite alters tables by copying them ("batch"); its DDL is transactional through our BEGIN.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
