"""Migrations written in an ORM, read as the SQL they run, so squawk judges them like raw SQL.

Rails (ActiveRecord), Django, Alembic, Prisma, Ecto, Sequelize, Knex and Liquibase each spell the same
few operations their own way. The calls below are the ones that decide whether a migration locks or
rewrites a live table: adding a column (NOT NULL, with or without a default), making a column NOT NULL,
changing its type, adding an index (concurrently or not), adding a check or foreign-key constraint
(validated now or later), validating it, and backfilling. Anything else is left to be graded as prose.
SQL an ORM migration passes through verbatim (`execute`, `RunSQL`, `op.execute`) is already SQL and is
found as such.
"""

from __future__ import annotations

import re

_ID = r"[\"':]?(\w+)[\"']?"
_ARGS = r"([^\n]*)"

# Rails: add_column :orders, :region, :string, null: false, default: "eu"
_RAILS_ADD_COLUMN = re.compile(rf"\badd_column\s*\(?\s*{_ID}\s*,\s*{_ID}\s*,\s*:?(\w+){_ARGS}")
_RAILS_NULL = re.compile(rf"\bchange_column_null\s*\(?\s*{_ID}\s*,\s*{_ID}\s*,\s*false\b")
_RAILS_TYPE = re.compile(rf"\bchange_column\s*\(?\s*{_ID}\s*,\s*{_ID}\s*,\s*:?(\w+)")
_RAILS_INDEX = re.compile(rf"\badd_index\s*\(?\s*{_ID}\s*,\s*\[?\s*{_ID}{_ARGS}")
_RAILS_CHECK = re.compile(rf"\badd_check_constraint\s*\(?\s*{_ID}\s*,\s*[\"']([^\"']+)[\"']{_ARGS}")
_RAILS_FK = re.compile(rf"\badd_foreign_key\s*\(?\s*{_ID}\s*,\s*{_ID}{_ARGS}")
_RAILS_VALIDATE = re.compile(rf"\bvalidate_(?:check_constraint|foreign_key)\s*\(?\s*{_ID}")
_RAILS_UPDATE_ALL = re.compile(r"\b(\w+)\.(?:unscoped\.)?update_all\s*\(")

# Alembic: op.add_column("orders", sa.Column("region", sa.Text(), nullable=False, server_default="eu"))
_ALEMBIC_ADD_COLUMN = re.compile(
    rf"\bop\.add_column\s*\(\s*{_ID}\s*,\s*(?:sa\.)?Column\s*\(\s*{_ID}\s*,\s*(?:sa\.)?(\w+){_ARGS}"
)
_ALEMBIC_ALTER = re.compile(rf"\bop\.alter_column\s*\(\s*{_ID}\s*,\s*{_ID}{_ARGS}")
_ALEMBIC_INDEX = re.compile(rf"\bop\.create_index\s*\(\s*{_ID}\s*,\s*{_ID}{_ARGS}")
_ALEMBIC_CHECK = re.compile(rf"\bop\.create_check_constraint\s*\(\s*{_ID}\s*,\s*{_ID}{_ARGS}")
_ALEMBIC_UNIQUE = re.compile(rf"\bop\.create_unique_constraint\s*\(\s*{_ID}\s*,\s*{_ID}{_ARGS}")

# Django: migrations.AddField(model_name="order", name="region", field=models.CharField(...))
_DJANGO_ADD_FIELD = re.compile(
    r"\bAddField\s*\(\s*(?:model_name\s*=\s*)?[\"'](\w+)[\"']\s*,\s*(?:name\s*=\s*)?[\"'](\w+)[\"']\s*,\s*"
    r"(?:field\s*=\s*)?models\.(\w+)\(([^\n]*)"
)
_DJANGO_ALTER_FIELD = re.compile(
    r"\bAlterField\s*\(\s*(?:model_name\s*=\s*)?[\"'](\w+)[\"']\s*,\s*(?:name\s*=\s*)?[\"'](\w+)[\"']\s*,\s*"
    r"(?:field\s*=\s*)?models\.(\w+)\(([^\n]*)"
)
# A Django data migration's queryset update: Model.objects.filter(...).update(col=...)
_DJANGO_UPDATE = re.compile(r"\b(\w+)\.objects\b[^\n]*?\.update\s*\(")
_BATCH_CODE = re.compile(r"in_batches|find_in_batches|find_each|each_slice|\blimit\(|\[\s*:\s*\w+\s*\]|"
                         r"\.iterator\(|batch|chunk|\bwhile\b", re.I)
_DJANGO_INDEX = re.compile(r"\b(AddIndex(?:Concurrently)?)\s*\(\s*model_name\s*=\s*[\"'](\w+)[\"']")
_DJANGO_CONSTRAINT = re.compile(r"\bAddConstraint(?:NotValid)?\s*\(\s*model_name\s*=\s*[\"'](\w+)[\"']")

# Ecto (Elixir): create index(:orders, [:region], concurrently: true); alter table(:orders) do add :x ...
_ECTO_INDEX = re.compile(
    rf"\b(?:create|create_if_not_exists)\s*\(?\s*(unique_index|index)\s*\(\s*{_ID}\s*,\s*\[?\s*{_ID}"
)
_ECTO_ALTER = re.compile(rf"\balter\s+table\s*\(\s*{_ID}\s*\)\s*do\b(.*?)\n\s*end\b", re.S)
_ECTO_ADD = re.compile(rf"^\s*add\s+{_ID}\s*,\s*:?(\w+)([^\n]*)", re.M)
_ECTO_MODIFY = re.compile(rf"^\s*modify\s+{_ID}\s*,\s*:?(\w+)([^\n]*)", re.M)
_ECTO_CHECK = re.compile(rf"\bcreate\s*\(?\s*constraint\s*\(\s*{_ID}\s*,\s*{_ID}([^\n]*)")

# Sequelize: queryInterface.addColumn('orders', 'region', { allowNull: false, defaultValue: 'eu' })
_SEQ_ADD_COLUMN = re.compile(rf"\baddColumn\s*\(\s*{_ID}\s*,\s*{_ID}")
_SEQ_CHANGE_COLUMN = re.compile(rf"\bchangeColumn\s*\(\s*{_ID}\s*,\s*{_ID}")
_SEQ_ADD_INDEX = re.compile(rf"\baddIndex\s*\(\s*{_ID}")
# Knex: table.string('region').notNullable() inside knex.schema.alterTable('orders', ...)
_KNEX_ALTER = re.compile(rf"\b(?:alterTable|table)\s*\(\s*{_ID}\s*,")
_KNEX_COLUMN = re.compile(
    r"\.\s*(?:string|text|integer|bigInteger|boolean|uuid|decimal|timestamp|date|enu)\s*\(\s*"
    r"[\"'](\w+)[\"']([^;\n]*)"
)
# SQL inside a YAML or XML changelog (Liquibase): statements written out, not quoted
_EMBEDDED_SQL = re.compile(
    r"^[ \t]*(?:sql:\s*)?((?:ALTER\s+TABLE|CREATE\s+(?:UNIQUE\s+)?INDEX|UPDATE\s+\w+\s+SET|"
    r"SET\s+(?:lock|statement)_timeout|DROP\s+INDEX)\b[^;]*;?)",
    re.I | re.M,
)

# Prisma schema: `region String` (required) added to a model; `prisma migrate` writes plain SQL files.
_PRISMA_FIELD = re.compile(r"^\s*(\w+)\s+(String|Int|BigInt|Boolean|DateTime|Float|Decimal)(\??)(.*)$", re.M)
_PRISMA_MODEL = re.compile(r"\bmodel\s+(\w+)\s*\{")

_CODE_MARKERS = re.compile(
    r"\b(?:add_column|change_column(?:_null)?|add_index|add_check_constraint|add_foreign_key|update_all|"
    r"in_batches|op\.(?:add_column|alter_column|create_index|execute|create_(?:check|unique)_constraint)|"
    r"migrations\.(?:AddField|AlterField|RunSQL|RunPython|AddIndex|AddConstraint)|AddIndexConcurrently|"
    r"\$executeRaw|execute\s*\(?\s*<<[~-]?|queryInterface\.|knex\.(?:schema|raw)|queryRunner\.|"
    r"changeSet|databaseChangeLog|use\s+Ecto\.Migration|"
    r"def\s+(?:change|up|upgrade|down|downgrade)\b|class\s+\w+\s*\(\s*(?:migrations\.Migration|"
    r"ActiveRecord::Migration)|disable_ddl_transaction!|atomic\s*=\s*False|model\s+\w+\s*\{)"
)


def _call_args(text: str, m: re.Match, limit: int = 3000) -> str:
    """The whole argument list of the call whose match ends inside it (across lines, to the closing
    bracket that balances the call's opening one); the matched line's rest when none is found."""
    open_at = text.find("(", m.start(), m.end() + 2)
    if open_at == -1 or "\n" in text[m.start() : open_at]:
        # a call without brackets (Ruby): its arguments run on while a line ends with a comma
        end = text.find("\n", m.start())
        while end != -1 and text[:end].rstrip().endswith(",") and end - m.start() < limit:
            end = text.find("\n", end + 1)
        return text[m.start() : end if end != -1 else len(text)]
    depth = 0
    for i in range(open_at, min(len(text), open_at + limit)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : i]
    return text[open_at + 1 : open_at + limit]


# A string literal in Python, Ruby or JavaScript source (no nesting, escapes kept as written).
_STRING = re.compile(
    r'[rRbBuUfF]?(?:"""(.*?)"""|\'\'\'(.*?)\'\'\''
    r'|"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`([^`]*)`)',
    re.S,
)
_STRINGS_AT = re.compile(r"\s*(?:(?:sa\.)?text\s*\(\s*)?(?:sql\s*=\s*)?")
# SQL an ORM migration passes through: op.execute("..."), RunSQL("..."), execute("..."), Rails'
# execute <<~SQL heredoc, Prisma's $executeRaw`...`.
_PASS_THROUGH = re.compile(
    r"\b(?:op\.execute|RunSQL|execute|\$executeRaw(?:Unsafe)?|exec_query|query|raw)\s*(\(|`|\s[\"'])"
)
_HEREDOC = re.compile(r"\bexecute\s*\(?\s*<<[~-]?['\"]?(\w+)['\"]?\)?[^\n]*\n(.*?)^\s*\1\b", re.S | re.M)
_SQL_START = re.compile(r"^\s*(?:ALTER|CREATE|UPDATE|SET|DROP|INSERT|DELETE|WITH|DO|BEGIN|COMMIT|VALIDATE)\b",
                        re.I)


def _literal_sql(text: str, start: int) -> tuple[str, int]:
    """Adjacent string literals from `start` (Python's implicit concatenation, or `+` between them), and
    where the last of them ends."""
    parts: list[str] = []
    pos = end = _STRINGS_AT.match(text, start).end()
    while True:
        m = _STRING.match(text, pos)
        if not m:
            break
        parts.append(next(g for g in m.groups() if g is not None))
        end = m.end()
        nxt = re.compile(r"\s*\+?\s*").match(text, m.end())
        pos = nxt.end() if nxt else m.end()
    return "".join(parts), end


def _passed_through(text: str) -> list[tuple[int, int, str]]:
    """(start, end, SQL) for SQL a migration hands to the database verbatim; start..end covers the
    literals it was written in."""
    out: list[tuple[int, int, str]] = []
    for m in _PASS_THROUGH.finditer(text):
        opener = m.group(1)
        start = m.end() - 1 if opener != "(" else m.end()
        sql, end = _literal_sql(text, start if opener != "`" else m.end() - 1)
        if sql and _SQL_START.match(sql):
            if opener == "(":  # the call's other arguments (RunSQL's reverse SQL) are not proposed either
                end = max(end, m.end() + len(_call_args(text, m)))
            out.append((m.start(), end, sql))
    for m in _HEREDOC.finditer(text):
        if _SQL_START.match(m.group(2)):
            out.append((m.start(), m.end(2), m.group(2)))
    return out


def has_orm_code(text: str) -> bool:
    """The answer contains migration code written for an ORM (it is code, never keyword stuffing)."""
    return bool(_CODE_MARKERS.search(text))


def _table(model: str) -> str:
    """Django and Prisma name a model; its table is the plural snake case by convention."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()
    return snake if snake.endswith("s") else snake + "s"


def _default(args: str) -> str:
    m = re.search(r"\b(?:server_)?default\s*[:=]\s*([^,)\n]+)", args)
    if not m:
        return ""
    value = m.group(1).strip()
    if re.match(r"(?:->|lambda|proc|sa\.func|func\.|now|uuid|timezone\.now)", value):
        return " DEFAULT now()"  # a volatile default: squawk warns that it rewrites the table
    return " DEFAULT " + (
        "'x'" if not re.fullmatch(r"-?\d+(?:\.\d+)?|true|false|True|False", value) else value.lower()
    )


def translate(text: str) -> list[tuple[str, str]]:
    """(the ORM line, the SQL it runs) for each recognised call, in order of appearance."""
    if not has_orm_code(text):
        return []
    found: list[tuple[int, str, str]] = []

    def add(m: re.Match, sql: str) -> None:
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line = text[line_start : line_end if line_end != -1 else len(text)].strip()
        found.append((m.start(), line, sql))

    concurrent_ok = bool(re.search(
        r"disable_ddl_transaction!|@disable_ddl_transaction\s+true|atomic\s*=\s*False|autocommit_block", text
    ))
    for m in _RAILS_ADD_COLUMN.finditer(text):
        table, col, _type, args = m.groups()
        args = args + _call_args(text, m)
        null = " NOT NULL" if re.search(r"null:\s*false", args) else ""
        add(m, f"ALTER TABLE {table} ADD COLUMN {col} text{null}{_default(args)};")
    for m in _RAILS_NULL.finditer(text):
        add(m, f"ALTER TABLE {m.group(1)} ALTER COLUMN {m.group(2)} SET NOT NULL;")
    for m in _RAILS_TYPE.finditer(text):
        add(m, f"ALTER TABLE {m.group(1)} ALTER COLUMN {m.group(2)} TYPE {m.group(3)};")
    for m in _RAILS_INDEX.finditer(text):
        args = _call_args(text, m) + m.group(3)
        conc = " CONCURRENTLY" if "concurrently" in args and concurrent_ok else ""
        unique = " UNIQUE" if re.search(r"unique:\s*true", args) else ""
        add(m, f"CREATE{unique} INDEX{conc} idx_{m.group(1)}_{m.group(2)} ON {m.group(1)} ({m.group(2)});")
    for m in _RAILS_CHECK.finditer(text):
        nv = " NOT VALID" if re.search(r"validate:\s*false", m.group(3) + _call_args(text, m)) else ""
        add(m, f"ALTER TABLE {m.group(1)} ADD CONSTRAINT chk CHECK ({m.group(2)}){nv};")
    for m in _RAILS_FK.finditer(text):
        nv = " NOT VALID" if re.search(r"validate:\s*false", m.group(3) + _call_args(text, m)) else ""
        add(
            m,
            f"ALTER TABLE {m.group(1)} ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES {m.group(2)} (id){nv};",
        )
    for m in _RAILS_VALIDATE.finditer(text):
        add(m, f"ALTER TABLE {m.group(1)} VALIDATE CONSTRAINT chk;")
    for m in _RAILS_UPDATE_ALL.finditer(text):
        add(m, _update(_table(m.group(1)), text))
    for m in _DJANGO_UPDATE.finditer(text):
        add(m, _update(_table(m.group(1)), text))
    for m in _ALEMBIC_ADD_COLUMN.finditer(text):
        table, col, _type, args = m.groups()
        args = _call_args(text, m)
        null = " NOT NULL" if re.search(r"nullable\s*=\s*False", args) else ""
        add(m, f"ALTER TABLE {table} ADD COLUMN {col} text{null}{_default(args)};")
    for m in _ALEMBIC_ALTER.finditer(text):
        table, col, args = m.groups()
        args = _call_args(text, m)
        if re.search(r"nullable\s*=\s*False", args):
            add(m, f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;")
        if re.search(r"\btype_\s*=", args):
            add(m, f"ALTER TABLE {table} ALTER COLUMN {col} TYPE bigint;")
    for m in _ALEMBIC_INDEX.finditer(text):
        concurrently = "postgresql_concurrently=True" in _call_args(text, m).replace(" ", "")
        conc = " CONCURRENTLY" if concurrently else ""
        add(m, f"CREATE INDEX{conc} {m.group(1)} ON {m.group(2)} (id);")
    for m in _ALEMBIC_CHECK.finditer(text):
        nv = " NOT VALID" if "postgresql_not_valid=True" in _call_args(text, m).replace(" ", "") else ""
        add(m, f"ALTER TABLE {m.group(2)} ADD CONSTRAINT {m.group(1)} CHECK (id IS NOT NULL){nv};")
    for m in _ALEMBIC_UNIQUE.finditer(text):
        add(m, f"ALTER TABLE {m.group(2)} ADD CONSTRAINT {m.group(1)} UNIQUE (id);")
    for m in _DJANGO_ADD_FIELD.finditer(text):
        model, col, _type, args = m.groups()
        args = args + _call_args(text, m)
        # Django fields are NOT NULL unless null=True; a default is applied once, then dropped
        null = "" if re.search(r"null\s*=\s*True", args) else " NOT NULL"
        add(m, f"ALTER TABLE {_table(model)} ADD COLUMN {col} text{null}{_default(args)};")
    for m in _DJANGO_ALTER_FIELD.finditer(text):
        model, col, _type, args = m.groups()
        args = args + _call_args(text, m)
        # a field without null=True is NOT NULL, but AlterField only sets it when the column was nullable:
        # said outright (null=False), or the same answer added the column with null=True
        was_nullable = re.search(rf"[\"']{col}[\"'][^\n]*\n?[^\n]*null\s*=\s*True", text)
        if re.search(r"null\s*=\s*False", args) or (was_nullable and not re.search(r"null\s*=\s*True", args)):
            add(m, f"ALTER TABLE {_table(model)} ALTER COLUMN {col} SET NOT NULL;")
        length = re.search(r"max_length\s*=\s*(\d+)", args)
        if _type in ("CharField", "TextField") and (length or _type == "TextField"):
            add(m, f"ALTER TABLE {_table(model)} ALTER COLUMN {col} TYPE "
                   f"{f'varchar({length.group(1)})' if length and _type == 'CharField' else 'text'};")
        elif _type in ("BigIntegerField", "BigAutoField"):
            add(m, f"ALTER TABLE {_table(model)} ALTER COLUMN {col} TYPE bigint;")
    for m in _DJANGO_INDEX.finditer(text):
        conc = " CONCURRENTLY" if m.group(1) == "AddIndexConcurrently" else ""
        add(m, f"CREATE INDEX{conc} idx ON {_table(m.group(2))} (id);")
    for m in _DJANGO_CONSTRAINT.finditer(text):
        nv = " NOT VALID" if "NotValid" in m.group(0) else ""
        add(m, f"ALTER TABLE {_table(m.group(1))} ADD CONSTRAINT chk CHECK (id IS NOT NULL){nv};")
    model = _PRISMA_MODEL.search(text)
    if model:
        for m in _PRISMA_FIELD.finditer(text, model.end()):
            name, _type, optional, rest = m.groups()
            if optional or "@id" in rest or name in ("id", "model"):
                continue
            if "+" in text[max(0, m.start() - 3) : m.start() + 1] or re.search(r"//\s*new|added", rest, re.I):
                default = " DEFAULT 'x'" if "@default(" in rest else ""
                add(m, f"ALTER TABLE {_table(model.group(1))} ADD COLUMN {name} text NOT NULL{default};")
    for m in _ECTO_INDEX.finditer(text):
        args = _call_args(text, m)
        conc = " CONCURRENTLY" if re.search(r"concurrently:\s*true", args) and concurrent_ok else ""
        unique = " UNIQUE" if m.group(1) == "unique_index" else ""
        add(m, f"CREATE{unique} INDEX{conc} idx_{m.group(2)}_{m.group(3)} ON {m.group(2)} ({m.group(3)});")
    for t in _ECTO_ALTER.finditer(text):
        table, body = t.group(1), t.group(2)
        for c in _ECTO_ADD.finditer(body):
            null = " NOT NULL" if re.search(r"null:\s*false", c.group(3)) else ""
            default = re.search(r"default:\s*([^,\n]+)", c.group(3))
            add(t, f"ALTER TABLE {table} ADD COLUMN {c.group(1)} text{null}"
                   f"{_default('default=' + default.group(1)) if default else ''};")
        for c in _ECTO_MODIFY.finditer(body):
            if re.search(r"null:\s*false", c.group(3)):
                add(t, f"ALTER TABLE {table} ALTER COLUMN {c.group(1)} SET NOT NULL;")
            if not re.search(r"\bnull:", c.group(3)) or re.search(r"from:", c.group(3)):
                add(t, f"ALTER TABLE {table} ALTER COLUMN {c.group(1)} TYPE {c.group(2)};")
    for m in _ECTO_CHECK.finditer(text):
        args = m.group(3) + _call_args(text, m)
        if "check:" in args:
            nv = " NOT VALID" if re.search(r"validate:\s*false", args) else ""
            add(m, f"ALTER TABLE {m.group(1)} ADD CONSTRAINT {m.group(2)} CHECK (id IS NOT NULL){nv};")
    js_concurrent = bool(re.search(r"concurrently\s*:\s*true", text))
    for m in _SEQ_ADD_COLUMN.finditer(text):
        args = _call_args(text, m)
        null = " NOT NULL" if re.search(r"allowNull\s*:\s*false", args) else ""
        default = re.search(r"defaultValue\s*:\s*([^,}\n]+)", args)
        add(m, f"ALTER TABLE {m.group(1)} ADD COLUMN {m.group(2)} text{null}"
               f"{_default('default=' + default.group(1)) if default else ''};")
    for m in _SEQ_CHANGE_COLUMN.finditer(text):
        args = _call_args(text, m)
        if re.search(r"\btype\s*:", args):
            add(m, f"ALTER TABLE {m.group(1)} ALTER COLUMN {m.group(2)} TYPE bigint;")
        if re.search(r"allowNull\s*:\s*false", args):
            add(m, f"ALTER TABLE {m.group(1)} ALTER COLUMN {m.group(2)} SET NOT NULL;")
    for m in _SEQ_ADD_INDEX.finditer(text):
        conc = " CONCURRENTLY" if "concurrently" in _call_args(text, m) and js_concurrent else ""
        add(m, f"CREATE INDEX{conc} idx ON {m.group(1)} (id);")
    for t in _KNEX_ALTER.finditer(text):
        body = _call_args(text, t)
        for c in _KNEX_COLUMN.finditer(body):
            null = " NOT NULL" if "notNullable" in c.group(2) else ""
            default = re.search(r"defaultTo\s*\(\s*([^)]+)\)", c.group(2))
            add(t, f"ALTER TABLE {t.group(1)} ADD COLUMN {c.group(1)} text{null}"
                   f"{_default('default=' + default.group(1)) if default else ''};")
    seen = {sql for _p, _l, sql in found}
    if re.search(r"changeSet|databaseChangeLog|```ya?ml|```xml", text):
        for m in _EMBEDDED_SQL.finditer(text):
            sql = m.group(1).strip().rstrip(";") + ";"
            if sql not in seen:
                seen.add(sql)
                add(m, sql)
    for pos, end, sql in _passed_through(text):
        # quote the first line that holds some of the SQL, not a bare "RunSQL(" opener
        lines = [ln.strip() for ln in text[pos:end].split("\n") if ln.strip()]
        line = next((ln for ln in lines if re.search(r"[\"'`]\s*[A-Za-z]", ln)), lines[0] if lines else "")
        found.append((pos, line, sql.strip().rstrip(";") + ";"))
    found.sort()
    return [(line, sql) for _pos, line, sql in found]


def _update(table: str, text: str) -> str:
    """The UPDATE an ORM backfill runs: batch by batch when the code loops over batches."""
    if _BATCH_CODE.search(text):
        return f"UPDATE {table} SET x = 1 WHERE id BETWEEN 1 AND 1000;"
    return f"UPDATE {table} SET x = 1;"


def with_sql(text: str) -> str:
    """The text followed by the SQL its ORM calls run (unchanged when it has none). SQL the code passes
    through in string literals is blanked where it stands (same offsets), so it is read once, from the
    SQL appended, and never as a statement cut off by the code's quotes and brackets."""
    pairs = translate(text)
    if not pairs:
        return text
    chars = list(text)
    for start, end, _sql in _passed_through(text):
        chars[start:end] = [c if c == "\n" else " " for c in chars[start:end]]
    return "".join(chars) + "\n\n```sql\n" + "\n".join(sql for _line, sql in pairs) + "\n```\n"


def source_line(text: str, statement: str) -> str | None:
    """The ORM line a translated statement came from, to quote the person's own words."""
    for line, sql in translate(text):
        if sql.rstrip(";").strip() in statement or statement.rstrip(";").strip() in sql:
            return line
    return None
