"""The migration-trap SQL analysis: extraction, squawk linting, the expand-and-contract shape, and scoring."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rubric import sql as S

FULL_PATTERN = """I'd do it in steps, each its own migration:

```sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN region text;
-- deploy: the app now writes region on every new order
UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 10000 AND region IS NULL;
ALTER TABLE orders ADD CONSTRAINT orders_region_not_null CHECK (region IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_region_not_null;
ALTER TABLE orders ALTER COLUMN region SET NOT NULL;
```

Between the ALTER and the UPDATE we deploy the code that writes the new column."""

PROSE_PATTERN = (
    "I wouldn't add it as required in one go. First add the column as nullable, then deploy code that writes "
    "it for new rows, then backfill existing rows in batches of ten thousand, then add a check constraint "
    "marked NOT VALID and validate the constraint separately, with a short lock_timeout on every DDL step."
)
VAGUE = "We'd be careful with that change, test it in staging and run it at night when traffic is low."
BARE_NOT_NULL = "We simply ran `ALTER TABLE orders ADD COLUMN region text NOT NULL;` during the day."


@pytest.fixture
def no_squawk(monkeypatch):
    monkeypatch.setattr(S, "SQUAWK_BIN", "/nonexistent/bin/squawk")


def _assert_verbatim(analysis: S.SqlAnalysis, text: str) -> None:
    for span in analysis.evidence:
        assert span in text
    for stmt in analysis.statements:
        assert stmt in text
    for value in analysis.steps.values():
        assert value is None or value in text


# --- extraction -------------------------------------------------------------------------------------------
def test_extracts_statements_from_sql_fence():
    """Every statement in a ```sql fence comes back verbatim, comments left out, in order."""
    stmts = S.extract_sql(FULL_PATTERN)
    assert stmts[0] == "SET lock_timeout = '2s';"
    assert stmts[1] == "ALTER TABLE orders ADD COLUMN region text;"
    assert stmts[-1] == "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;"
    assert len(stmts) == 6
    assert not any(s.startswith("--") for s in stmts)


def test_unlabelled_fence_is_sql_only_when_it_looks_like_sql():
    """An untagged fence holding SQL is read; one holding a stack trace or Python is not."""
    sql_fence = "```\nALTER TABLE orders ADD COLUMN region text;\n```"
    other = "```\nTraceback (most recent call last):\n  File 'app.py', line 3\n```\n```python\nx = 1\n```"
    assert S.extract_sql(sql_fence) == ["ALTER TABLE orders ADD COLUMN region text;"]
    assert S.extract_sql(other) == []


def test_statements_without_semicolons_split_at_the_next_statement():
    """A fence that forgets semicolons still yields one statement per command, multi-line UPDATE intact."""
    text = ("```sql\nALTER TABLE orders ADD COLUMN region text\n"
            "UPDATE orders\nSET region = 'eu'\nWHERE id < 1000\n```")
    assert S.extract_sql(text) == ["ALTER TABLE orders ADD COLUMN region text",
                                   "UPDATE orders\nSET region = 'eu'\nWHERE id < 1000"]


def test_inline_code_and_bare_prose_statements_are_extracted():
    """Inline backtick SQL and an uppercase statement written in a sentence are both found."""
    text = ("We ran `SET lock_timeout = '2s'` first. Then ALTER TABLE orders ADD COLUMN region text; and "
            "after that UPDATE orders SET region = 'eu' WHERE id < 5000.")
    assert S.extract_sql(text) == [
        "SET lock_timeout = '2s'",
        "ALTER TABLE orders ADD COLUMN region text;",
        "UPDATE orders SET region = 'eu' WHERE id < 5000",
    ]


def test_ordinary_prose_is_not_sql():
    """Sentences using SQL words in their everyday sense produce no statements."""
    text = ("We had to update the table of contents, set expectations with support, drop the table tennis "
            "session and create an index card for each on-call engineer; then alter the plan.")
    assert S.extract_sql(text) == []
    assert S.analyse_sql(text).has_sql is False


def test_lowercase_statement_in_prose_needs_a_semicolon():
    """In a sentence, lowercase SQL counts only when it is terminated like SQL."""
    assert S.extract_sql("I ran alter table orders add column region text; and waited.") == [
        "alter table orders add column region text;"]
    assert S.extract_sql("I'd alter table orders add column region as a nullable field") == []


# --- linting ------------------------------------------------------------------------------------------------
def test_lint_sql_returns_squawk_violations():
    """squawk's JSON rule names come back for a required field added without a default."""
    violations, ok = S.lint_sql("ALTER TABLE t ADD COLUMN c int NOT NULL;")
    assert ok is True
    assert "adding-required-field" in {v["rule_name"] for v in violations}


def test_lint_sql_reports_missing_binary(no_squawk):
    """A missing squawk binary is reported as not run, without raising."""
    assert S.lint_sql("ALTER TABLE t ADD COLUMN c int NOT NULL;") == ([], False)


# --- unsafe -------------------------------------------------------------------------------------------------
def test_required_field_without_default_is_unsafe():
    """A bare ADD COLUMN ... NOT NULL with no default is the failure: unsafe, low score, statement quoted."""
    a = S.analyse_sql(BARE_NOT_NULL)
    assert a.linted and a.unsafe
    assert a.score <= 0.2
    failure = next(f for f in a.findings if f.severity == "failure")
    assert failure.rule == "adding-required-field"
    assert failure.statement == "ALTER TABLE orders ADD COLUMN region text NOT NULL;"
    assert "nullable" in a.hint
    assert failure.statement in a.evidence
    _assert_verbatim(a, BARE_NOT_NULL)


def test_drop_table_is_unsafe():
    """DROP TABLE of live data is a failure."""
    text = "Honestly I'd just run DROP TABLE orders; and recreate it with the new column."
    a = S.analyse_sql(text)
    assert a.unsafe
    assert a.score <= 0.2
    assert any(f.rule == "ban-drop-table" and f.severity == "failure" for f in a.findings)


def test_set_not_null_without_check_is_advice_not_failure():
    """Backfilling and then SET NOT NULL directly is partly right: advice about the scan, not unsafe."""
    text = ("```sql\nALTER TABLE orders ADD COLUMN region text;\n"
            "UPDATE orders SET region = 'eu' WHERE id < 10000;"
            "\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;\n```")
    a = S.analyse_sql(text)
    assert not a.unsafe
    assert any(f.rule == "adding-not-nullable-field" and f.severity == "advice" for f in a.findings)
    assert 0.3 < a.score < 0.9


def test_enforcing_not_null_without_backfill_is_a_failure():
    """Adding a nullable column and enforcing NOT NULL straight away fails on existing rows."""
    text = ("```sql\nALTER TABLE orders ADD COLUMN region text;\n"
            "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;\n```")
    a = S.analyse_sql(text)
    assert a.unsafe
    assert any(f.rule == "missing-backfill" for f in a.findings)


def test_dropping_old_column_after_expand_and_backfill_is_the_contract_step():
    """DROP COLUMN after an expand and a backfill is advice, not a failure."""
    text = ("```sql\nALTER TABLE orders ADD COLUMN region_code text;\n"
            "UPDATE orders SET region_code = region WHERE id BETWEEN 1 AND 5000;\n"
            "ALTER TABLE orders DROP COLUMN region;\n```")
    a = S.analyse_sql(text)
    drop = next(f for f in a.findings if f.rule == "ban-drop-column")
    assert drop.severity == "advice"


# --- the safe shape -----------------------------------------------------------------------------------------
def test_full_safe_pattern_scores_high():
    """Real SQL with expand, batched backfill, CHECK NOT VALID, VALIDATE and a lock_timeout scores >= 0.9."""
    a = S.analyse_sql(FULL_PATTERN)
    assert a.linted and a.has_sql and not a.unsafe
    assert a.syntax_errors == ()
    assert a.score >= 0.9
    assert all(a.steps[k] for k in S.STEP_KEYS)
    assert a.steps["check_not_valid"].startswith("ALTER TABLE orders ADD CONSTRAINT")
    assert a.prose_pattern is False
    _assert_verbatim(a, FULL_PATTERN)


def test_prose_pattern_scores_between_vague_and_sql():
    """Describing the full pattern in words scores about 0.55-0.7: above vague, below real SQL."""
    prose = S.analyse_sql(PROSE_PATTERN)
    vague = S.analyse_sql(VAGUE)
    full = S.analyse_sql(FULL_PATTERN)
    assert prose.prose_pattern and not prose.has_sql
    assert 0.55 <= prose.score <= 0.7
    assert vague.score <= 0.25
    assert vague.score < prose.score < full.score
    assert "ALTER TABLE" in prose.hint  # the next step is to write it as SQL
    _assert_verbatim(prose, PROSE_PATTERN)


def test_partial_sql_scores_in_between():
    """SQL with only the expand and an unbatched backfill lands between the failure and the full pattern."""
    text = "```sql\nALTER TABLE orders ADD COLUMN region text;\nUPDATE orders SET region = 'eu';\n```"
    a = S.analyse_sql(text)
    assert not a.unsafe
    assert 0.2 < a.score < 0.9
    assert any(f.rule == "unbatched-backfill" for f in a.findings)
    assert a.steps["batched"] is None


def test_constant_default_not_null_is_safe_but_not_the_full_pattern():
    """NOT NULL with a constant default is not unsafe on PG11+, and scores below the full pattern."""
    a = S.analyse_sql("ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';")
    assert not a.unsafe
    assert 0.3 < a.score < S.analyse_sql(FULL_PATTERN).score


def test_mentions_schema_change():
    """The cheap schema-change signal fires for migrations and column changes, not for unrelated stories."""
    assert S.mentions_schema_change("The migration added a new column to orders.")
    assert S.mentions_schema_change("we ran ALTER TABLE in prod")
    assert not S.mentions_schema_change("The cache node ran out of memory and we restarted it.")
    assert not S.mentions_schema_change("")


# --- broken SQL and degraded mode ---------------------------------------------------------------------------
def test_syntax_error_gives_a_line_and_a_hint():
    """A misspelt keyword is reported with its line, the statement, and the likely fix, without raising."""
    text = ("```sql\nALTER TABLE orders ADD COLUMN region text;\n"
            "ALTER TABLE orders ADD COLUM region2 text;\n```")
    a = S.analyse_sql(text)
    assert len(a.syntax_errors) == 1
    err = a.syntax_errors[0]
    assert err.statement == "ALTER TABLE orders ADD COLUM region2 text;"
    assert err.message.startswith("Line 2 of your SQL doesn't parse")
    assert "COLUM" in err.message
    assert "COLUMN" in a.hint
    assert a.steps["expand"] == "ALTER TABLE orders ADD COLUMN region text;"


def test_only_broken_sql_scores_at_most_point_three():
    """When no statement parses, the score stays at or below 0.3."""
    a = S.analyse_sql("```sql\nALTER TABL orders ADD COLUMN region text;\n```")
    assert a.syntax_errors
    assert a.score <= 0.3


def test_syntax_error_elsewhere_still_catches_drop_table():
    """squawk stops at a parse error, so the remaining statements still go through the built-in checks."""
    a = S.analyse_sql("```sql\nALTER TABLE orders ADD COLUM x text;\nDROP TABLE legacy_orders;\n```")
    assert a.syntax_errors and a.unsafe
    assert any(f.rule == "ban-drop-table" for f in a.findings)


def test_missing_squawk_degrades_gracefully(no_squawk):
    """Without squawk, analysis still finds the required field, scores the shape and says linting was off."""
    bare = S.analyse_sql(BARE_NOT_NULL)
    assert bare.linted is False
    assert bare.unsafe and bare.score <= 0.2
    assert any("unavailable" in n for n in bare.notes)
    full = S.analyse_sql(FULL_PATTERN)
    assert not full.unsafe and full.score >= 0.9


def test_missing_squawk_uses_sqlglot_and_keyword_checks_for_syntax(no_squawk):
    """Without squawk a misspelt keyword is still reported as a syntax error."""
    a = S.analyse_sql("```sql\nALTER TABLE orders ADD COLUM region text;\n```")
    assert a.syntax_errors
    assert "COLUMN" in a.syntax_errors[0].hint


def test_squawk_failure_is_not_a_crash(monkeypatch, tmp_path):
    """A squawk that exits with an unexpected status or prints garbage is treated as unavailable."""
    fake = tmp_path / "squawk"
    fake.write_text("#!/bin/sh\necho not-json\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(S, "SQUAWK_BIN", str(fake))
    a = S.analyse_sql(BARE_NOT_NULL)
    assert a.linted is False and a.unsafe


def test_answers_without_sql_never_run_squawk(monkeypatch):
    """No SQL in the answer means no subprocess at all."""
    def boom(*_a, **_k):
        raise AssertionError("squawk ran")
    monkeypatch.setattr(S.subprocess, "run", boom)
    a = S.analyse_sql(PROSE_PATTERN)
    assert a.has_sql is False and a.linted is False


@pytest.mark.parametrize("text", [
    "", "```", "```sql", "```sql\n", "``````", "`", "```sql\n'unterminated ; string\n", "$$",
    "```sql\nDO $$ BEGIN",
    "🙂" * 5000, "ALTER TABLE " * 3000, "x" * 40_000, "\x00\ud7ff\ufffe", "/* never closed",
    "UPDATE a SET b = (((((", "```sql\n;;;;\n```", "ALTER TABLE \"t\" ADD COLUMN \"c\" text;",
])
def test_edge_inputs_never_crash(text):
    """Degenerate inputs give a well-formed analysis with a score in [0, 1]."""
    a = S.analyse_sql(text)
    assert 0.0 <= a.score <= 1.0
    assert isinstance(a.hint, str) and a.hint
    _assert_verbatim(a, text)


_sqlish = st.sampled_from([
    "ALTER TABLE orders ADD COLUMN region text", "NOT NULL", ";", "\n", "```sql\n", "```", "`", " ",
    "UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 10", "DROP TABLE x", "SET lock_timeout = '1s'",
    "CHECK (region IS NOT NULL) NOT VALID", "VALIDATE CONSTRAINT c", "backfill in batches", "nullable",
    "$$", "'", '"', "(", ")", "--", "/*", "é", "🙂",
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=40_000), st.lists(_sqlish, max_size=200).map("".join)))
def test_any_text_never_raises(text):
    """Any text up to 40,000 characters: no exception, score in [0, 1], evidence quoted verbatim."""
    a = S.analyse_sql(text)
    assert 0.0 <= a.score <= 1.0
    assert isinstance(S.mentions_schema_change(text), bool)
    _assert_verbatim(a, text)


def test_do_block_loop_is_one_statement_and_counts_as_batched_backfill():
    """A DO $$ ... $$ loop stays one statement despite inner semicolons, and is a batched backfill."""
    text = ("```sql\nSET lock_timeout = '1s';\nALTER TABLE orders ADD COLUMN region text;\n"
            "DO $$\nBEGIN\n  LOOP\n    UPDATE orders SET region = 'eu'\n"
            "    WHERE id IN (SELECT id FROM orders WHERE region IS NULL LIMIT 5000);\n"
            "    EXIT WHEN NOT FOUND;\n  END LOOP;\nEND $$;\n"
            "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT region_nn;\n```")
    a = S.analyse_sql(text)
    assert len(a.statements) == 5
    assert a.statements[2].startswith("DO $$") and a.statements[2].endswith("END $$;")
    assert a.steps["backfill"] == a.steps["batched"] == a.statements[2]
    assert not a.unsafe and a.score >= 0.9


# --- a backfill described beside the SQL --------------------------------------------------------------------
COMMENTED_BACKFILL = """Here's how I'd add `tier` to accounts without locking it:

```sql
SET lock_timeout = '1500ms';
ALTER TABLE accounts ADD COLUMN tier text;
-- app release 41 writes tier on signup; then a worker backfills old accounts, 2k ids per batch
ALTER TABLE accounts ADD CONSTRAINT accounts_tier_present CHECK (tier IS NOT NULL) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_tier_present;
```"""

BLOCK_COMMENT_BACKFILL = """```postgresql
set lock_timeout to '2s';
alter table tickets add column priority smallint;
/* backfill: populate existing rows from the legacy severity field, 10k rows at a time */
alter table tickets alter column priority set not null;
```"""

PROSE_BACKFILL_AFTER_FENCE = """```sql
SET lock_timeout = '3s';
ALTER TABLE payouts ADD COLUMN iban_hash text;
ALTER TABLE payouts ADD CONSTRAINT payouts_iban_hash_nn CHECK (iban_hash IS NOT NULL) NOT VALID;
ALTER TABLE payouts VALIDATE CONSTRAINT payouts_iban_hash_nn;
```
Between the ADD COLUMN and the constraint, a job backfills the old payouts in chunks of 20,000 ids."""


@pytest.mark.parametrize("text", [COMMENTED_BACKFILL, BLOCK_COMMENT_BACKFILL, PROSE_BACKFILL_AFTER_FENCE])
def test_described_backfill_is_never_missing_backfill(text):
    """A backfill written as a -- or /* */ comment, or as a sentence beside the fence, is no failure."""
    a = S.analyse_sql(text)
    assert not a.unsafe
    assert not any(f.rule == "missing-backfill" for f in a.findings)
    assert a.steps["backfill"] is not None
    assert "backfill" in a.steps["backfill"]
    _assert_verbatim(a, text)


def test_commented_backfill_is_quoted_without_comment_markers():
    """The comment is the backfill's evidence, quoted verbatim without the leading --."""
    a = S.analyse_sql(COMMENTED_BACKFILL)
    assert a.steps["backfill"] == "then a worker backfills old accounts"
    assert a.steps["backfill"] in a.evidence
    assert a.steps["batched"] is not None and a.steps["batched"] in COMMENTED_BACKFILL


def test_described_backfill_scores_below_real_update_but_as_a_strong_answer():
    """A described backfill earns part of the step: strong (>= 0.8), yet below the same SQL with an UPDATE."""
    described = S.analyse_sql(COMMENTED_BACKFILL)
    written = S.analyse_sql(COMMENTED_BACKFILL.replace(
        "-- app release 41 writes tier on signup; then a worker backfills old accounts, 2k ids per batch",
        "UPDATE accounts SET tier = 'free' WHERE id BETWEEN 1 AND 2000 AND tier IS NULL;"))
    assert written.steps["backfill"].startswith("UPDATE accounts")
    assert 0.8 <= described.score < written.score


def test_comment_backfill_counts_without_squawk(no_squawk):
    """The built-in checks credit a commented backfill the same way squawk's path does."""
    a = S.analyse_sql(COMMENTED_BACKFILL)
    assert not a.linted
    assert not a.unsafe
    assert not any(f.rule == "missing-backfill" for f in a.findings)


def test_sql_written_inside_a_comment_is_not_a_statement():
    """A statement quoted in a comment is read as words, never linted as SQL."""
    text = ("```sql\nALTER TABLE accounts ADD COLUMN tier text;\n"
            "-- later: ALTER TABLE accounts DROP COLUMN plan_name once nothing reads it\n```")
    assert S.extract_sql(text) == ["ALTER TABLE accounts ADD COLUMN tier text;"]
    assert not S.analyse_sql(text).unsafe


@pytest.mark.parametrize("words", [
    "-- no backfill needed, the table is tiny",
    "-- we skip the backfill here",
    "-- without a backfill: rows fill themselves as users log in",
])
def test_negated_backfill_is_still_missing(words):
    """Saying there is no backfill is not one: enforcing NOT NULL stays the missing-backfill failure."""
    text = (f"```sql\nALTER TABLE accounts ADD COLUMN tier text;\n{words}\n"
            "ALTER TABLE accounts ALTER COLUMN tier SET NOT NULL;\n```")
    a = S.analyse_sql(text)
    assert a.unsafe
    assert any(f.rule == "missing-backfill" and f.severity == "failure" for f in a.findings)
    assert a.steps["backfill"] is None


def test_missing_backfill_needs_not_null_on_the_new_column():
    """SET NOT NULL on a column other than the one just added is not a missing backfill of the new column."""
    text = ("```sql\nSET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN nickname text;\n"
            "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n```")
    a = S.analyse_sql(text)
    assert not any(f.rule == "missing-backfill" for f in a.findings)


def test_validating_a_check_on_the_new_column_without_any_backfill_fails():
    """CHECK NOT VALID then VALIDATE on a new column with no backfill anywhere is the failure."""
    text = ("```sql\nSET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN tier text;\n"
            "ALTER TABLE accounts ADD CONSTRAINT tier_nn CHECK (tier IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE accounts VALIDATE CONSTRAINT tier_nn;\n```")
    a = S.analyse_sql(text)
    assert a.unsafe
    failure = next(f for f in a.findings if f.severity == "failure")
    assert failure.rule == "missing-backfill"
    assert failure.statement == "ALTER TABLE accounts VALIDATE CONSTRAINT tier_nn;"


def test_negated_lock_timeout_is_not_a_lock_timeout():
    """"No lock timeout" in the words does not earn the lock_timeout step."""
    a = S.analyse_sql("We ran `ALTER TABLE accounts ADD COLUMN tier text DEFAULT 'free';` with no lock "
                      "timeout.")
    assert a.steps["lock_timeout"] is None


# --- the contract phase -------------------------------------------------------------------------------------
CONTRACT_ANSWER = """The incident was a rename of `shipments.carrier` done in place. Done safely it's
expand and contract over several deploys:

```sql
SET lock_timeout = '2s';
ALTER TABLE shipments ADD COLUMN carrier_code text;
```
Deploy 1 writes both columns. Then the backfill, one range at a time:
```sql
UPDATE shipments SET carrier_code = carrier
WHERE id >= 1 AND id < 20001 AND carrier_code IS NULL;
ALTER TABLE shipments ADD CONSTRAINT shipments_carrier_code_nn CHECK (carrier_code IS NOT NULL) NOT VALID;
ALTER TABLE shipments VALIDATE CONSTRAINT shipments_carrier_code_nn;
```
Deploy 2 reads carrier_code only. A week later, once no query touches the old column, the contract phase:
```sql
SET lock_timeout = '2s';
ALTER TABLE shipments DROP COLUMN carrier;
```"""


def test_contract_phase_drop_scores_like_the_full_pattern():
    """Expand, backfill, validate and then DROP COLUMN of the old column scores >= 0.85, not unsafe."""
    a = S.analyse_sql(CONTRACT_ANSWER)
    assert not a.unsafe
    drop = next(f for f in a.findings if f.rule == "ban-drop-column")
    assert drop.severity == "advice"
    assert drop.statement == "ALTER TABLE shipments DROP COLUMN carrier;"
    assert a.score >= 0.85
    _assert_verbatim(a, CONTRACT_ANSWER)


def test_contract_phase_drop_costs_nothing():
    """The same answer with and without its contract-phase drop scores the same."""
    without = CONTRACT_ANSWER.rsplit("```sql", 1)[0]
    assert S.analyse_sql(CONTRACT_ANSWER).score == S.analyse_sql(without).score


def test_contract_phase_drop_without_squawk(no_squawk):
    """The built-in drop-column check reaches the same verdict on the contract phase."""
    a = S.analyse_sql(CONTRACT_ANSWER)
    assert not a.linted and not a.unsafe
    assert a.score >= 0.85


def test_contract_drop_after_a_described_backfill_is_the_contract_step():
    """A backfill described in words also makes the later drop of the old column the contract step."""
    text = ("```sql\nSET lock_timeout = '1s';\nALTER TABLE invoices ADD COLUMN total_cents bigint;\n"
            "-- backfill total_cents from total in batches of 5,000 ids, then switch reads\n"
            "ALTER TABLE invoices DROP COLUMN total;\n```")
    a = S.analyse_sql(text)
    assert not a.unsafe
    assert next(f for f in a.findings if f.rule == "ban-drop-column").severity == "advice"


def test_column_replacement_ending_in_a_contract_drop_is_a_complete_pattern():
    """Add, batched backfill and a contract drop, with no NOT NULL of its own, beat the partial SQL."""
    text = ("```sql\nSET lock_timeout = '2s';\nALTER TABLE invoices ADD COLUMN total_cents bigint;\n"
            "UPDATE invoices SET total_cents = round(total * 100) WHERE id BETWEEN 1 AND 5000;\n"
            "ALTER TABLE invoices DROP COLUMN total;\n```")
    partial = S.analyse_sql(text.replace("ALTER TABLE invoices DROP COLUMN total;\n", ""))
    a = S.analyse_sql(text)
    assert not a.unsafe
    assert a.score > partial.score
    assert a.score >= 0.7


@pytest.mark.parametrize("sql", [
    # nothing was expanded before the drop
    "SET lock_timeout = '2s';\nALTER TABLE shipments DROP COLUMN carrier;\n"
    "ALTER TABLE shipments ADD COLUMN carrier_code text;\n"
    "UPDATE shipments SET carrier_code = 'x' WHERE id BETWEEN 1 AND 5000;",
    # dropping the column that was just added
    "SET lock_timeout = '2s';\nALTER TABLE shipments ADD COLUMN carrier_code text;\n"
    "UPDATE shipments SET carrier_code = carrier WHERE id BETWEEN 1 AND 5000;\n"
    "ALTER TABLE shipments DROP COLUMN carrier_code;",
    # the expand happened on another table
    "SET lock_timeout = '2s';\nALTER TABLE shipments ADD COLUMN carrier_code text;\n"
    "UPDATE shipments SET carrier_code = 'x' WHERE id BETWEEN 1 AND 5000;\n"
    "ALTER TABLE parcels DROP COLUMN carrier;",
    # no backfill anywhere: the new column is empty, so code cannot have switched to it
    "SET lock_timeout = '2s';\nALTER TABLE shipments ADD COLUMN carrier_code text;\n"
    "ALTER TABLE shipments DROP COLUMN carrier;",
    # expand and drop in the same statement
    "SET lock_timeout = '2s';\n"
    "ALTER TABLE shipments ADD COLUMN carrier_code text, DROP COLUMN carrier;\n"
    "UPDATE shipments SET carrier_code = 'x' WHERE id BETWEEN 1 AND 5000;",
])
def test_dropping_a_column_still_in_use_stays_a_failure(sql):
    """A DROP COLUMN that is not a separate contract step after expand and backfill is unsafe."""
    text = f"```sql\n{sql}\n```"
    a = S.analyse_sql(text)
    assert a.unsafe
    assert a.score <= 0.2
    assert any(f.rule == "ban-drop-column" and f.severity == "failure" for f in a.findings)
    _assert_verbatim(a, text)
