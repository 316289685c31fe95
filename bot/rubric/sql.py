"""The SQL in the migration-trap round: find it, lint it with squawk, and check the expand-and-contract shape.

The safe way to add a required column to a live PostgreSQL table is expand-and-contract: add the column
nullable (or with a constant default), deploy code that writes it, backfill existing rows in batches, then
enforce NOT NULL with a CHECK ... NOT VALID constraint and VALIDATE CONSTRAINT, all under a lock_timeout.
`analyse_sql` scores how close an answer comes to that, quoting the answer for every point.

squawk (the migration linter teams run in CI) does the linting; when it is missing or fails, a small set of
built-in checks with the same rule names keeps the dangerous cases detectable.
"""

from __future__ import annotations

import bisect
import difflib
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "RULES",
    "SqlAnalysis",
    "SqlFinding",
    "analyse_sql",
    "extract_sql",
    "lint_sql",
    "mentions_schema_change",
]

# None means "look next to the running interpreter, then on PATH"; tests point it elsewhere.
SQUAWK_BIN: str | None = None
SQUAWK_TIMEOUT_S = 5.0
# PG12+ lets SET NOT NULL reuse a validated CHECK constraint; PG11+ adds constant defaults without a rewrite.
PG_VERSION = "16"
_MAX_EVIDENCE = 300


@dataclass(frozen=True)
class SqlFinding:
    rule: str  # squawk rule name or our own check id (e.g. "syntax-error", "missing-backfill")
    severity: str  # "failure" | "advice"
    statement: str  # the offending statement, verbatim from the answer (trimmed)
    message: str  # what is wrong, in plain words
    hint: str  # one concrete fix


@dataclass(frozen=True)
class SqlAnalysis:
    statements: tuple[str, ...]
    has_sql: bool
    syntax_errors: tuple[SqlFinding, ...]
    findings: tuple[SqlFinding, ...]
    unsafe: bool
    steps: dict[str, str | None]
    prose_pattern: bool
    mentions_schema_change: bool
    score: float
    evidence: tuple[str, ...]
    hint: str
    linted: bool
    notes: tuple[str, ...]
    # the pattern's steps only named, as a list, with no statement and nothing said of this table
    recited: bool = False


# ---------------------------------------------------------------------------------------------------------
# Rule table: what each squawk rule (and each of our own checks) means for a live table.
# "failure" = the statement breaks running code, errors on existing rows, or rewrites the whole table under
# an exclusive lock. Lock-holding scans and builds whose cheap alternative is a small addition (NOT VALID,
# CONCURRENTLY) are "advice" with a score penalty; style rules are advice with no penalty.
# ---------------------------------------------------------------------------------------------------------
class Rule(NamedTuple):
    severity: str
    penalty: float  # subtracted from the score once per rule (failures cap the score instead)
    hint: str


_EXPAND_HINT = (
    "Add the column as nullable (or with a constant DEFAULT), deploy code that writes it, backfill existing "
    "rows in batches, then add CHECK (col IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT."
)
RULES: dict[str, Rule] = {
    "adding-required-field": Rule("failure", 1.0, _EXPAND_HINT),
    "missing-backfill": Rule(
        "failure", 1.0,
        "Backfill existing rows (UPDATE in batches) before enforcing NOT NULL, or the enforcement "
        "step fails.",
    ),
    "ban-drop-table": Rule(
        "failure", 1.0,
        "Stop every read and write of the table in code first, keep it (or rename it aside) for a release, "
        "and drop it only once nothing touches it.",
    ),
    "ban-drop-database": Rule("failure", 1.0, "Never drop a live database in a migration."),
    "ban-drop-column": Rule(
        "failure", 1.0,
        "Deploy code that no longer reads or writes the column first; drop it in a later, separate release.",
    ),
    "renaming-column": Rule(
        "failure", 1.0,
        "Add the new column, write to both, backfill, switch reads, and drop the old column in a "
        "later release.",
    ),
    "renaming-table": Rule(
        "failure", 1.0,
        "Create the new table (or a view under the new name), move code over, and retire the old name later.",
    ),
    "changing-column-type": Rule(
        "failure", 1.0,
        "Add a new column of the new type, dual-write and backfill it in batches, then switch reads to it.",
    ),
    "adding-field-with-default": Rule(
        "failure", 1.0,
        "Use a constant DEFAULT, or add the column without a default and backfill it in batches; a volatile "
        "default rewrites the whole table under an exclusive lock.",
    ),
    "ban-truncate-cascade": Rule("failure", 1.0, "Never TRUNCATE ... CASCADE live data in a migration."),
    "adding-not-nullable-field": Rule(
        "advice", 0.1,
        "Before SET NOT NULL, add CHECK (col IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT; then SET NOT "
        "NULL skips the table scan (PG12+).",
    ),
    "constraint-missing-not-valid": Rule(
        "failure", 1.0,
        "Add the constraint with NOT VALID, then VALIDATE CONSTRAINT in a separate statement: validation "
        "scans without blocking writes.",
    ),
    "disallowed-unique-constraint": Rule(
        "failure", 1.0,
        "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX.",
    ),
    "adding-serial-primary-key-field": Rule(
        "failure", 1.0,
        "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX.",
    ),
    "adding-foreign-key-constraint": Rule(
        "failure", 1.0, "Add the foreign key with NOT VALID, then VALIDATE CONSTRAINT separately.",
    ),
    "require-concurrent-index-creation": Rule(
        "failure", 1.0, "Use CREATE INDEX CONCURRENTLY so writes continue while the index builds.",
    ),
    "require-concurrent-index-deletion": Rule("advice", 0.02, "Use DROP INDEX CONCURRENTLY."),
    "ban-concurrent-index-creation-in-transaction": Rule(
        "advice", 0.03, "Run CREATE INDEX CONCURRENTLY outside a transaction block; inside one it errors.",
    ),
    "unbatched-backfill": Rule(
        "advice", 0.08,
        "Backfill in batches (WHERE id BETWEEN ... or a LIMITed subquery in a loop) so no single transaction "
        "locks every row, bloats the table and lags replicas.",
    ),
    "missing-not-null": Rule(
        "advice", 0.0,
        "Finish the contract step: CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT.",
    ),
    "check-not-validated": Rule(
        "advice", 0.03, "Follow the NOT VALID constraint with ALTER TABLE ... VALIDATE CONSTRAINT.",
    ),
    "require-lock-timeout": Rule(
        "advice", 0.0,
        "Start with SET lock_timeout = '2s'; so DDL waiting behind a long query fails fast instead of "
        "queueing every other query behind it.",
    ),
    "require-statement-timeout": Rule("advice", 0.0, "Set a statement_timeout for the migration session."),
    "require-timeout-settings": Rule("advice", 0.0, "Set lock_timeout and statement_timeout first."),
    "prefer-robust-stmts": Rule(
        "advice", 0.0, "Use IF NOT EXISTS / IF EXISTS so a half-applied migration can be rerun.",
    ),
    "prefer-text-field": Rule("advice", 0.0, "Use text with a CHECK on length instead of varchar(n)."),
    "prefer-bigint-over-int": Rule("advice", 0.0, "Use bigint for ids and counters."),
    "prefer-bigint-over-smallint": Rule("advice", 0.0, "Use bigint for ids and counters."),
    "prefer-identity": Rule("advice", 0.0, "Use GENERATED ... AS IDENTITY instead of serial."),
    "prefer-timestamp-tz": Rule("advice", 0.0, "Use timestamptz so the UTC offset is kept."),
    "prefer-timestamptz": Rule("advice", 0.0, "Use timestamptz so the UTC offset is kept."),
    "ban-char-field": Rule("advice", 0.0, "Use text instead of char(n)."),
    "ban-drop-constraint": Rule(
        "advice", 0.0, "Drop a constraint only once no code relies on the guarantee it gave.",
    ),
    "ban-drop-not-null": Rule("advice", 0.0, "Dropping NOT NULL lets old code read NULLs it never expected."),
    "transaction-nesting": Rule("advice", 0.0, "Don't nest BEGIN/COMMIT inside a migration tool's "
                                               "transaction."),
}
_DEFAULT_RULE = Rule("advice", 0.02, "")

# ---------------------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------------------
_SQL_LANGS = frozenset({"sql", "postgres", "postgresql", "pgsql", "psql", "plpgsql", "plsql", "pg"})
_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n?(.*?)(?:```|\Z)", re.S)
_INLINE_RE = re.compile(r"`([^`\n]{3,2000})`")
# Anything a statement could start with; checked cheaply before the expensive work.
_PRECHECK_RE = re.compile(r"\b(?:alter|create|drop|update|insert|delete|truncate|set|validate)\b|`", re.I)

_STMT_START = (
    r"(?:ALTER\s+(?:TABLE|INDEX|SEQUENCE|TYPE|VIEW|DATABASE|SCHEMA|ROLE|FUNCTION|DOMAIN|EXTENSION"
    r"|MATERIALIZED\s+VIEW)\b"
    r"|CREATE\s+(?:UNIQUE\s+)?(?:INDEX|TABLE|TYPE|VIEW|SEQUENCE|EXTENSION|SCHEMA|FUNCTION|OR\s+REPLACE"
    r"|TRIGGER|MATERIALIZED|DOMAIN|TEMP|TEMPORARY|UNLOGGED)\b"
    r"|DROP\s+(?:TABLE|INDEX|VIEW|SEQUENCE|TYPE|SCHEMA|DATABASE|FUNCTION|TRIGGER|EXTENSION|MATERIALIZED"
    r"|DOMAIN)\b"
    r"|UPDATE\s+[\w.\"]+(?:\s+(?:AS\s+)?\w+)?\s+SET\b|INSERT\s+INTO\b|DELETE\s+FROM\b|TRUNCATE\b"
    r"|SET\s+(?:LOCAL\s+|SESSION\s+)?(?:lock_timeout|statement_timeout|idle_in_transaction_session_timeout"
    r"|search_path|role|maintenance_work_mem|work_mem|application_name)\b"
    r"|RESET\s+\w+|BEGIN\b|COMMIT\b|ROLLBACK\b|START\s+TRANSACTION\b|VACUUM\b|ANALYZE\b|REINDEX\b"
    r"|DO\s*(?:\$|')|SELECT\b|WITH\s+\w+\s+AS\b|COMMENT\s+ON\b|LOCK\s+TABLE\b|CALL\b)"
)
_STMT_START_RE = re.compile(_STMT_START, re.I)
# A statement written in a sentence must look unmistakably like SQL: a keyword pair plus the next piece.
_IDENT = r"(?:\"[^\"\n]{1,63}\"|[A-Za-z_][\w$]*)(?:\.(?:\"[^\"\n]{1,63}\"|[A-Za-z_][\w$]*))?"
_PROSE_STMT_RE = re.compile(
    r"\b(?P<kw>ALTER\s+TABLE(?:\s+IF\s+EXISTS)?(?:\s+ONLY)?\s+" + _IDENT
    + r"\s+(?:ADD|DROP|ALTER|RENAME|VALIDATE|SET)\b"
    r"|UPDATE\s+" + _IDENT + r"\s+SET\s+" + _IDENT + r"\s*="
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?\s+" + _IDENT
    + r"|CREATE\s+(?:UNIQUE\s+)?INDEX\b(?:\s+CONCURRENTLY)?(?:\s+IF\s+NOT\s+EXISTS)?(?:\s+" + _IDENT
    + r")?\s+ON\b"
    r"|SET\s+(?:LOCAL\s+|SESSION\s+)?(?:lock_timeout|statement_timeout)\s*(?:=|TO\b)"
    r"|INSERT\s+INTO\s+" + _IDENT + r"|DELETE\s+FROM\s+" + _IDENT + r")",
    re.I,
)
_PROSE_KEYWORDS = frozenset({"ALTER", "TABLE", "UPDATE", "SET", "DROP", "CREATE", "INDEX", "UNIQUE", "INSERT",
                             "INTO", "DELETE", "FROM", "ADD", "RENAME", "VALIDATE", "IF", "EXISTS", "ONLY",
                             "CONCURRENTLY", "ON", "LOCAL", "SESSION", "TO"})
_PROSE_END_RE = re.compile(
    r";|\n|[.!?](?=\s|$)|\s[—–-]\s|,?\s+(?:and\s+)?then\b|,\s+(?:and|but|so|which|because|after|before|once"
    r"|while|to)\b|\s+(?:so\s+that|which|because)\b"
)
# Tokens the statement splitter must step over whole (strings, quoted names, dollar quotes, comments).
_SPLIT_TOKEN_RE = re.compile(
    r"'(?:[^']|'')*'?|\"[^\"]*\"?|\$([A-Za-z_]\w*|)\$.*?(?:\$\1\$|\Z)|--[^\n]*|/\*.*?(?:\*/|\Z)|[();\n]",
    re.S,
)
_LEADING_JUNK_RE = re.compile(r"\A(?:\s+|--[^\n]*|/\*.*?(?:\*/|\Z)|(?:[\w-]*=[#>]|[>$])[ \t]+)+", re.S)
_NEW_LINE_STMT_RE = re.compile(
    r"[ \t]*(?:ALTER\s+(?:TABLE|INDEX)|CREATE|DROP\s+(?:TABLE|INDEX|VIEW)|UPDATE|INSERT|DELETE|TRUNCATE"
    r"|SET\s+(?:LOCAL\s+|SESSION\s+)?(?:lock_timeout|statement_timeout|search_path|role)|BEGIN|COMMIT"
    r"|VACUUM|ANALYZE|DO\s*\$|SELECT|WITH)\b",
    re.I,
)


class _Stmt(NamedTuple):
    start: int
    end: int
    text: str  # verbatim slice of the answer, trimmed


def _split(text: str, start: int, end: int, comments: list[tuple[int, int]] | None = None) -> list[_Stmt]:
    """Split text[start:end] into statements at top-level semicolons and at new lines opening a statement.

    The spans of SQL comments are appended to `comments` when it is given.
    """
    out: list[_Stmt] = []
    seg = start
    depth = 0

    def close(cut: int) -> None:
        piece = text[seg:cut]
        m = _LEADING_JUNK_RE.match(piece)
        lead = m.end() if m else 0
        body = piece[lead:].rstrip()
        if body and not body.startswith("\\") and body != ";":
            s = seg + lead
            out.append(_Stmt(s, s + len(body), body))

    pos = start
    while True:
        m = _SPLIT_TOKEN_RE.search(text, pos, end)
        if not m:
            break
        tok = m.group(0)
        pos = m.end()
        if comments is not None and tok[:2] in ("--", "/*"):
            comments.append((m.start(), pos))
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth = max(0, depth - 1)
        elif tok == ";" and depth == 0:
            close(pos)
            seg = pos
        elif (tok == "\n" and depth == 0 and _NEW_LINE_STMT_RE.match(text, pos, end)
              and _LEADING_JUNK_RE.sub("", text[seg:m.start()]).strip()):
            # A statement that forgot its semicolon ends where the next one visibly begins (unless the
            # text so far is only comments).
            close(m.start())
            seg = pos
    close(end)
    return out


def _looks_like_sql(block: str) -> bool:
    m = _LEADING_JUNK_RE.match(block)
    return bool(_STMT_START_RE.match(block, m.end() if m else 0))


def _prose_end(text: str, start: int, limit: int) -> int:
    m = _PROSE_END_RE.search(text, start, limit)
    end = m.end() if m and m.group(0) == ";" else (m.start() if m else limit)
    # Stop at a closing parenthesis that the statement never opened ("(ALTER TABLE t ADD c int)").
    depth = 0
    for i in range(start, end):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return i
    return end


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] != "\n":
            chars[i] = " "


def _find_statements(text: str) -> tuple[list[_Stmt], str]:
    """Statements in reading order, and the words of the answer: the text with every SQL region blanked out
    except the SQL comments (same offsets), since a comment like "-- backfill in batches" describes a step."""
    if not text or not _PRECHECK_RE.search(text):
        return [], text
    found: list[_Stmt] = []
    comments: list[tuple[int, int]] = []
    chars = list(text)
    for m in _FENCE_RE.finditer(text):
        lang = m.group(1).lower()
        body_start, body_end = m.start(2), m.end(2)
        untagged = not lang or lang in {"text", "txt", "plain"}
        if lang in _SQL_LANGS or (untagged and _looks_like_sql(m.group(2))):
            found.extend(_split(text, body_start, body_end, comments))
            _blank(chars, m.start(), m.end())
        elif lang:
            _blank(chars, m.start(), m.end())  # other languages' code is neither SQL nor prose
    masked = "".join(chars)
    for m in _INLINE_RE.finditer(masked):
        if _looks_like_sql(m.group(1)):
            found.extend(_split(text, m.start(1), m.end(1), comments))
            _blank(chars, m.start(), m.end())
    masked = "".join(chars)
    pos = 0
    while True:
        m = _PROSE_STMT_RE.search(masked, pos)
        if not m:
            break
        line_end = masked.find("\n", m.end())
        end = _prose_end(masked, m.end(), len(masked) if line_end < 0 else line_end)
        end = max(end, m.end())
        body = text[m.start():end].rstrip(" \t,:")
        keywords = [w for w in re.findall(r"[A-Za-z]+", m.group("kw")) if w.upper() in _PROSE_KEYWORDS]
        # In a sentence, lowercase "update orders set x =" is only SQL when it is terminated like SQL.
        if all(k.isupper() for k in keywords) or body.endswith(";"):
            found.append(_Stmt(m.start(), m.start() + len(body), body))
            _blank(chars, m.start(), m.start() + len(body))
        pos = max(end, m.end())
    found.sort(key=lambda s: s.start)
    # Comments come back only now, so a statement quoted inside a comment is never taken for real SQL.
    for c_start, c_end in comments:
        chars[c_start:c_end] = text[c_start:c_end]
    return found, "".join(chars)


def extract_sql(text: str) -> list[str]:
    """SQL statements in the answer, verbatim and in reading order (fenced, inline code, and in sentences)."""
    try:
        return [s.text for s in _find_statements(text or "")[0]]
    except Exception:  # extraction is best effort and must never break grading
        return []


# ---------------------------------------------------------------------------------------------------------
# squawk
# ---------------------------------------------------------------------------------------------------------
def _squawk_path() -> str | None:
    if SQUAWK_BIN is not None:
        return SQUAWK_BIN
    beside = Path(sys.executable).parent / "squawk"
    if beside.is_file():
        return str(beside)
    return shutil.which("squawk")


_last_lint_error = ""


def lint_sql(sql: str) -> tuple[list[dict], bool]:
    """Run squawk over `sql` (one process, SQL on stdin); returns (violations, ran_ok). Never raises."""
    global _last_lint_error
    if not sql or not sql.strip():
        return [], True
    binary = _squawk_path()
    if not binary:
        _last_lint_error = "squawk is not installed"
        return [], False
    cmd = [binary, "--reporter", "json", "--pg-version", PG_VERSION, "--stdin-filepath", "answer.sql"]
    try:
        # A neutral working directory keeps a stray .squawk.toml from changing how answers are graded.
        proc = subprocess.run(
            cmd, input=sql.encode("utf-8", "replace"), capture_output=True,
            timeout=SQUAWK_TIMEOUT_S, cwd=tempfile.gettempdir(), check=False,
        )
    except subprocess.TimeoutExpired:
        _last_lint_error = f"squawk took longer than {SQUAWK_TIMEOUT_S:g}s"
        return [], False
    except OSError as exc:
        _last_lint_error = f"squawk could not start ({exc.strerror or exc})"
        return [], False
    if proc.returncode not in (0, 1):
        _last_lint_error = f"squawk exited with status {proc.returncode}"
        return [], False
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace") or "[]")
    except ValueError:
        _last_lint_error = "squawk printed something that is not JSON"
        return [], False
    if not isinstance(data, list):
        _last_lint_error = "squawk printed an unexpected JSON shape"
        return [], False
    return [v for v in data if isinstance(v, dict)], True


# ---------------------------------------------------------------------------------------------------------
# Syntax errors
# ---------------------------------------------------------------------------------------------------------
_KEYWORDS = frozenset((
    "ALTER", "TABLE", "ADD", "COLUMN", "DROP", "CONSTRAINT", "CHECK", "VALIDATE", "NOT", "NULL",
    "VALID", "DEFAULT", "UPDATE", "SET", "WHERE", "BETWEEN", "LIMIT", "CREATE", "INDEX", "CONCURRENTLY",
    "UNIQUE", "RENAME", "TYPE", "PRIMARY", "KEY", "REFERENCES", "FOREIGN", "SELECT", "FROM", "INSERT",
    "INTO", "VALUES", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "EXISTS", "AND", "LOCAL", "LOOP",
    "RETURNING", "CASCADE", "ONLY", "USING", "TRUNCATE", "SESSION", "TIMEOUT",
))
_KNOWN_WORDS = _KEYWORDS | frozenset((
    "INT", "INTEGER", "BIGINT", "SMALLINT", "TEXT", "VARCHAR", "CHAR", "BOOLEAN", "BOOL", "TIMESTAMP",
    "TIMESTAMPTZ", "DATE", "TIME", "UUID", "JSON", "JSONB", "NUMERIC", "DECIMAL", "REAL", "FLOAT",
    "SERIAL", "BIGSERIAL", "NOW", "COUNT", "MAX", "MIN", "SUM", "COALESCE", "CASE", "WHEN", "THEN",
    "ELSE", "END", "EXIT", "FOUND", "DECLARE", "RAISE", "NOTICE", "PERFORM", "WHILE", "FOR", "WITH",
    "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "GROUP", "ORDER", "HAVING", "OFFSET", "ALL", "ANY",
    "TRUE", "FALSE", "TRANSACTION", "ISOLATION", "LEVEL", "GENERATED", "ALWAYS", "IDENTITY", "STORED",
    "OWNER", "LOCK", "SHARE", "MODE", "DATA", "TEMP", "INSERT", "NOWAIT", "SKIP", "LOCKED", "ROW",
    "ROWS", "ASC", "DESC", "NULLS", "FIRST", "LAST", "ANALYZE", "VACUUM", "DO", "LANGUAGE", "PLPGSQL",
    "RETURN", "RETURNS", "FUNCTION", "PROCEDURE", "CALL", "TRIGGER", "EXECUTE",
))


def _typo(statement: str) -> tuple[str, str] | None:
    """An all-caps word that is one slip away from a SQL keyword (COLUM -> COLUMN), if any."""
    for word in re.findall(r"\b[A-Z]{3,}\b", statement):
        if word in _KNOWN_WORDS:
            continue
        close = difflib.get_close_matches(word, _KEYWORDS, n=1, cutoff=0.8)
        if close:
            return word, close[0]
    return None


def _near(statement: str, col: int) -> str:
    """A few words of the statement around a column offset, for "near '...'"."""
    first_line_len = len(statement.split("\n", 1)[0])
    col = max(0, min(col, first_line_len))
    before = statement[:col].split()[-2:]
    after = statement[col:].split()[:1]
    return " ".join(before + after)[:60] or statement[:40]


def _plain_squawk_error(message: str) -> str:
    msg = re.sub(r"\b([A-Z]+)_KW\b", r"the keyword \1", message)
    msg = re.sub(r"\bIDENT\b", "a name", msg)
    return re.sub(r"\b(INT|FLOAT)_NUMBER\b", "a number", msg)


def _syntax_finding(statement: str, line_no: int, detail: str, near: str) -> SqlFinding:
    typo = _typo(statement)
    fix = f"Did you mean {typo[1]} instead of {typo[0]}? " if typo else ""
    near_txt = f" near '{near}'" if near else ""
    message = f"Line {line_no} of your SQL doesn't parse: {detail}{near_txt}."
    hint = f"{fix}Fix the syntax of `{statement[:120]}` so it would run as written."
    return SqlFinding("syntax-error", "failure", statement, message, hint)


_sqlglot_quiet = False


def _quiet_sqlglot() -> None:
    """sqlglot logs a warning each time it falls back to a generic command; that is not an error here."""
    global _sqlglot_quiet
    if not _sqlglot_quiet:
        logging.getLogger("sqlglot").addFilter(lambda r: "Falling back" not in r.getMessage())
        _sqlglot_quiet = True


def _parses_fully(sql: str) -> bool:
    """sqlglot reads every statement as PostgreSQL into a real syntax tree (not its generic fallback)."""
    try:
        import sqlglot
        from sqlglot import exp

        _quiet_sqlglot()
        trees = sqlglot.parse(sql, read="postgres")
    except Exception:
        return False
    return bool(trees) and all(t is not None and not isinstance(t, exp.Command) for t in trees)


def _sqlglot_errors(stmts: list[_Stmt], line_of: list[int]) -> dict[int, SqlFinding]:
    """Syntax errors found without squawk: sqlglot parse errors plus misspelt keywords."""
    errors: dict[int, SqlFinding] = {}
    try:
        import sqlglot
        from sqlglot.errors import ParseError, TokenError
    except Exception:
        sqlglot = None
    if sqlglot is not None:
        _quiet_sqlglot()
    for i, st in enumerate(stmts):
        if sqlglot is not None:
            try:
                sqlglot.parse(st.text, read="postgres")
            except (ParseError, TokenError) as exc:
                info = (getattr(exc, "errors", None) or [{}])[0]
                line = int(info.get("line") or 1)
                desc = str(info.get("description") or exc).split("\n")[0]
                near = " ".join(x for x in (info.get("start_context"), info.get("highlight")) if x).strip()
                errors[i] = _syntax_finding(st.text, line_of[i] + line, desc.lower(), near[-60:])
                continue
            except Exception:  # a parser bug is not the candidate's syntax error
                pass
        typo = _typo(st.text)
        if typo:
            errors[i] = _syntax_finding(st.text, line_of[i] + 1, f"'{typo[0]}' is not a SQL keyword", typo[0])
    return errors


# ---------------------------------------------------------------------------------------------------------
# Shape: the expand-and-contract steps, in SQL and in words
# ---------------------------------------------------------------------------------------------------------
STEP_KEYS = ("expand", "backfill", "batched", "check_not_valid", "validate", "not_null", "lock_timeout",
             "deploy_code")
# Weights of each step in the score; base credit for having written real SQL at all.
# The pattern's steps and what each is worth (with the base, 1.0 in all): the expand step, the code that
# writes the column, the backfill (in batches), NOT NULL enforced, enforced without a long lock (CHECK ...
# NOT VALID, then VALIDATE), and a lock_timeout. A step said in words (the lock timeout, when the code is
# deployed) counts in full where SQL has no statement for it, and half for the others.
_WEIGHTS = {"expand": 0.2, "deploy_code": 0.1, "backfill": 0.15, "batched": 0.05, "not_null": 0.15,
            "check_not_valid": 0.1, "validate": 0.05, "lock_timeout": 0.1}
_PROSE_IN_FULL = frozenset({"lock_timeout", "deploy_code"})
_SQL_BASE = 0.1

_F = re.I | re.S
_ADD_COLUMN_RE = re.compile(
    r"\bALTER\s+TABLE\b.*?\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?!CONSTRAINT\b|PRIMARY\b|UNIQUE\b|CHECK\b|FOREIGN\b|EXCLUDE\b)(?:\"[^\"]+\"|\w+)\s+\w", _F)
_NOT_NULL_RE = re.compile(r"\bNOT\s+NULL\b", re.I)
_DEFAULT_RE = re.compile(r"\bDEFAULT\b", re.I)
_VOLATILE_DEFAULT_RE = re.compile(
    r"\bDEFAULT\s*\(?\s*(?:random|gen_random_uuid|uuid_generate_v\d\w*|clock_timestamp|timeofday|nextval"
    r"|txid_current)\s*\(|\bGENERATED\s+ALWAYS\s+AS\s*\(.*\)\s*STORED", _F)
_UPDATE_RE = re.compile(r"^(?:WITH\b.*?)?\bUPDATE\s+\S+.*?\bSET\b|^DO\b.*\bUPDATE\s+\S+.*?\bSET\b", _F)
_BATCH_SQL_RE = re.compile(
    r"\bBETWEEN\b|\bLIMIT\b|\bLOOP\b|\bWHILE\b|\bFOR\s+\w+\s+IN\b|\b\w*id\s*(?:<=?|>=?)\s*[\d:$%]|\bctid\b"
    r"|\bbatch\w*|\bchunk\w*|:\w+|%\(\w+\)s|\$\d+", re.I)
_WHERE_OR_LIMIT_RE = re.compile(r"\bWHERE\b|\bLIMIT\b", re.I)
_CHECK_NOT_VALID_RE = re.compile(r"\bCHECK\s*\(.*\bNOT\s+NULL\b.*\)\s*NOT\s+VALID\b", _F)
_ANY_NOT_VALID_RE = re.compile(r"\bNOT\s+VALID\b", re.I)
_VALIDATE_RE = re.compile(r"\bVALIDATE\s+CONSTRAINT\b", re.I)
_SET_NOT_NULL_RE = re.compile(r"\bSET\s+NOT\s+NULL\b", re.I)
_LOCK_TIMEOUT_RE = re.compile(r"^SET\s+(?:LOCAL\s+|SESSION\s+)?lock_timeout\b", re.I)
_ALTER_OR_INDEX_RE = re.compile(r"^(?:ALTER\s+TABLE|CREATE\s+(?:UNIQUE\s+)?INDEX)\b", re.I)
_TABLE_COL_RE = re.compile(
    r"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(" + _IDENT + r")\s+ADD\s+(?:COLUMN\s+)?"
    r"(?:IF\s+NOT\s+EXISTS\s+)?(?!(?:CONSTRAINT|CHECK|UNIQUE|PRIMARY|FOREIGN|EXCLUDE)\b)(" + _IDENT + ")",
    re.I)
_NAME = r"(\"[^\"\n]{1,63}\"|[A-Za-z_][\w$]*)"
_ALTER_TABLE_NAME_RE = re.compile(r"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(" + _IDENT + ")", re.I)
_ADDED_COL_RE = re.compile(
    r"\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?!CONSTRAINT\b|PRIMARY\b|UNIQUE\b|CHECK\b|FOREIGN\b"
    r"|EXCLUDE\b)" + _NAME + r"\s+\w", re.I)
_DROPPED_COL_RE = re.compile(
    r"\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(?!CONSTRAINT\b|DEFAULT\b|NOT\b|IDENTITY\b|EXPRESSION\b"
    r"|COLUMN\b)" + _NAME, re.I)
_SET_NOT_NULL_COL_RE = re.compile(r"\bALTER\s+(?:COLUMN\s+)?" + _NAME + r"\s+SET\s+NOT\s+NULL\b", re.I)
_VALIDATE_NAME_RE = re.compile(r"\bVALIDATE\s+CONSTRAINT\s+" + _NAME, re.I)
_CHECK_DEF_RE = re.compile(r"\bADD\s+CONSTRAINT\s+" + _NAME + r"\s+CHECK\s*\((.*)\)", _F)
_WORD_RE = re.compile(r"\"[^\"\n]{1,63}\"|[A-Za-z_][\w$]*")

# Built-in checks named like squawk's rules, for when squawk cannot run on a statement.
_FALLBACK_CHECKS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("ban-drop-table", re.compile(r"^DROP\s+TABLE\b", re.I),
     "Dropping a table breaks every client still using it."),
    ("ban-drop-database", re.compile(r"^DROP\s+DATABASE\b", re.I), "Dropping a database destroys live data."),
    ("ban-drop-column", re.compile(r"^ALTER\s+TABLE\b.*\bDROP\s+COLUMN\b", _F),
     "Dropping a column breaks code that still reads or writes it."),
    ("renaming-column",
     re.compile(r"^ALTER\s+TABLE\b.*\bRENAME\s+(?!TO\b|CONSTRAINT\b)(?:COLUMN\s+)?\S+\s+TO\b", _F),
     "Renaming a column breaks running code that uses the old name."),
    ("renaming-table", re.compile(r"^ALTER\s+TABLE\s+\S+\s+RENAME\s+TO\b", re.I),
     "Renaming a table breaks running code that uses the old name."),
    ("changing-column-type",
     re.compile(r"^ALTER\s+TABLE\b.*\bALTER\s+(?:COLUMN\s+)?\S+\s+(?:SET\s+DATA\s+)?TYPE\b", _F),
     "Changing a column's type rewrites the table under an ACCESS EXCLUSIVE lock."),
    ("constraint-missing-not-valid",
     re.compile(r"^ALTER\s+TABLE\b.*\bADD\s+(?:CONSTRAINT\s+\S+\s+)?(?:CHECK|FOREIGN\s+KEY)\b"
                r"(?!.*\bNOT\s+VALID\b)", _F),
     "A new constraint without NOT VALID scans the table while blocking writes."),
    ("require-concurrent-index-creation",
     re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.I),
     "Building an index without CONCURRENTLY blocks writes until it finishes."),
)


def _statement_checks(stmts: list[_Stmt], use_fallback: set[int], prose_backfill: bool) -> list[SqlFinding]:
    """Our own shape checks over all statements, plus squawk-named checks where squawk did not run."""
    out: list[SqlFinding] = []
    texts = [s.text for s in stmts]
    seen_validate = False
    seen_lock_timeout = False
    lock_timeout_reported = False
    nullable_adds: list[int] = []
    new_columns: set[str] = set()  # nullable columns added so far
    enforce: str | None = None  # the first statement enforcing NOT NULL on one of them
    checks: dict[str, set[str]] = {}  # CHECK constraint name -> the words of its condition
    has_update = any(_UPDATE_RE.search(t) for t in texts)
    for i, t in enumerate(texts):
        is_add = bool(_ADD_COLUMN_RE.search(t))
        check = _CHECK_DEF_RE.search(t)
        if check:
            checks[_norm(check.group(1))] = {_norm(w) for w in _WORD_RE.findall(check.group(2))}
        if is_add and _NOT_NULL_RE.search(t) and not _DEFAULT_RE.search(t):
            if i in use_fallback:
                out.append(_finding("adding-required-field", t,
                                    "Adding a NOT NULL column with no default fails on a table that has rows "
                                    "and needs an exclusive lock."))
        elif is_add and _VOLATILE_DEFAULT_RE.search(t):
            if i in use_fallback:
                out.append(_finding("adding-field-with-default", t,
                                    "A volatile default rewrites every row under an ACCESS EXCLUSIVE lock."))
        elif is_add and not _DEFAULT_RE.search(t):
            nullable_adds.append(i)
            new_columns.update(_norm(c) for c in _ADDED_COL_RE.findall(t))
        elif new_columns and enforce is None and (_SET_NOT_NULL_RE.search(t) or _VALIDATE_RE.search(t)):
            cols = _enforced_columns(t, checks)
            if cols is None or cols & new_columns:
                enforce = t
        if _LOCK_TIMEOUT_RE.search(t):
            seen_lock_timeout = True
        if i in use_fallback:
            for rule, pattern, message in _FALLBACK_CHECKS:
                if pattern.search(t):
                    out.append(_finding(rule, t, message))
            if _SET_NOT_NULL_RE.search(t) and not seen_validate:
                out.append(_finding("adding-not-nullable-field", t,
                                    "SET NOT NULL scans the whole table under an exclusive lock."))
            if _ALTER_OR_INDEX_RE.search(t) and not seen_lock_timeout and not lock_timeout_reported:
                lock_timeout_reported = True
                out.append(_finding("require-lock-timeout", t,
                                    "Without a lock_timeout this DDL can queue behind a long query and block "
                                    "every query that arrives after it."))
        if _VALIDATE_RE.search(t):
            seen_validate = True
        if _UPDATE_RE.search(t) and not t.upper().startswith("DO") and not _WHERE_OR_LIMIT_RE.search(t):
            out.append(_finding("unbatched-backfill", t,
                                "One UPDATE over the whole table holds row locks on every row in one long "
                                "transaction."))
        if _CHECK_NOT_VALID_RE.search(t) and not any(_VALIDATE_RE.search(x) for x in texts[i + 1:]):
            out.append(_finding("check-not-validated", t,
                                "A NOT VALID constraint is not checked for existing rows until it "
                                "is validated."))
    if enforce and not has_update and not prose_backfill:
        # Only a backfill missing everywhere (SQL, comment or prose) is a failure; a described one counts.
        out.append(_finding("missing-backfill", enforce,
                            "Existing rows are still NULL, so enforcing NOT NULL fails without a backfill."))
    if nullable_adds and has_update and not any(
            _SET_NOT_NULL_RE.search(t) or _CHECK_NOT_VALID_RE.search(t) for t in texts):
        out.append(_finding("missing-not-null", texts[nullable_adds[0]],
                            "Nothing enforces that the column is filled once the backfill ends."))
    return out


def _norm(name: str) -> str:
    """A name as PostgreSQL resolves it, minus the schema: unquoted names fold to lower case."""
    last = _WORD_RE.findall(name)[-1] if _WORD_RE.search(name) else name
    return last[1:-1] if last.startswith('"') else last.lower()


def _enforced_columns(stmt: str, checks: dict[str, set[str]]) -> set[str] | None:
    """Columns a SET NOT NULL / VALIDATE CONSTRAINT statement enforces; None when that can't be told."""
    m = _SET_NOT_NULL_COL_RE.search(stmt)
    if m:
        return {_norm(m.group(1))}
    m = _VALIDATE_NAME_RE.search(stmt)
    return checks.get(_norm(m.group(1))) if m else None


_DROP_RE = re.compile(r"\bDROP\b", re.I)


def _contract_drops(texts: list[str], backfill_described: bool) -> set[str]:
    """DROP COLUMN statements that are the contract phase: a separate statement, after a new column was added
    to the same table and backfilled (in SQL before it, or described anywhere), dropping a column that is not
    one of the new ones. Any other DROP COLUMN removes a column that is still in use."""
    added: dict[str, set[str]] = {}  # table -> columns added so far
    all_added = {_norm(c) for t in texts if _ADD_COLUMN_RE.search(t) for c in _ADDED_COL_RE.findall(t)}
    contract: set[str] = set()
    in_use: set[str] = set()
    backfilled = backfill_described
    for t in texts:
        table_m = _ALTER_TABLE_NAME_RE.search(t)
        table = _norm(table_m.group(1)) if table_m else None
        if _ADD_COLUMN_RE.search(t):
            if table:
                added.setdefault(table, set()).update(_norm(c) for c in _ADDED_COL_RE.findall(t))
            if _DROP_RE.search(t):
                in_use.add(t)  # added and dropped in one statement: no code could have switched over yet
            continue
        if _UPDATE_RE.search(t):
            backfilled = True
        if table and _DROP_RE.search(t):
            dropped = {_norm(c) for c in _DROPPED_COL_RE.findall(t)}
            if dropped and added.get(table) and backfilled and not dropped & all_added:
                contract.add(t)
            else:
                in_use.add(t)
    return contract - in_use


_RENAME_TABLE_RE = re.compile(r"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?" + _NAME + r"\s+RENAME\s+TO\b", re.I)
_VIEW_RE = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+" + _NAME, re.I)
# varchar(n) to a longer varchar, to varchar or to text is binary-coercible: no rewrite, no index rebuild,
# only a brief ACCESS EXCLUSIVE lock (PostgreSQL 9.2+).
_TYPE_CHANGE_RE = re.compile(r"^ALTER\s+TABLE\b.*\bALTER\s+(?:COLUMN\s+)?\S+\s+(?:SET\s+DATA\s+)?TYPE\b", _F)
_WIDEN_TYPE_RE = re.compile(
    r"\bTYPE\s+(?:varchar|character\s+varying|text|citext)\b(?:\s*\(\s*\d+\s*\))?\s*;?\s*$", re.I)


def _bridged_by_view(statement: str, text: str) -> bool:
    """A table rename with a view under the old name created in the same answer."""
    m = _RENAME_TABLE_RE.match(statement.strip())
    old = _norm(m.group(1)) if m else None
    return bool(old) and any(_norm(v.group(1)) == old for v in _VIEW_RE.finditer(text))


def _softened(f: SqlFinding, text: str) -> SqlFinding:
    """A rule squawk reports that the rest of the migration makes safe: a table renamed while a view keeps
    the old name readable and writable, or a column type change that only widens a text type."""
    if f.severity != "failure":
        return f
    if f.rule == "renaming-table" and _bridged_by_view(f.statement, text):
        return SqlFinding(f.rule, "advice", f.statement, f.message + " A view under the old name keeps "
                              "running code working until it is retired.", f.hint)
    if f.rule == "changing-column-type" and _WIDEN_TYPE_RE.search(f.statement.strip()):
        return SqlFinding(f.rule, "advice", f.statement, "Widening a text column rewrites nothing, but the "
                          "ALTER still takes a brief ACCESS EXCLUSIVE lock.",
                          "Set lock_timeout first so the ALTER gives up instead of queueing writes "
                          "behind it.")
    return f


def _finding(rule: str, statement: str, message: str, help_text: str | None = None) -> SqlFinding:
    r = RULES.get(rule, _DEFAULT_RULE)
    return SqlFinding(rule, r.severity, statement, message, r.hint or (help_text or "") or message)


# Describing the steps in words. Each pattern is bounded so long inputs stay linear.
_PROSE_STEPS: dict[str, re.Pattern[str]] = {
    "expand": re.compile(
        r"\bnull-?able\b|\ballow(?:s|ing)?\s+nulls?\b|\bwithout\s+(?:a\s+|the\s+)?not\s+null\b"
        r"|\b(?:constant|static|fixed|non-?volatile)\s+default\b|\badd\w*\s+(?:the\s+|a\s+|it\s+)?(?:new\s+)?"
        r"column\s+(?:first\s+)?(?:as\s+)?(?:optional|null\b|with\s+a\s+default)", re.I),
    "backfill": re.compile(
        r"\bback-?fill\w*|\bpopulat\w*\s+(?:the\s+|all\s+)?(?:existing|old)\s+rows\b"
        r"|\bfill\w*\s+in\s+(?:the\s+|all\s+)?(?:existing|old)\s+rows\b|\bupdat\w*\s+(?:the\s+|all\s+)?"
        r"existing\s+rows\b|\bin_batches\b|\bupdate_all\b|\bfind_each\b|\bbulk_update\b", re.I),
    "batched": re.compile(
        r"\bin\s+(?:small\s+)?(?:batches|chunks)\b|\bbatch(?:es|ed|ing)?\b|\bchunk(?:s|ed)\b"
        r"|\b[\d,._]+k?\s+rows\s+(?:at\s+a\s+time|per\s+(?:batch|transaction|loop|iteration))|\bthrottl\w*",
        re.I),
    "check_not_valid": re.compile(r"\bnot\s+valid\b|\bunvalidated\s+(?:check\s+)?constraint\b", re.I),
    "validate": re.compile(r"\bvalidat\w*\s+(?:the\s+|that\s+|this\s+)?(?:check\s+)?constraint\b"
                           r"|\bvalidate\s+it\b", re.I),
    "not_null": re.compile(
        r"\bset\s+not\s+null\b|\b(?:add|enforce|apply|then|finally|flip)\w*\s+(?:the\s+)?not[\s-]+null\b"
        r"|\bmak\w*\s+(?:it|the\s+column)\s+(?:required|not[\s-]+null)\b", re.I),
    "lock_timeout": re.compile(r"\block[_\s]timeout\b", re.I),
    "deploy_code": re.compile(
        r"\b(?:deploy|ship|releas|roll\w*\s+out)\w*\s+(?:the\s+|a\s+)?(?:new\s+)?(?:code|app|application|service"
        r"|version|change|writer|release)\b[^.\n]{0,80}?\b(?:writ|populat|fill|set)\w*|\bdual[\s-]?writ\w*"
        r"|\bstart\w*\s+writing\b|\bcode\s+(?:that|which)\s+(?:writes|populates|fills|sets)\b"
        r"|\bwrit\w*\s+(?:to\s+)?both\b", re.I),
}
_NEGATABLE = frozenset({"backfill", "batched", "lock_timeout"})
_NEGATION_RE = re.compile(
    r"(?:\bno|\bwithout|\bskip\w*|\bforgot\w*|\bnever|n't|\bnot|\bomit\w*)\s+(?:(?:a|an|the|any|to|need|needed"
    r"|needs|for|do|doing|run|ran|running|bother\w*|in|with|use|using)\s+){0,3}\Z", re.I)
_SCHEMA_RE = re.compile(
    r"\b(?:migrations?|migrat(?:e|ed|ing)\s+(?:the\s+)?(?:db|database|schema|table)|schema\s+(?:change|migration"
    r"|update)s?|(?:database|db)\s+schema|DDL|ALTER\s+TABLE|(?:add|added|adding)\s+(?:a\s+|an\s+|the\s+)?"
    r"(?:new\s+)?(?:\w+\s+)?(?:column|index|constraint)s?|new\s+(?:column|index|table)s?|(?:drop|dropped|dropping"
    r"|rename|renamed|renaming)\s+(?:a\s+|an\s+|the\s+)?(?:\w+\s+)?(?:column|table|index)|NOT\s+NULL"
    r"|backfill\w*|column\s+type)\b",
    re.I,
)


def mentions_schema_change(text: str) -> bool:
    """True when the text talks about a schema change, migration, or column/table/index change."""
    try:
        return bool(text) and _SCHEMA_RE.search(text) is not None
    except Exception:
        return False


_EDGE_JUNK_RE = re.compile(r"\A[\s`]*(?:(?:--+|/\*+)\s*)?|\s*(?:\*/)?[\s`]*\Z")
_CLAUSE_END_RE = re.compile(r"[.!?;,](?=\s|$)|\n")


def _sentence(text: str, start: int, end: int) -> str:
    """The clause around text[start:end], trimmed and capped, always a verbatim slice of text."""
    left = max(text.rfind(c, max(0, start - 200), start) for c in ".!?;,\n")
    left = left + 1 if left >= 0 else max(0, start - 200)
    m = _CLAUSE_END_RE.search(text, end, min(len(text), end + 200))
    right = m.start() if m else min(len(text), end + 200)
    # Fence backticks and comment markers at the edges are not part of what was said.
    stripped = _EDGE_JUNK_RE.sub("", text[left:right])
    return stripped[:_MAX_EVIDENCE] if stripped else text[start:end]


def _cap(s: str) -> str:
    return s[:_MAX_EVIDENCE]


# ---------------------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------------------
def analyse_sql(text: str) -> SqlAnalysis:
    """Analyse the migration SQL (and the words around it) in one answer. Never raises."""
    try:
        return _analyse(text if isinstance(text, str) else str(text or ""))
    except Exception as exc:  # last line of defence: grading goes on with a neutral result
        return SqlAnalysis((), False, (), (), False, dict.fromkeys(STEP_KEYS), False, False, 0.0, (),
                           "Write the migration as SQL: add the column nullable, backfill in batches, then "
                           "enforce NOT NULL.", False, (f"SQL analysis failed: {type(exc).__name__}",))


# Bind placeholders a batch script fills in (`:lo`, `%(lo)s`, `%s`, `?`): PostgreSQL's parser only knows
# `$1`, so each is linted as `$1` (the statement itself is quoted as written).
_PLACEHOLDER_RE = re.compile(r"(?<![:\w]):[A-Za-z_]\w*|%\(\w+\)s|%s\b|(?<=[\s(,=<>])\?(?=[\s),;]|$)")
# MySQL's own DDL: squawk and the parser read PostgreSQL, so MySQL answers are graded on their steps.
_MYSQL_RE = re.compile(
    r"\bALGORITHM\s*=\s*(?:INSTANT|INPLACE|COPY)\b|\bLOCK\s*=\s*(?:NONE|SHARED)\b|"
    r"\bmysql\b|\bmariadb\b|\bgh-ost\b|\bpt-online-schema-change\b|\bENGINE\s*=\s*InnoDB\b",
    re.I,
)


def _inline_mention(text: str, st: _Stmt) -> bool:
    """A statement written alone in single backticks inside a sentence (`CREATE UNIQUE INDEX`): a name
    for a command, not SQL to run, when it does not parse."""
    before = text[max(0, st.start - 3) : st.start]
    return before.endswith("`") and not before.endswith("```")


def _analyse(text: str) -> SqlAnalysis:
    stmts, prose = _find_statements(text)
    notes: list[str] = []
    mysql = bool(_MYSQL_RE.search(text))
    inline = [i for i, st in enumerate(stmts) if _inline_mention(text, st)]
    if inline:
        # a command named in passing (`CREATE UNIQUE INDEX`) that does not parse is a name, not SQL
        broken = _sqlglot_errors([stmts[i] for i in inline], [0] * len(inline))
        drop = {inline[j] for j in broken} | {i for i in inline if len(stmts[i].text.split()) <= 3}
        stmts = [st for i, st in enumerate(stmts) if i not in drop]
    schema = mentions_schema_change(text)
    texts = [s.text for s in stmts]

    # Prose steps: looked for in the words only, so SQL doesn't also count as a description of itself.
    prose_steps: dict[str, str | None] = {}
    for key, pattern in _PROSE_STEPS.items():
        m = pattern.search(prose)
        while m and key in _NEGATABLE and _NEGATION_RE.search(prose, max(0, m.start() - 40), m.start()):
            m = pattern.search(prose, m.end())  # "no backfill needed" is not a backfill
        prose_steps[key] = _sentence(text, m.start(), m.end()) if m else None

    syntax: dict[int, SqlFinding] = {}
    findings: list[SqlFinding] = []
    linted = False
    if stmts:
        # One line per statement start so squawk's line numbers map back to statements.
        parts: list[str] = []
        line_of: list[int] = []
        line = 0
        for t in texts:
            line_of.append(line)
            t = _PLACEHOLDER_RE.sub("$1", t)
            last = t.rsplit("\n", 1)[-1]
            piece = t if t.endswith(";") else (t + "\n;" if "--" in last else t + ";")
            parts.append(piece)
            line += piece.count("\n") + 1
        # MySQL's dialect is not PostgreSQL's: its statements count for their steps, unlinted
        violations, linted = ([], True) if mysql else lint_sql("\n".join(parts))
        if mysql:
            notes.append("Read as MySQL: squawk lints PostgreSQL, so the migration's steps were graded.")
        use_fallback: set[int] = set()
        if linted:
            stopped = False
            for v in violations:
                idx = max(0, bisect.bisect_right(line_of, int(v.get("line") or 0)) - 1)
                if v.get("rule_name") == "syntax-error":
                    stopped = True
                    # the two parsers disagree (a data-modifying CTE, a newer clause): when sqlglot reads
                    # the statement as PostgreSQL, it is not a syntax error
                    if idx not in syntax and not _parses_fully(_PLACEHOLDER_RE.sub("$1", texts[idx])):
                        lines = texts[idx].split("\n")
                        rel_line = min(max(0, int(v.get("line") or 0) - line_of[idx]), len(lines) - 1)
                        syntax[idx] = _syntax_finding(
                            texts[idx], int(v.get("line") or 0) + 1,
                            _plain_squawk_error(str(v.get("message") or "syntax error")),
                            _near(lines[rel_line], int(v.get("column") or 0)))
                    continue
                rule = str(v.get("rule_name") or "unknown")
                findings.append(_finding(rule, texts[idx], str(v.get("message") or rule), v.get("help")))
            if stopped:
                # squawk reports nothing else once a file fails to parse; check the rest with built-in rules.
                use_fallback = set(range(len(stmts))) - set(syntax)
                findings.clear()
                notes.append("squawk stopped at a syntax error; the other statements were checked with "
                             "built-in rules.")
        else:
            notes.append(f"SQL linting was unavailable ({_last_lint_error or 'squawk failed'}); checked with "
                         "sqlglot and built-in rules instead.")
            syntax = _sqlglot_errors(stmts, line_of)
            use_fallback = set(range(len(stmts))) - set(syntax)
        ok = [s for i, s in enumerate(stmts) if i not in syntax]
        ok_fallback = {j for j, i in enumerate(k for k in range(len(stmts)) if k not in syntax)
                       if i in use_fallback}
        findings.extend(_statement_checks(ok, ok_fallback, prose_steps["backfill"] is not None))
    else:
        ok = []

    # Dropping the old column after the new one is added and backfilled is the contract step, not an accident.
    sql_steps = _sql_steps([s.text for s in ok])
    contract = _contract_drops([s.text for s in ok], prose_steps["backfill"] is not None)
    findings = [f if f.rule != "ban-drop-column" or f.statement not in contract else SqlFinding(
        f.rule, "advice", f.statement, f.message + " As the contract step it is fine once no deployed code "
        "reads the column.", f.hint) for f in findings]
    findings = [_softened(f, text) for f in findings]
    findings = _dedupe(findings)
    syntax_errors = tuple(syntax[i] for i in sorted(syntax))
    unsafe = any(f.severity == "failure" for f in findings)

    steps: dict[str, str | None] = {}
    for key in STEP_KEYS:
        steps[key] = sql_steps.get(key) or prose_steps.get(key)
    core_prose = sum(1 for k in ("expand", "backfill") if prose_steps[k]) + int(
        any(prose_steps[k] for k in ("not_null", "check_not_valid", "validate")))
    sql_complete = bool(sql_steps["expand"] and sql_steps["backfill"]
                        and (sql_steps["not_null"] or sql_steps["validate"]))
    prose_pattern = core_prose == 3 and not sql_complete
    has_sql = bool(stmts)
    constant_default_path = bool(sql_steps.get("_constant_not_null"))
    if constant_default_path:
        notes.append("A constant DEFAULT with NOT NULL is instant on PostgreSQL 11+, but a real "
                     "backfill with "
                     "per-row values needs the expand-and-contract steps.")

    score = _score(has_sql, bool(ok), unsafe, len(syntax), sql_steps, prose_steps, core_prose, findings,
                   schema, constant_default_path, bool(contract))
    # The steps only named, as items of a list ("batched backfill, CHECK NOT VALID, VALIDATE CONSTRAINT,
    # lock_timeout, …"), are the pattern recited, not a migration described: every core step said in
    # a few words each (names of steps, not descriptions of this table's), with no statement written.
    said = [len(re.findall(r"[A-Za-z]+", prose_steps[k] or ""))
            for k in ("expand", "backfill", "not_null", "check_not_valid", "validate") if prose_steps.get(k)]
    recited = not stmts and len(said) >= 2 and (max(said) <= 3 or sum(said) / len(said) <= 4.5)
    if recited:
        score = min(score, 0.3)
    index = _index_change([s.text for s in ok], text) if ok and not unsafe and not syntax else None
    if index is not None:
        # the change is an index (no column becomes required): graded on what makes an index build safe
        score, index_hint, index_evidence = index

    evidence: list[str] = []
    for f in findings:
        if f.severity == "failure":
            evidence.append(_cap(f.statement))
    for key in STEP_KEYS:
        if steps[key]:
            evidence.append(steps[key])  # type: ignore[arg-type]
    evidence = list(dict.fromkeys(e for e in evidence if e and e in text))

    hint = _hint(has_sql, findings, syntax_errors, steps, sql_steps, prose_pattern, core_prose, texts, prose)
    if recited:
        hint = ("You named the steps; now describe them for this table: what you add first, how the "
                "backfill runs (batch size, pauses), how NOT NULL is enforced without a long lock, and in "
                "what order the code ships.")
    if index is not None:
        hint = index_hint
        evidence = list(dict.fromkeys([*index_evidence, *evidence]))
    return SqlAnalysis(
        statements=tuple(texts),
        has_sql=has_sql,
        syntax_errors=syntax_errors,
        findings=tuple(findings),
        unsafe=unsafe,
        steps=steps,
        prose_pattern=prose_pattern,
        mentions_schema_change=schema,
        score=round(min(1.0, max(0.0, score)), 3),
        evidence=tuple(evidence),
        hint=hint,
        linted=linted,
        notes=tuple(notes),
        recited=recited,
    )


_CHECK_NAME_RE = re.compile(r"\bADD\s+CONSTRAINT\s+" + _NAME, re.I)
_CREATE_INDEX_RE = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I)
_CONCURRENT_INDEX_RE = re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b", re.I)
_REQUIRED_RE = re.compile(r"\bNOT\s+NULL\b|\brequired\b|\bmandatory\b|\bnon-?nullable\b", re.I)
_TIMEOUT_RE = re.compile(r"\b(?:lock|statement)_timeout\b", re.I)
_INDEX_VERIFY_RE = re.compile(
    r"\bindisvalid\b|\bpg_index\b|\bINVALID\b|\bpg_stat_progress_create_index\b|\bEXPLAIN\b|\bverif\w*|"
    r"\bcheck(?:ed|s)?\s+(?:that\s+)?(?:the\s+)?(?:index|plan|query)", re.I)
_INDEX_ROLLOUT_RE = re.compile(
    r"\boutside\s+(?:of\s+)?(?:a|the|any)\s+transaction|disable_ddl_transaction|autocommit|atomic\s*=\s*False|"
    r"\bbefore\s+(?:the\s+)?(?:deploy|code|release|feature)|\bthen\s+(?:the\s+)?(?:deploy|code|release)|"
    r"\bDROP\s+INDEX\s+CONCURRENTLY\b|\brollback\b|\broll\s+back\b|\bretry\b|\brerun\b|\bre-run\b|"
    r"\bbehind\s+a\s+flag\b|\border\b", re.I)


_ADD_CONSTRAINT_RE = re.compile(
    r"^ALTER\s+TABLE\b.*\bADD\s+(?:CONSTRAINT\s+\S+\s+)?(CHECK|FOREIGN\s+KEY|UNIQUE)\b", _F
)
_USING_INDEX_RE = re.compile(r"\bUSING\s+INDEX\b", re.I)


def _index_change(texts: list[str], text: str) -> tuple[float, str | None, list[str]] | None:
    """(score, hint, evidence) when the migration builds an index or adds a constraint (CHECK, foreign
    key, UNIQUE) and makes no column required; None for any other change (the
    expand-and-contract steps grade those)."""
    indexes = [t for t in texts if _CREATE_INDEX_RE.match(t)]
    constraints = [t for t in texts if _ADD_CONSTRAINT_RE.search(t)]
    retypes = [t for t in texts if _TYPE_CHANGE_RE.search(t)]
    renames = [t for t in texts if _RENAME_TABLE_RE.match(t.strip())]
    if not indexes and not constraints and not retypes and not renames:
        return None
    if any(_REQUIRED_RE.search(t) for t in texts) or _REQUIRED_RE.search(text):
        return None
    if any(_UPDATE_RE.search(t) for t in texts):
        return None  # a backfill: a column change with an index or constraint on the side
    validated = {_norm(m.group(1)) for t in texts for m in _VALIDATE_NAME_RE.finditer(t)}

    def built_safely(t: str) -> bool:
        if t in retypes:
            return bool(_WIDEN_TYPE_RE.search(t))
        if t in renames:
            return _bridged_by_view(t, text)
        if _CREATE_INDEX_RE.match(t):
            return bool(_CONCURRENT_INDEX_RE.match(t))
        kind = _ADD_CONSTRAINT_RE.search(t).group(1).upper()
        if kind == "UNIQUE":
            return bool(_USING_INDEX_RE.search(t))  # on an index built CONCURRENTLY beforehand
        name = _CHECK_NAME_RE.search(t)
        return bool(_ANY_NOT_VALID_RE.search(t)) and (name is None or _norm(name.group(1)) in validated)

    changes = [*indexes, *constraints, *retypes, *renames]
    safe = all(built_safely(t) for t in changes)
    what = ("index" if indexes and not constraints else "constraint" if constraints
            else "type change" if retypes else "rename")
    checks = (
        ("safe", 0.45 if safe else 0.0,
         "Make the change without a long lock: CREATE INDEX CONCURRENTLY for an index; a CHECK or foreign "
         "key added NOT VALID, then VALIDATE CONSTRAINT; a UNIQUE constraint USING INDEX on an index built "
         "concurrently; a type change only where it rewrites nothing (a longer varchar, or text), otherwise "
         "a new column backfilled in batches; a rename with a view under the old name."),
        ("timeout", 0.15 if _TIMEOUT_RE.search(text) else 0.0,
         "Put `SET lock_timeout = '2s';` first: even a short lock waits in the queue, and every query "
         "queues behind it while it waits."),
        ("verify", 0.15 if _INDEX_VERIFY_RE.search(text) or re.search(r"\bcount\s*\(", text, re.I) else 0.0,
         f"Say how you know it worked: check the {what} is valid (pg_index.indisvalid, or rows that would "
         "break the rule counted before VALIDATE)." if what in ("index", "constraint") else
         f"Say how you know the {what} worked: what you checked afterwards (the catalog, the query plan, "
         "errors from the code that uses it)."),
        ("rollout", 0.15 if _INDEX_ROLLOUT_RE.search(text) else 0.0,
         "Say how it runs and rolls back: outside a transaction, before the code that needs it ships, and "
         "what you drop if it fails."),
    )
    score = _SQL_BASE + sum(w for _k, w, _h in checks)
    hint = next((h for _k, w, h in checks if w == 0.0), None)
    if hint is None:
        hint = f"Nothing essential is missing; say how long the {what} took to build and how you watched it."
    return min(1.0, score), hint, [_cap(changes[0])]


def _sql_steps(texts: list[str]) -> dict[str, str | None]:
    steps: dict[str, str | None] = dict.fromkeys(STEP_KEYS)
    steps["_constant_not_null"] = None
    for t in texts:
        ev = _cap(t)
        if _ADD_COLUMN_RE.search(t) and not _VOLATILE_DEFAULT_RE.search(t):
            has_nn, has_default = bool(_NOT_NULL_RE.search(t)), bool(_DEFAULT_RE.search(t))
            if not has_nn:
                steps["expand"] = steps["expand"] or ev
            elif has_default:
                steps["expand"] = steps["expand"] or ev
                steps["not_null"] = steps["not_null"] or ev
                steps["_constant_not_null"] = ev
        if _UPDATE_RE.search(t):
            steps["backfill"] = steps["backfill"] or ev
            if _BATCH_SQL_RE.search(t):
                steps["batched"] = steps["batched"] or ev
        if _CHECK_NOT_VALID_RE.search(t):
            steps["check_not_valid"] = steps["check_not_valid"] or ev
        if _VALIDATE_RE.search(t):
            steps["validate"] = steps["validate"] or ev
        if _SET_NOT_NULL_RE.search(t):
            steps["not_null"] = steps["not_null"] or ev
        if _LOCK_TIMEOUT_RE.search(t):
            steps["lock_timeout"] = steps["lock_timeout"] or ev
    return steps


def _score(has_sql: bool, any_ok: bool, unsafe: bool, n_syntax: int, sql_steps: dict, prose_steps: dict,
           core_prose: int, findings: list[SqlFinding], schema: bool, constant_path: bool,
           contract: bool = False) -> float:
    extras = sum(1 for k in ("batched", "lock_timeout", "deploy_code", "check_not_valid", "validate")
                 if prose_steps[k])
    if core_prose == 3:
        prose_score = min(0.62, 0.5 + 0.03 * extras)
    elif core_prose == 2:
        prose_score = min(0.5, 0.4 + 0.02 * extras)
    elif core_prose == 1:
        prose_score = min(0.4, 0.28 + 0.02 * extras)
    else:
        prose_score = min(0.25, 0.05 + 0.05 * schema + 0.05 * bool(prose_steps["lock_timeout"] or
                                                                   prose_steps["batched"]))
    if not has_sql:
        return prose_score

    credit = 0.0
    for key, weight in _WEIGHTS.items():
        if (
            sql_steps.get(key)
            or (key == "not_null" and sql_steps.get("validate"))
            or (key in _PROSE_IN_FULL and prose_steps.get(key))
        ):
            credit += weight
        elif constant_path and key in ("backfill", "check_not_valid", "validate"):
            credit += weight * 0.5  # the constant default already fills existing rows
        elif contract and key == "not_null":
            credit += weight  # a column replacement closed by its contract drop needs no NOT NULL of its own
        elif prose_steps.get(key) or (contract and key in ("check_not_valid", "validate")):
            # A contract-phase drop closes a column replacement, which needs no NOT NULL of its own.
            credit += weight * 0.5
    if unsafe:
        return min(0.2, 0.05 + 0.15 * credit)
    if not any_ok:  # every statement is broken
        return min(0.3, 0.1 + 0.4 * prose_score)
    # A failure rule downgraded to advice (the contract-phase drop) costs nothing: there it is the right move.
    penalties = sum(RULES.get(r, _DEFAULT_RULE).penalty for r in {
        f.rule for f in findings if RULES.get(f.rule, _DEFAULT_RULE).severity == f.severity})
    score = _SQL_BASE + credit - penalties
    if n_syntax:
        score = min(0.8, score - 0.1 * n_syntax)
    return max(score, min(prose_score, 0.7) if not n_syntax else 0.0)


def _dedupe(findings: list[SqlFinding]) -> list[SqlFinding]:
    seen: set[tuple[str, str]] = set()
    out: list[SqlFinding] = []
    for f in findings:
        if (f.rule, f.statement) not in seen:
            seen.add((f.rule, f.statement))
            out.append(f)
    rank = {name: i for i, name in enumerate(RULES)}
    return sorted(out, key=lambda f: (f.severity != "failure", rank.get(f.rule, len(rank))))


def _names(texts: list[str]) -> tuple[str, str]:
    for t in texts:
        m = _TABLE_COL_RE.search(t)
        if m:
            return m.group(1), m.group(2)
    return "orders", "region"


def _hint(has_sql: bool, findings: list[SqlFinding], syntax_errors: tuple[SqlFinding, ...],
          steps: dict[str, str | None], sql_steps: dict, prose_pattern: bool, core_prose: int,
          texts: list[str], prose: str = "") -> str:
    failure = next((f for f in findings if f.severity == "failure"), None)
    if failure:
        return f"`{failure.statement[:100]}`: {failure.message} {failure.hint}"
    if syntax_errors:
        return f"{syntax_errors[0].message} {syntax_errors[0].hint}"
    table, col = _names(texts)
    cname = f"{table.split('.')[-1].strip(chr(34))}_{col.strip(chr(34))}_not_null"
    if not has_sql:
        if prose_pattern:
            return ("You described the pattern; now write it: `SET lock_timeout = '2s'; ALTER TABLE "
                    f"{table} ADD COLUMN {col} text;` then a batched UPDATE, then `ADD CONSTRAINT "
                    f"{cname} CHECK "
                    f"({col} IS NOT NULL) NOT VALID;` and `VALIDATE CONSTRAINT {cname};`.")
        if core_prose:
            missing = [name for key, name in (("expand", "add the column nullable"),
                                              ("backfill", "backfill existing rows in batches"),
                                              ("not_null", "enforce NOT NULL with CHECK ... NOT VALID then "
                                                           "VALIDATE CONSTRAINT")) if not steps[key]
                       and not (key == "not_null" and (steps["check_not_valid"] or steps["validate"]))]
            return "Complete the pattern: " + "; ".join(missing) + ", under a lock_timeout."
        return ("Name the steps instead of being careful: add the column nullable, deploy code that "
                "writes it, "
                "backfill in batches, then enforce NOT NULL with CHECK ... NOT VALID and VALIDATE "
                "CONSTRAINT, "
                "all under a lock_timeout.")
    step_hints = (
        ("expand", f"Start with the expand step: `ALTER TABLE {table} ADD COLUMN {col} text;` (nullable, or "
                   "a constant DEFAULT) so no existing row has to change."),
        ("backfill", f"Backfill existing rows: `UPDATE {table} SET {col} = ... WHERE id BETWEEN 1 "
                     f"AND 10000 AND "
                     f"{col} IS NULL;`, repeated batch by batch."),
        ("lock_timeout", "Put `SET lock_timeout = '2s';` first so a DDL waiting behind a long query "
                         "fails fast "
                         "instead of blocking every query queued after it."),
        ("check_not_valid", f"Enforce NOT NULL without a long lock: `ALTER TABLE {table} ADD "
                            f"CONSTRAINT {cname} "
                            f"CHECK ({col} IS NOT NULL) NOT VALID;`."),
        ("validate", f"Then `ALTER TABLE {table} VALIDATE CONSTRAINT {cname};` — it scans without blocking "
                     "writes, and afterwards SET NOT NULL needs no scan (PG12+)."),
        ("batched", "Run the backfill in batches (WHERE id BETWEEN ... or a LIMITed subquery in a "
                    "loop) so no "
                    "single transaction locks every row."),
        ("deploy_code", "Say when the application starts writing the new column: after the expand step and "
                        "before the backfill, so new rows arrive filled."),
    )
    if sql_steps.get("_constant_not_null") and not sql_steps["backfill"]:
        step_hints = tuple(h for h in step_hints if h[0] not in ("backfill", "check_not_valid", "validate",
                                                                 "batched"))
    for key, text in step_hints:
        # a hint only for a step the answer has neither written nor said
        if not sql_steps.get(key) and not steps.get(key):
            return text
    advice = next((f for f in findings if RULES.get(f.rule, _DEFAULT_RULE).penalty > 0), None)
    if advice:
        return f"`{advice.statement[:100]}`: {advice.hint}"
    said = [k for k in STEP_KEYS if steps.get(k) and not sql_steps.get(k) and k not in _PROSE_IN_FULL]
    if said:
        return "Write the steps you describe in words as statements too: it shows you have run them."
    if _WATCH_RE.search(prose):
        return "Nothing essential is missing; say how you would know each step finished before the next."
    return ("Nothing essential is missing; say how you would watch lock waits and replication lag while the "
            "backfill runs.")


_WATCH_RE = re.compile(r"replica(?:tion)?\s+lag|lock\s+waits?|pg_stat_activity|pg_locks", re.I)
