"""Alembic environment: the models' metadata is the target; the engine comes from the app or the .ini."""

from sqlalchemy import engine_from_config

from alembic import context
from hyperapi import models
from hyperapi.db import make_engine
from hyperapi.db.migrations import include_object_for

config = context.config
target_metadata = models.metadata


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    # `alembic -c development.ini upgrade head`: read [app:main] like the app does.
    if config.config_file_name:
        from pyramid.paster import get_appsettings

        return make_engine(get_appsettings(config.config_file_name))
    return engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.")


def run_migrations_online():
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object_for(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
