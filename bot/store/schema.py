"""Schema versions: Alembic, configured in code, over the migrations shipped inside the package.

A database is in one of five states relative to this version of the app:
`ok` (at the head revision), `empty` (none of the app's tables, no revision), `behind` (an older
revision of ours: `gauntlet db upgrade` fixes it), `ahead` (a revision this app does not know, written
by a newer version) and `unknown` (the app's tables with no revision, so nothing says what shape they
are in).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

# Alembic logs its plugins at INFO while being imported, and its dialect on every schema check: noise
# in `gauntlet serve`'s log, where the app says what happened itself. So quieten it before importing.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import inspect  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402

from bot.store.db import load_tables, make_engine  # noqa: E402

# Tests point this at a copy with extra revisions to play a newer app against an older database.
SCRIPT_LOCATION = str(Path(__file__).with_name("migrations"))

UPGRADE_COMMAND = "gauntlet db upgrade"
REVISION_COMMAND = 'gauntlet db revision -m "what changed"'


class SchemaError(RuntimeError):
    """The database's schema does not fit this version of the app; the message says what to run."""


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # the database's revision(s), comma-separated; None when it has none
    head: str
    state: str  # ok | empty | behind | ahead | unknown

    def problem(self) -> str | None:
        """What is wrong and the exact fix, or None when the app can run against this database."""
        if self.state == "behind":
            return (f"The database schema is at revision {self.current}, this version of the app needs "
                    f"{self.head}. Run: {UPGRADE_COMMAND}")
        if self.state == "ahead":
            return (f"The database schema is newer than this app (revision {self.current} unknown): "
                    "upgrade the app, or point DATABASE_URL at another database.")
        if self.state == "unknown":
            return ("The database has Incident Gauntlet tables but no schema revision, so its shape is "
                    "unknown. Point DATABASE_URL at an empty database, or, if you know these tables "
                    f"match revision {self.head}, record that with: gauntlet db stamp {self.head}")
        if self.state == "empty":
            return f"The database has no tables yet. Run: {UPGRADE_COMMAND}"
        return None


def app_table_names() -> set[str]:
    """The tables the app's own models define. Anything else on SQLModel.metadata (a table a test
    declares, say) is never written into a revision nor compared against one."""
    from sqlmodel.main import default_registry

    load_tables()
    return {m.local_table.name for m in default_registry.mappers if m.class_.__module__.startswith("bot.")}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter for autogenerate and comparisons: only the app's tables (and what is in them)."""
    return type_ != "table" or name in app_table_names()


def alembic_config(*, url: str | None = None, connection: Connection | None = None,
                   script_location: str | None = None, output_buffer=None) -> Config:
    """An Alembic Config built in code (no alembic.ini). Give it a live connection, or a URL (which
    is all offline `--sql` mode needs)."""
    # Alembic's progress messages go to a buffer nobody reads; offline SQL goes to output_buffer.
    cfg = Config(stdout=io.StringIO(), output_buffer=output_buffer)
    cfg.set_main_option("script_location", script_location or SCRIPT_LOCATION)
    # Passed as an attribute, not a main option: config files treat '%' in passwords as syntax.
    cfg.attributes["connection"] = connection
    cfg.attributes["url"] = url
    return cfg


def script_directory(script_location: str | None = None) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(script_location=script_location))


def _app_tables_present(conn: Connection) -> bool:
    metadata = load_tables()
    return bool(set(inspect(conn).get_table_names()) & set(metadata.tables))


def check_schema(engine: Engine, *, script_location: str | None = None) -> SchemaStatus:
    """Where the database stands against this app's head revision."""
    script = script_directory(script_location)
    head = script.get_current_head()
    if head is None:  # a packaging mistake, not a database problem
        raise SchemaError(f"No migrations found in {script.dir}.")
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
        has_tables = _app_tables_present(conn) if not current else True
    shown = ", ".join(current) or None
    if not current:
        return SchemaStatus(None, head, "unknown" if has_tables else "empty")
    if set(current) == {head}:
        return SchemaStatus(shown, head, "ok")
    known = {rev.revision for rev in script.walk_revisions()}
    if any(rev not in known for rev in current):
        return SchemaStatus(shown, head, "ahead")
    return SchemaStatus(shown, head, "behind")


def create_schema(engine: Engine, *, script_location: str | None = None) -> None:
    """Create every table of an empty database from the models and record the head revision.

    Faster than running each migration (what tests rely on); the migrations test proves the two
    give the same schema."""
    metadata = load_tables()
    script = script_directory(script_location)
    with engine.begin() as conn:
        metadata.create_all(conn)
        MigrationContext.configure(conn).stamp(script, "head")


def _run(engine: Engine, alembic_command, revision: str, script_location: str | None) -> None:
    # A connection outside any transaction: Alembic opens its own, so a revision can step out of it
    # (op.get_context().autocommit_block()) for CREATE INDEX CONCURRENTLY on PostgreSQL.
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table (copy, drop, rename); with foreign keys enforced, the
            # drop fails as soon as another table's rows point at it. Off for the migration (the pragma
            # only takes effect outside a transaction), then checked and back on.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            alembic_command(alembic_config(connection=conn, script_location=script_location), revision)
            conn.commit()
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"the migration left {len(broken)} rows pointing at missing rows "
                                      f"(first: table {broken[0][0]}, row {broken[0][1]})")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def upgrade(target: Engine | str | None = None, revision: str = "head", *,
            script_location: str | None = None) -> SchemaStatus:
    """Run the migrations up to `revision` on an engine, a URL, or DATABASE_URL; returns the new status."""
    engine = target if isinstance(target, Engine) else make_engine(target)
    status = check_schema(engine, script_location=script_location)
    if status.state in ("ahead", "unknown"):
        raise SchemaError(status.problem())
    _run(engine, command.upgrade, revision, script_location)
    return check_schema(engine, script_location=script_location)


def downgrade(engine: Engine, revision: str, *, script_location: str | None = None) -> None:
    _run(engine, command.downgrade, revision, script_location)


def stamp(engine: Engine, revision: str, *, script_location: str | None = None) -> None:
    """Record `revision` as the database's schema without running anything."""
    script = script_directory(script_location)
    with engine.begin() as conn:
        MigrationContext.configure(conn).stamp(script, revision)


def offline_sql(url: str, revision_range: str = "head", *, script_location: str | None = None) -> str:
    """The SQL the migrations would run on the URL's dialect, without connecting (Alembic's --sql)."""
    out = io.StringIO()
    cfg = alembic_config(url=url, script_location=script_location, output_buffer=out)
    command.upgrade(cfg, revision_range, sql=True)
    return out.getvalue()


def new_revision(message: str, *, script_location: str | None = None) -> Path:
    """Write a revision for the difference between the models and the head revision (autogenerate).

    The comparison runs against a scratch SQLite database migrated to head, so no developer database
    is needed or touched. Review the file before committing it."""
    import tempfile

    script = script_directory(script_location)
    number = sum(1 for _ in script.walk_revisions()) + 1
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            _run(engine, command.upgrade, "head", script_location)
            with engine.connect() as conn:
                cfg = alembic_config(connection=conn, script_location=script_location)
                cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
                written = command.revision(cfg, message, autogenerate=True, rev_id=f"{number:04d}")
        finally:
            engine.dispose()
    scripts = written if isinstance(written, list) else [written]
    return Path(scripts[0].path)


def require_current_schema(engine: Engine, *, create_if_empty: bool = True,
                           upgrade_if_behind: bool = False,
                           script_location: str | None = None) -> SchemaStatus:
    """Make sure the app can run against this database, or raise SchemaError saying what to run.

    An empty database is created (a fresh install just works). A database behind the app is upgraded
    only when asked, as the terminal drill does for its private file. Returns the status found
    before acting, so a caller can say what it did."""
    status = check_schema(engine, script_location=script_location)
    if status.state == "empty" and create_if_empty:
        create_schema(engine, script_location=script_location)
    elif status.state == "behind" and upgrade_if_behind:
        upgrade(engine, script_location=script_location)
    elif status.state != "ok":
        raise SchemaError(status.problem())
    return status


def init_db(engine: Engine) -> None:
    """Create the schema of an empty database and record its revision; leave any other database alone.

    A database holding the app's tables but no revision is refused (SchemaError): nothing says what
    shape those tables are in. Start-up checks (`bot.store.schema.require_current_schema`) catch a
    database that is behind or ahead of the app."""
    status = check_schema(engine)
    if status.state == "empty":
        create_schema(engine)
    elif status.state == "unknown":
        raise SchemaError(status.problem())
