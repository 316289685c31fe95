"""Schema migrations: the revisions build the schema the models describe on SQLite and PostgreSQL, pass
squawk, and the app refuses to start against an older or newer schema, saying which command fixes it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.store import schema
from bot.store.db import load_tables, make_engine
from bot.store.schema import SchemaError, check_schema, create_schema, init_db, script_directory, upgrade
from bot.terminal.cli import _engine_db, drill_database, main

REPO = Path(__file__).resolve().parents[2]
HEAD = script_directory().get_current_head()
APP_SCRIPTS = schema.SCRIPT_LOCATION
NEWER = "t_newer"  # the id of the revision a "newer app" adds in these tests

HOW_TO_REVISE = (
    "The models and the newest migration differ. Every model change needs a revision: run\n"
    f"    {schema.REVISION_COMMAND}\n"
    "then review the file it writes under bot/store/migrations/versions/ and commit it with the models."
)


@pytest.fixture
def sqlite_file(tmp_path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def newer_scripts(tmp_path) -> str:
    """A copy of the app's migrations plus one more revision: what the next version of the app ships."""
    target = tmp_path / "newer_migrations"
    shutil.copytree(schema.SCRIPT_LOCATION, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "versions" / f"{NEWER}.py").write_text(f'''"""A later change: a nullable column."""
import sqlalchemy as sa
from alembic import op

revision = "{NEWER}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person") as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("person") as batch_op:
        batch_op.drop_column("note")
''')
    return str(target)


def assert_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": schema.include_object})
        differences = compare_metadata(context, load_tables())
    assert differences == [], f"{HOW_TO_REVISE}\nDifferences: {differences}"


def set_revision(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision})


# --- the revisions against the models ---------------------------------------------------------------

def test_upgrade_from_empty_builds_exactly_the_models(empty_db):
    """Running every migration on an empty database reaches head with a schema identical to the models."""
    assert check_schema(empty_db).state == "empty"
    status = upgrade(empty_db)
    assert (status.state, status.current, status.head) == ("ok", HEAD, HEAD)
    assert schema.app_table_names() <= set(inspect(empty_db).get_table_names())
    assert_matches_models(empty_db)


def test_the_fast_path_for_empty_databases_matches_the_migrations(empty_db):
    """init_db on an empty database (create_all, then stamp) gives the head revision and the models'
    schema."""
    init_db(empty_db)
    assert check_schema(empty_db).state == "ok"
    assert_matches_models(empty_db)
    init_db(empty_db)  # a second start-up leaves a current database alone
    assert check_schema(empty_db).current == HEAD


def test_upgrade_keeps_rows_that_other_tables_point_at(empty_db):
    """A database with interviews and answers that point at them upgrades from the first revisions to
    head: SQLite rebuilds altered tables, which must not trip over the rows that reference them."""
    upgrade(empty_db, "0002")
    with empty_db.begin() as conn:
        for table, given in (("interview", {"id": 1}), ("answer", {"id": 1, "interview_id": 1})):
            _insert_row(conn, table, given)
    assert upgrade(empty_db).state == "ok"
    with empty_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM answer WHERE interview_id = 1")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM interview")).scalar() == 1


def _insert_row(conn, table: str, given: dict) -> None:
    """A row with `given` and a plain value for every other required column, as the schema is now."""
    values = dict(given)
    for column in inspect(conn).get_columns(table):
        if column["name"] in values or column["nullable"] or column.get("default") is not None:
            continue
        kind = str(column["type"]).upper()
        if "INT" in kind or "BOOL" in kind:
            values[column["name"]] = 1
        elif "DATE" in kind or "TIME" in kind:
            values[column["name"]] = "2026-01-01 00:00:00"
        else:
            values[column["name"]] = "[]" if "JSON" in kind else "x"
    names = ", ".join(values)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in values)})"), values)


def test_downgrade_to_base_and_upgrade_again(empty_db):
    """Downgrading to base removes every app table; upgrading again rebuilds the same schema."""
    upgrade(empty_db)
    schema.downgrade(empty_db, "base")
    assert set(inspect(empty_db).get_table_names()) & schema.app_table_names() == set()
    assert check_schema(empty_db).state == "empty"
    assert upgrade(empty_db).state == "ok"
    assert_matches_models(empty_db)


def test_revisions_form_one_line():
    """The history has one head and each revision has one parent, so upgrades have one path to take."""
    script = script_directory()
    assert len(script.get_heads()) == 1, "Two heads: merge them into one revision before releasing."
    assert all(not isinstance(rev.down_revision, tuple) for rev in script.walk_revisions())


# --- squawk -----------------------------------------------------------------------------------------

# Column types follow the models, and SQLModel maps `int` to INTEGER (SERIAL for ids) and
# `max_length` to VARCHAR(n): choosing BIGINT ids, identity columns or TEXT with CHECKs is a change to
# the models for every table, not something one migration can decide. These three rules are about
# those types only; every other rule (locks, timeouts, blocking index builds, unsafe column changes)
# applies to each revision.
TYPE_RULES_SET_BY_THE_MODELS = ("prefer-bigint-over-int", "prefer-identity", "prefer-text-field")


def squawk_binary() -> str:
    beside = Path(sys.executable).parent / "squawk"
    found = str(beside) if beside.exists() else shutil.which("squawk")
    assert found, "squawk is not installed (pip install squawk-cli)"
    return found


def lint_revision(revision: str, script_location: str | None = None) -> list[str]:
    """squawk's findings on the PostgreSQL SQL of one revision (Alembic's offline --sql mode)."""
    rev = script_directory(script_location).get_revision(revision)
    sql = schema.offline_sql("postgresql+psycopg://", f"{rev.down_revision or 'base'}:{revision}",
                             script_location=script_location)
    assert "CREATE" in sql or "ALTER" in sql, f"no SQL came out for {revision}:\n{sql}"
    proc = subprocess.run(
        [squawk_binary(), "--reporter", "json", "--exclude", ",".join(TYPE_RULES_SET_BY_THE_MODELS),
         "--stdin-filepath", f"{revision}.sql"],
        input=sql, capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    lines = sql.splitlines()
    return [f"{v['rule_name']}: {v['message']} (at: {lines[v['line']].strip()})"
            for v in json.loads(proc.stdout or "[]")]


@pytest.mark.parametrize("revision", [rev.revision for rev in script_directory().walk_revisions()])
def test_every_revision_passes_squawk(revision):
    """Each revision's PostgreSQL SQL has no squawk findings beyond the column-type rules the models set."""
    findings = lint_revision(revision)
    assert findings == [], f"squawk on revision {revision}:\n" + "\n".join(findings)


def test_the_squawk_check_catches_an_unsafe_revision(tmp_path):
    """A revision adding a required column and a blocking index is reported, so the lint is really on."""
    target = tmp_path / "unsafe"
    shutil.copytree(schema.SCRIPT_LOCATION, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "versions" / "t_unsafe.py").write_text(f'''
import sqlalchemy as sa
from alembic import op

revision = "t_unsafe"
down_revision = "{HEAD}"


def upgrade():
    op.add_column("answer", sa.Column("team", sa.Text(), nullable=False))
    op.create_index("ix_answer_team", "answer", ["team"])
''')
    rules = {finding.split(":")[0] for finding in lint_revision("t_unsafe", str(target))}
    assert {"adding-required-field", "require-concurrent-index-creation"} <= rules


# --- schema states and messages ---------------------------------------------------------------------

def test_states_and_the_exact_fix_for_each(sqlite_file, newer_scripts):
    """Empty, ok, behind, ahead and unknown are told apart, each with the command or choice that fixes it."""
    _url, engine = sqlite_file
    assert check_schema(engine).state == "empty"
    create_schema(engine)
    assert check_schema(engine).state == "ok"

    behind = check_schema(engine, script_location=newer_scripts)
    assert (behind.state, behind.current, behind.head) == ("behind", HEAD, NEWER)
    assert behind.problem() == (f"The database schema is at revision {HEAD}, this version of the app "
                                f"needs {NEWER}. Run: gauntlet db upgrade")

    set_revision(engine, "f00dfeed")
    ahead = check_schema(engine)
    assert ahead.state == "ahead"
    assert ahead.problem() == ("The database schema is newer than this app (revision f00dfeed unknown): "
                               "upgrade the app, or point DATABASE_URL at another database.")
    with pytest.raises(SchemaError, match="newer than this app"):
        schema.require_current_schema(engine)
    with pytest.raises(SchemaError, match="newer than this app"):
        upgrade(engine)

    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert check_schema(engine).state == "unknown"
    with pytest.raises(SchemaError, match=f"gauntlet db stamp {HEAD}"):
        init_db(engine)


def test_upgrade_applies_a_newer_revision(sqlite_file, newer_scripts):
    """A database one revision behind is brought to the new head, with the new column in place."""
    _url, engine = sqlite_file
    create_schema(engine)
    status = upgrade(engine, script_location=newer_scripts)
    assert (status.state, status.current) == ("ok", NEWER)
    assert "note" in {c["name"] for c in inspect(engine).get_columns("person")}


# --- the command line -------------------------------------------------------------------------------

def test_db_current_check_and_upgrade_commands(sqlite_file, capsys):
    """`gauntlet db current` prints the revision, `check` fails until `upgrade` has run, then passes."""
    url, _engine = sqlite_file
    assert main(["db", "current", "--database-url", url]) == 0
    assert capsys.readouterr().out.strip() == "none (no tables yet)"
    assert main(["db", "check", "--database-url", url]) == 1
    assert "Run: gauntlet db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert f"upgraded from revision none (empty) to {HEAD}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert f"already at revision {HEAD}" in capsys.readouterr().out
    assert main(["db", "current", "--database-url", url]) == 0
    assert capsys.readouterr().out.strip() == f"{HEAD} (up to date)"
    assert main(["db", "check", "--database-url", url]) == 0


def test_db_stamp_adopts_tables_made_without_a_revision(sqlite_file, capsys):
    """Tables made by create_all alone are refused until `gauntlet db stamp` records their revision."""
    url, engine = sqlite_file
    load_tables().create_all(engine)
    assert main(["db", "check", "--database-url", url]) == 1
    assert f"gauntlet db stamp {HEAD}" in capsys.readouterr().err
    assert main(["db", "stamp", HEAD, "--database-url", url]) == 0
    assert check_schema(engine).state == "ok"
    assert main(["db", "stamp", "nosuchrev", "--database-url", url]) == 1
    assert "nosuchrev" in capsys.readouterr().err


def test_db_upgrade_reads_database_url_from_dot_env(tmp_path, monkeypatch, capsys):
    """Without a flag, `gauntlet db upgrade` uses DATABASE_URL from ./.env, as `gauntlet serve` does."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'from_env.db'}\n")
    assert main(["db", "upgrade"]) == 0
    assert "from_env.db" in capsys.readouterr().out
    assert not (tmp_path / "gauntlet.db").exists()


# --- the drill's own database -----------------------------------------------------------------------

def test_drill_creates_and_upgrades_its_own_default_file(tmp_path, monkeypatch, capsys, newer_scripts):
    """The default file in the user's data directory is created when missing and upgraded (saying so)
    when behind."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url, private_file = drill_database(None)
    assert private_file is not None and private_file.is_relative_to(tmp_path / "data")
    private_file.parent.mkdir(parents=True)
    _engine_db(url, True).dispose()
    assert check_schema(make_engine(url)).current == HEAD
    monkeypatch.setattr(schema, "SCRIPT_LOCATION", newer_scripts)
    db = _engine_db(url, True)
    assert check_schema(db).current == NEWER
    db.dispose()
    assert capsys.readouterr().err.strip() == (
        f"Upgraded your drill database from schema revision {HEAD} to {NEWER}.")


def test_drill_refuses_a_named_database_that_is_behind_or_ahead(sqlite_file, monkeypatch, capsys,
                                                               newer_scripts):
    """A database named with --database-url may be shared, so the drill refuses it when behind or ahead."""
    url, engine = sqlite_file
    create_schema(engine)
    monkeypatch.setattr(schema, "SCRIPT_LOCATION", newer_scripts)
    assert main(["drill", "--database-url", url]) == 1
    assert capsys.readouterr().err.strip() == (
        f"gauntlet drill: The database schema is at revision {HEAD}, this version of the app needs "
        f"{NEWER}. Run: gauntlet db upgrade")
    monkeypatch.setattr(schema, "SCRIPT_LOCATION", APP_SCRIPTS)
    set_revision(engine, "f00dfeed")
    assert main(["drill", "--database-url", url]) == 1
    assert "newer than this app (revision f00dfeed unknown)" in capsys.readouterr().err


# --- gauntlet serve, as a process -------------------------------------------------------------------

class _FakeSlackAuth(BaseHTTPRequestHandler):
    """Just enough of the Slack Web API for the app to start: every method answers ok."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT",
                           "url": "https://test.slack.com/", "team": "Test", "user": "gauntlet"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slack_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSlackAuth)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_command(*args: str, scripts: str | None = None) -> list[str]:
    """`gauntlet ARGS` as a process; with `scripts`, as a newer app whose migrations are those."""
    if scripts is None:
        return [sys.executable, "-m", "bot", *args]
    code = ("import sys, bot.store.schema as s; s.SCRIPT_LOCATION = sys.argv[1]; "
            "from bot.terminal.cli import main; raise SystemExit(main(sys.argv[2:]))")
    return [sys.executable, "-c", code, scripts, *args]


def app_env(db_url: str, api_url: str, port: int | None = None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
           "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "test",
           "DATABASE_URL": db_url, "SLACK_API_URL": api_url}
    if port:
        env["PORT"] = str(port)
    return env


def test_serve_refuses_a_newer_schema(sqlite_file, slack_api, tmp_path):
    """`gauntlet serve --http` exits 1 on a database from a newer app, with the message and no traceback."""
    url, engine = sqlite_file
    create_schema(engine)
    set_revision(engine, "f00dfeed")
    proc = subprocess.run(app_command("serve", "--http"), env=app_env(url, slack_api), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "gauntlet: The database schema is newer than this app (revision f00dfeed unknown): upgrade the "
        "app, or point DATABASE_URL at another database.")


def test_serve_refuses_an_older_schema_until_db_upgrade(sqlite_file, slack_api, tmp_path, newer_scripts):
    """A newer app refuses an older schema (exit 1, the exact fix); after `gauntlet db upgrade` it serves."""
    url, engine = sqlite_file
    create_schema(engine)
    port = _free_port()
    env = app_env(url, slack_api, port)
    refused = subprocess.run(app_command("serve", "--http", "--no-scheduler", scripts=newer_scripts),
                             env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"gauntlet: The database schema is at revision {HEAD}, this version of the app needs {NEWER}. "
        "Run: gauntlet db upgrade")

    fixed = subprocess.run(app_command("db", "upgrade", scripts=newer_scripts), env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert fixed.returncode == 0, fixed.stderr
    assert f"upgraded from revision {HEAD} to {NEWER}" in fixed.stdout

    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen(app_command("serve", "--http", "--no-scheduler", scripts=newer_scripts),
                                  env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, "serve exited:\n" + log.read_text()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                        assert resp.status == 200
                        break
                except OSError:
                    assert time.monotonic() < deadline, "serve did not listen in 30 s:\n" + log.read_text()
                    time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=15)
