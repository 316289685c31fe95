"""The grader reads what sentences do: the failures found on answers written outside the project.

Each test is one behaviour the grader issue lists (correct SQL is not gaming, keyword lists lose,
plain blame is caught, push-back is not blame, context, hints, round fit, follow-ups, squawk rules,
ORM migrations, calibration). The texts are written here; none comes from a labelled set.
"""

from __future__ import annotations

import pytest

from bot.interview.grading import grade
from bot.rubric import merge_followup

SEED_SQL = (
    "First add the column with a constant default, which is a catalogue-only change: ALTER TABLE orders "
    "ADD COLUMN region text DEFAULT 'unknown'; Then deploy the code that writes region for new orders. "
    "Backfill existing rows with UPDATE orders SET region = 'eu' WHERE region = 'unknown'; and once that "
    "finishes, ALTER TABLE orders ALTER COLUMN region SET NOT NULL; I'd set lock_timeout before each DDL."
)
CHECK_NOT_VALID = """```sql
SET lock_timeout = '2s';
ALTER TABLE invoices ADD CONSTRAINT invoices_currency_nn CHECK (currency IS NOT NULL) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_currency_nn;
ALTER TABLE invoices ALTER COLUMN currency SET NOT NULL;
```
The constraint goes in as NOT VALID, which is instant; VALIDATE scans without blocking writes, and after
that SET NOT NULL can skip its own scan."""
HONEST_MEDIUM = (
    "Our search API started timing out one afternoon and I was the one on call. Support pinged us first "
    "because a few big customers complained. I looked at the dashboards and saw the database CPU at 100%, "
    "so I thought it was a bad query. It turned out a deploy that morning removed an index. We rolled the "
    "deploy back and things got better after about twenty minutes. Later we added the index back properly."
)
STUFFED = (
    "At T+0 PagerDuty SLO alert fired, 18% error rate, SEV-2 declared, IC assigned, status page updated, "
    "rollback at T+5, root cause at T+30, blameless postmortem, canary step, linter in CI, owners and dates "
    "for each action item, MTTR down 40%."
)
TERSE = (
    "Incident: checkout 502s after a Friday deploy. Detection: Datadog 5xx monitor paged me at 16:02 "
    "(error rate 14%). Impact: about 2,300 failed payments over 25 min. Mitigation: I rolled back the "
    "release at 16:11; errors gone by 16:14. Cause: the new nginx config dropped upstream keepalive. "
    "Follow-up: config test in CI, owned by me, shipped the next week."
)


def test_a_safe_migration_with_a_constant_default_reaches_hire_and_is_not_gaming():
    """Constant default, backfill, then SET NOT NULL with a lock timeout: Hire at mid, no flag."""
    g = grade(SEED_SQL, "sql", "mid")
    assert g.flags == []
    assert g.verdict in ("Hire", "Strong Hire")


def test_check_not_valid_then_validate_is_not_gaming():
    """Correct NOT VALID + VALIDATE CONSTRAINT SQL is code, never keyword stuffing."""
    g = grade(CHECK_NOT_VALID, "sql")
    assert "gaming" not in g.flags and "unsafe_sql" not in g.flags


def test_keyword_stuffing_scores_below_an_honest_medium_and_says_why():
    """A list of rubric terms with no story is gaming, below an honest medium answer, with reasons."""
    stuffed = grade(STUFFED, "opening")
    assert "gaming" in stuffed.flags
    assert stuffed.score < grade(HONEST_MEDIUM, "opening").score
    detail = next(f for f in stuffed.flag_details if f.name == "gaming")
    assert "(" in detail.message  # the reasons are given


def test_a_terse_answer_full_of_specifics_is_not_gaming():
    """Labelled incident notes with systems, times and numbers are a story, not stuffing."""
    g = grade(TERSE, "opening")
    assert "gaming" not in g.flags and "too_short" not in g.flags
    assert g.score > grade(HONEST_MEDIUM, "opening").score


@pytest.mark.parametrize(
    "text",
    [
        "Our checkout went down for forty minutes on Black Friday morning and about 9% of orders failed. "
        "I was incident commander. We rolled back the payment service at 10:12 and errors stopped. "
        "Honestly I agreed with the CTO: the developer should have known that change was risky, so I "
        "took him off the payments code for the rest of the quarter.",
        "Disk on the logging host filled up on Sunday and ingestion stopped for three hours; we lost "
        "about forty minutes of logs. The root cause was that Marta forgot to set up disk monitoring, "
        "and our action item was to tell her to be much more careful with new hosts from now on.",
    ],
)
def test_plain_blame_is_caught(text):
    """A named person as the cause, or a personnel remedy, is blame whatever the wording."""
    assert "blame" in grade(text, "probe").flags


@pytest.mark.parametrize(
    "text",
    [
        "I'd push back, respectfully. If we blame the developer and send a reminder, the next person makes "
        "the same mistake next month. The migration passed review and CI because nothing in our pipeline "
        "knows that a volatile default rewrites the table, so I'd add squawk to CI and a lock_timeout to "
        "every migration. For the CTO: a reminder protects nothing, a lint rule protects every deploy.",
        "The CTO said it was human error and the engineer should have known better. I disagreed: she did "
        "what the runbook said, and the runbook had no step to check the target cluster. We added a "
        "confirmation prompt that shows the cluster name and a CI check on the runbook itself.",
        "I pushed the bad config myself on a Friday afternoon, and nothing in our pipeline stopped me: "
        "there was no schema validation and no canary. We added both within two weeks.",
    ],
)
def test_push_back_and_owning_a_mistake_are_not_blame(text):
    """Blame reported to reject it, "human error" quoted to push back, and self-ownership are not blame."""
    assert "blame" not in grade(text, "curveball").flags


def test_sql_quoted_as_the_cause_is_not_unsafe_sql():
    """A failure chain that quotes the unsafe migration as the cause is not linted as a proposal."""
    text = (
        "The trigger was our migration: ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT "
        "gen_random_uuid(); which rewrote the table under an ACCESS EXCLUSIVE lock, so every checkout write "
        "queued behind it for eleven minutes. It got past review because nobody knew a volatile default "
        "forces a rewrite, and CI ran it against an empty table. The pipeline also ran migrations at peak "
        "with no lock_timeout, and alerting watched error rate, not lock waits."
    )
    assert "unsafe_sql" not in grade(text, "probe").flags


def test_a_lock_timeout_already_set_is_not_asked_for():
    """Hints never ask for what the answer already does: here a lock timeout and replication-lag watch."""
    text = """SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN region text;
UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 10000 AND region IS NULL;
I'd watch replication lag while the batches run, then add the NOT NULL check."""
    hint = grade(text, "sql").dimension("migration_safety").hint
    assert "lock_timeout" not in hint and "replication lag" not in hint


def test_push_back_present_is_not_asked_for():
    """A curveball answer that pushes back is not told to push back."""
    text = (
        "I'd push back, respectfully: the engineer ran the same migration we have all run a hundred times, "
        "and our pipeline let it hit the biggest table at peak with no lock timeout and no review of "
        "locking behaviour. I'd propose squawk in CI and a migration runner that sets a lock timeout."
    )
    hint = grade(text, "curveball").dimension("blameless").hint
    assert "Push back explicitly" not in hint


def test_four_numbers_are_not_asked_for_another_number():
    """Impact with four quantities is not told to add a number."""
    text = (
        "Checkout failed for 38 minutes; 12% of payment attempts errored, about 4,100 orders, roughly "
        "$90k in delayed revenue. The p99 alert fired at 09:14 and I was on call, so I rolled back at 09:31."
    )
    hint = grade(text, "opening").dimension("impact").hint
    assert "another number" not in hint


def test_hints_quote_only_words_the_person_wrote():
    """No hint puts a phrase in quotes that the answer does not contain."""
    import re

    text = "Things went wrong with the system for a while and there were some problems, which we fixed."
    for d in grade(text, "opening").dimensions:
        for quoted in re.findall(r"'([^']{4,})'", d.hint):
            assert quoted in text or not any(w in quoted for w in ("some issues", "some problems"))
    assert "some issues" not in " ".join(d.hint for d in grade(text, "opening").dimensions)


def test_rounds_are_graded_on_what_their_question_asks():
    """The SQL round grades migration safety only; the curveball never asks for an update cadence."""
    sql = grade(SEED_SQL, "sql")
    assert [d.key for d in sql.dimensions] == ["migration_safety"]
    curve = grade("I'd tell the CTO it was not human error but a missing check. " * 3, "curveball")
    assert all("cadence" not in d.hint for d in curve.dimensions)


def test_a_follow_up_reply_repairs_what_the_probe_asked():
    """After the blame probe, a reply naming the system gaps lifts blameless framing and the blame flag."""
    main = grade(
        "The outage lasted 30 minutes and hit 20% of logins. Dave's sloppy change took it down, as usual "
        "for him. I rolled it back at 11:05 and we added a test for the config afterwards.",
        "probe",
    )
    assert "blame" in main.flags
    reply = grade(
        "Leaving Dave out of it: the change reached production because we had no canary stage, so it went "
        "to every pod at once, and the connection-pool check only ran in staging, never on deploy.",
        "probe",
        followup=True,
    )
    merged = merge_followup(main, reply)
    assert "blame" not in merged.flags
    assert merged.dimension("blameless").score > main.dimension("blameless").score
    assert merged.summary.startswith("The follow-up repaired")


def test_a_follow_up_reply_is_not_too_short():
    """A short reply to a follow-up is graded for what it says, not flagged too short."""
    g = grade("Priya from the database team and Tom on support were paged with me.", "opening", followup=True)
    assert "too_short" not in g.flags and "off_topic" not in g.flags


def test_mitigation_in_other_words_earns_points():
    """"I made the call to roll back … rather than debug forward" is a mitigation."""
    text = (
        "A config push broke card authorisations for about 8% of customers at 14:05. I was on call, and at "
        "14:21 I made the call to roll back the config change rather than debug forward; authorisations "
        "recovered within four minutes."
    )
    dim = grade(text, "opening").dimension("mitigation_fix_prevention")
    assert dim.score > 0
    assert any("roll back" in e for e in dim.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "CREATE INDEX idx_events_account ON events (account_id); on the 200-million-row events table that "
        "takes writes all day; the build is quick enough.",
        "ALTER TABLE payments ADD CONSTRAINT payments_amount_positive CHECK (amount > 0); "
        "straight on the live payments table.",
        "ALTER TABLE payments ALTER COLUMN amount TYPE numeric(12,2); on the live table, it's one statement.",
    ],
)
def test_long_lock_ddl_is_unsafe_sql(text):
    """Non-concurrent indexes, constraints without NOT VALID and type changes lock a live table."""
    assert "unsafe_sql" in grade(text, "sql").flags


def test_set_not_null_after_a_backfill_gets_the_right_hint():
    """SET NOT NULL straight after a backfill costs points and is told to validate a CHECK first."""
    text = (
        "SET lock_timeout = '2s'; ALTER TABLE orders ADD COLUMN region text; then a batched "
        "UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 5000; and finally ALTER TABLE orders "
        "ALTER COLUMN region SET NOT NULL;"
    )
    dim = grade(text, "sql").dimension("migration_safety")
    assert dim.score < dim.max
    assert "NOT VALID" in dim.hint


RAILS_UNSAFE = """class AddRegionToOrders < ActiveRecord::Migration[7.1]
  def change
    add_column :orders, :region, :string, null: false
  end
end
We'd ship it with the release at night."""
RAILS_SAFE = """Three deploys. First:

class AddRegionToOrders < ActiveRecord::Migration[7.1]
  def change
    add_column :orders, :region, :string
  end
end

Then code that writes region for new orders, and a job that backfills with
Order.where(region: nil).in_batches(of: 5000) { |b| b.update_all(region: "eu") }.

class ValidateRegion < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!
  def change
    add_check_constraint :orders, "region IS NOT NULL", name: "orders_region_nn", validate: false
    validate_check_constraint :orders, name: "orders_region_nn"
  end
end
The migration runner sets lock_timeout to 2s for every migration."""
DJANGO_UNSAFE = """operations = [
    migrations.AddField(model_name="order", name="region", field=models.CharField(max_length=8)),
]
Django handles the rest when we run migrate in the deploy."""


def test_orm_migrations_are_read_for_the_same_patterns():
    """Rails and Django migrations are judged like the SQL they run, quoted in the person's own words."""
    unsafe = grade(RAILS_UNSAFE, "sql")
    assert "unsafe_sql" in unsafe.flags
    detail = next(f for f in unsafe.flag_details if f.name == "unsafe_sql")
    assert detail.sentence and detail.sentence in RAILS_UNSAFE
    assert "unsafe_sql" in grade(DJANGO_UNSAFE, "sql").flags
    safe = grade(RAILS_SAFE, "sql")
    assert not {"unsafe_sql", "gaming", "off_topic", "too_short"} & set(safe.flags)
    assert safe.verdict in ("Lean Hire", "Hire", "Strong Hire")


# ---- migrations written the way teams write them (the second round of answers written elsewhere)

ALEMBIC_MULTILINE_INDEX = '''We're on Alembic; the lookup by (warehouse_id, shipped_at) needed an index on
`parcels`.

```python
def upgrade():
    op.execute("SET lock_timeout = '3s'")
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_parcels_wh_shipped",
            "parcels",
            ["warehouse_id", "shipped_at"],
            postgresql_concurrently=True,
        )
```

Afterwards I check `indisvalid` for the new index; a failed build gets dropped concurrently and rerun.'''

DJANGO_RUNSQL = '''Three Django migrations for the required `tier` on `members`:

```python
migrations.AddField("member", "tier", models.CharField(max_length=20, null=True))

def fill(apps, schema_editor):
    Member = apps.get_model("club", "Member")
    while True:
        ids = list(Member.objects.filter(tier__isnull=True).values_list("pk", flat=True)[:2000])
        if not ids:
            break
        Member.objects.filter(pk__in=ids).update(tier="basic")

migrations.RunSQL("SET lock_timeout = '2s'")
migrations.RunSQL(
    "ALTER TABLE members ADD CONSTRAINT members_tier_nn "
    "CHECK (tier IS NOT NULL) NOT VALID"
)
migrations.RunSQL("ALTER TABLE members VALIDATE CONSTRAINT members_tier_nn")
migrations.RunSQL("ALTER TABLE members ALTER COLUMN tier SET NOT NULL")
```

The code that writes `tier` ships between the first and second migration.'''


def test_an_orm_index_built_concurrently_over_several_lines_is_safe():
    g = grade(ALEMBIC_MULTILINE_INDEX, "sql", "senior")
    assert "unsafe_sql" not in g.flags
    assert g.score >= 80, g.dimensions[0]
    # an index needs no backfill: the hint never asks for one
    assert "Backfill" not in (g.dimensions[0].hint or "")


def test_sql_an_orm_migration_passes_through_counts_as_its_steps():
    g = grade(DJANGO_RUNSQL, "sql", "senior")
    assert "unsafe_sql" not in g.flags and "gaming" not in g.flags
    assert g.score >= 80, g.dimensions[0]


@pytest.mark.parametrize("placeholder", [":lo AND :lo + 5000", "? AND ?", "%(lo)s AND %(hi)s"])
def test_batch_placeholders_are_not_syntax_errors(placeholder):
    text = (
        "```sql\nSET lock_timeout = '2s';\nALTER TABLE carts ADD COLUMN currency text;\n"
        f"UPDATE carts SET currency = 'EUR' WHERE id BETWEEN {placeholder} AND currency IS NULL;\n"
        "ALTER TABLE carts ADD CONSTRAINT carts_currency_nn CHECK (currency IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE carts VALIDATE CONSTRAINT carts_currency_nn;\n```\n"
        "The script loops over id ranges and sleeps between batches; code writing currency ships first."
    )
    g = grade(text, "sql", "mid")
    assert "parse" not in (g.dimensions[0].hint or ""), g.dimensions[0].hint
    assert g.score >= 70


def test_a_command_named_in_passing_is_not_a_syntax_error():
    text = (
        "The ORM generated `CREATE UNIQUE INDEX` without CONCURRENTLY, so I rewrote it by hand:\n\n"
        "```sql\nSET lock_timeout = '2s';\n"
        "CREATE UNIQUE INDEX CONCURRENTLY coupons_code_uq ON coupons (code);\n```\n\n"
        "If the build fails I run `DROP INDEX CONCURRENTLY` and try again; then I check indisvalid."
    )
    g = grade(text, "sql", "mid")
    assert "parse" not in (g.dimensions[0].hint or ""), g.dimensions[0].hint
    assert "unsafe_sql" not in g.flags and g.score >= 80


def test_mysql_ddl_is_graded_on_its_steps_not_as_broken_postgresql():
    text = (
        "On MySQL 8 I'd add it instantly and backfill by primary key:\n\n```sql\n"
        "ALTER TABLE parcels ADD COLUMN zone VARCHAR(16) NULL, ALGORITHM=INSTANT;\n"
        "UPDATE parcels SET zone = 'north' WHERE id BETWEEN ? AND ? AND zone IS NULL;\n```\n\n"
        "Then gh-ost for the NOT NULL, throttled on replica lag, after checking no NULLs are left."
    )
    g = grade(text, "sql", "mid")
    assert "parse" not in (g.dimensions[0].hint or ""), g.dimensions[0].hint
    assert "unsafe_sql" not in g.flags


def test_changes_listed_with_owners_and_dates_count_as_prevention():
    text = (
        "What changed:\n"
        "- Every consumer group now alerts when lag passes 50k messages for five minutes (Ayo, week 1).\n"
        "- The partition reassignment script refuses to run without a throttle value (me, week 2).\n"
        "- Reassignments go through a change ticket with a rollback step (Lena, week 3).\n"
        "How we know: a drill in May caught an unthrottled reassignment in staging within 4 minutes, "
        "and consumer lag p99 has stayed under 2k since."
    )
    g = grade(text, "synthesis", "senior")
    prevention = next(d for d in g.dimensions if d.key == "prevention")
    assert prevention.score >= prevention.max * 0.7, prevention


def test_blame_keeps_an_otherwise_detailed_answer_below_lean_hire():
    """A full failure chain that ends by pinning it on a colleague is not a hire, however detailed."""
    text = (
        "The root cause was a retry loop in the invoice worker: when the tax service timed out after 5 s, "
        "the worker retried with no backoff, so 40 workers sent about 2,000 requests a second. The load "
        "test only covered the happy path, and the dashboard alerted on error rate, not on retry volume, "
        "so nothing paged us until the tax service's own limiter cut us off at 14:20. Honestly, Marco "
        "wrote that loop and he never thinks about failure modes; that is just how he works."
    )
    g = grade(text, "probe", "mid")
    assert "blame" in g.flags
    assert g.verdict in ("Lean No Hire", "No Hire"), (g.score, g.verdict)


def test_communication_round_is_graded_on_communication_not_on_a_timeline():
    """Running comms across support, the VP and the engineers is coordination across teams, and the
    round does not ask for the incident's timeline."""
    text = (
        "I took incident commander and named Ravi scribe. Everything went into #inc-payouts, with an "
        "update pinned every 20 minutes: what we knew, what we were trying, when the next update was. I "
        "told the VP those pinned updates were the feed and offered a direct call if anything changed "
        "for customers; she agreed. Support got a three-line macro for merchants whose payouts were "
        "late, and our status page said the same. The five fixes went into one list; we chose pausing "
        "the payout batch because it was reversible in a minute, and the rest waited for the review."
    )
    g = grade(text, "constraint", "senior")
    assert "timeline" not in {d.key for d in g.dimensions}
    comms = next(d for d in g.dimensions if d.key == "communication")
    assert "across teams" not in comms.hint, comms
    assert g.verdict in ("Hire", "Strong Hire"), (g.score, g.verdict)


def test_blame_heard_twice_without_blame_words_is_blame():
    text = (
        "Partner webhooks were rejected for 40 minutes after a firewall change at 09:15. "
        "Root cause: Marek applied the firewall change without reading the diff. "
        "How it got past safeguards: the change checklist says to read the diff first. "
        "Marek skipped that step. "
        "Action item: remind Marek to follow the checklist."
    )
    assert "blame" in grade(text, "probe", "mid").flags


def test_people_named_in_several_sentences_as_plain_fact_are_not_blame():
    text = (
        "The cache cluster ran out of memory at 02:10 and checkout failed for about 25 minutes. "
        "I paged Tomasz, who had changed the eviction policy that afternoon, and he confirmed the change. "
        "Tomasz rolled it back at 02:31 while Ines watched the hit rate recover. "
        "The review rule only asked for one approval on cluster settings and nothing tested eviction "
        "under load, so we added a load test on every cache setting change, owned by Ines."
    )
    assert "blame" not in grade(text, "probe", "mid").flags


def test_refusing_the_ctos_view_and_a_short_reply_are_not_blame():
    curveball = (
        "I will not agree with the CTO. The deploy tool let a config with a typo reach all regions at "
        "once, with no canary and no validation, so the next person would make the same slip. I would "
        "ask for a schema check in CI and a one-region canary, owned by the platform team this quarter."
    )
    assert "blame" not in grade(curveball, "curveball", "mid").flags
    comms = (
        "I was incident commander and kept one channel, #inc-4471, with updates every 20 minutes. The VP "
        "asked for updates every 5 minutes. I called him and explained that would take a responder off "
        "the fix. He agreed. Support got a two-line status note for customers, reviewed with their lead."
    )
    assert "blame" not in grade(comms, "constraint", "senior").flags


def test_a_drop_in_a_down_migration_is_the_rollback_not_unsafe_sql():
    text = (
        "Expand first, as golang-migrate files:\n```sql\n-- 000044_add_region.up.sql\n"
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN region text;\n\n"
        "-- 000044_add_region.down.sql\nALTER TABLE orders DROP COLUMN region;\n```\n"
        "Then the code that writes region ships, and a script backfills in 5k id batches: "
        "`UPDATE orders SET region = 'eu' WHERE id BETWEEN $1 AND $2 AND region IS NULL;`. Last, "
        "`ALTER TABLE orders ADD CONSTRAINT orders_region_nn CHECK (region IS NOT NULL) NOT VALID;` and "
        "`ALTER TABLE orders VALIDATE CONSTRAINT orders_region_nn;`."
    )
    g = grade(text, "sql", "senior")
    assert "unsafe_sql" not in g.flags, g.flag_details
    assert g.score >= 70


SEQUELIZE_UNSAFE = '''With Sequelize it is one migration:
```js
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('parcels', 'zone', {
      type: Sequelize.STRING,
      allowNull: false,
      defaultValue: 'none',
    });
    await queryInterface.changeColumn('parcels', 'weight', { type: Sequelize.DECIMAL(12, 3) });
  },
};
```
It runs during the deploy and Postgres handles the locking.'''

LIQUIBASE_CHECK = '''The change was a rule, not a column: amounts on `ledger_moves` must be positive. Two
Liquibase changesets, deployed separately:
```yaml
- changeSet:
    id: moves-amount-check
    runInTransaction: false
    changes:
      - sql:
          sql: |
            SET lock_timeout = '2s';
            ALTER TABLE ledger_moves ADD CONSTRAINT ledger_moves_amount_pos CHECK (amount > 0) NOT VALID;
- changeSet:
    id: moves-amount-validate
    changes:
      - sql:
          sql: ALTER TABLE ledger_moves VALIDATE CONSTRAINT ledger_moves_amount_pos;
```
Before validating we counted the violating rows on a replica (`SELECT count(*) FROM ledger_moves WHERE
amount <= 0`) and fixed them; rollback is dropping the constraint.'''

RAILS_MULTILINE_UNIQUE = '''Rails, 20M rows, a unique handle:
```ruby
class AddUniqueHandle < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!
  def up
    execute "SET lock_timeout = '5s'"
    add_index :members, :handle, unique: true,
              algorithm: :concurrently, name: "index_members_on_handle"
  end
end
```
If the build fails I check indisvalid, drop it concurrently and rerun.'''


def test_javascript_and_changelog_migrations_are_read_like_sql():
    assert "unsafe_sql" in grade(SEQUELIZE_UNSAFE, "sql", "mid").flags
    g = grade(LIQUIBASE_CHECK, "sql", "senior")
    assert "unsafe_sql" not in g.flags and g.score >= 80, g.dimensions[0]
    g = grade(RAILS_MULTILINE_UNIQUE, "sql", "senior")
    assert "unsafe_sql" not in g.flags and g.score >= 80, g.dimensions[0]


def test_owning_the_mistake_the_cto_points_at_is_not_blame():
    text = (
        "In my case the CTO would be right, because the engineer was me: I ran the cleanup script "
        "against production instead of staging. But the script had no environment check and my laptop "
        "had production credentials, so I'd ask for a confirmation prompt and read-only default "
        "credentials, owned by the platform team this sprint."
    )
    assert "blame" not in grade(text, "curveball", "mid").flags


def test_a_failure_chain_in_plain_words_is_on_topic():
    text = (
        "1. The billing worker's pod was evicted at 63% during a node upgrade and the scheduler reran the "
        "job. 2. The job does not check whether an invoice for the period already exists. 3. The unique "
        "constraint on (policy_id, period) had been dropped in 2021. 4. 48,000 customers were charged "
        "twice the next morning, and reconciliation only compares weekly totals, so nothing caught it."
    )
    assert "off_topic" not in grade(text, "probe", "mid").flags


def test_a_method_recited_instead_of_a_story_is_gaming():
    text = (
        "I always run a structured contributing-factors analysis.\n"
        "- People: awareness gaps and unclear ownership contributed.\n"
        "- Process: the review process did not catch the problem early enough.\n"
        "- Tooling: observability coverage was insufficient for this failure mode.\n"
        "- Environment: differences between environments masked the risk.\n"
        "We formed hypotheses and tested each one systematically until the root cause emerged, using the "
        "Swiss-cheese model and the 5 Whys, so the analysis was blameless, systemic and multi-causal. "
        "Every layer of defence in depth had a hole, which is why we addressed each layer with action "
        "items, owners and follow-ups, and the failure chain was fully understood."
    )
    g = grade(text, "probe", "senior")
    assert "gaming" in g.flags, (g.score, g.flags)
    assert grade(text, "probe", "senior").score < grade(HONEST_MEDIUM, "probe", "senior").score


def test_a_team_named_as_the_root_cause_is_blame():
    text = (
        "Checkout calls from one mobile carrier failed for three hours on a Tuesday. To be precise about "
        "it, the root cause was the Edge Routing team's decision to push a new TLS policy on a Friday "
        "evening without telling anyone, which is how that team always works. We rolled the policy "
        "back at 13:40 once we saw the handshake errors."
    )
    assert "blame" in grade(text, "probe", "mid").flags


def test_the_pattern_recited_as_a_list_is_not_a_described_migration():
    recited = (
        "My standard zero-downtime checklist for this: expand/contract, nullable column, batched backfill, "
        "CHECK NOT VALID, VALIDATE CONSTRAINT, SET NOT NULL, lock_timeout, deploy ordering, verification, "
        "rollback plan. Together these keep the change online and reversible, which is the best practice."
    )
    described = (
        "I'd add region as a nullable text column first, which only touches the catalogue. Then ship the "
        "code that writes it for new orders, and backfill old rows from a script in batches of 5,000 ids "
        "with a short pause, watching replication lag. Once no NULLs are left I'd add a CHECK (region IS "
        "NOT NULL) as NOT VALID and validate it separately, so no step holds a long lock, each under a "
        "two-second lock_timeout."
    )
    assert grade(recited, "sql", "mid").score < grade(described, "sql", "mid").score
    assert grade(recited, "sql", "mid").score <= 30


# ----- SQL round: ORM calls over several lines, other ORMs, changes that are not a new column

RAILS_CHECK_OVER_LINES = '''Rails, four migrations on `vehicles`:

```ruby
class AddFleetIdToVehicles < ActiveRecord::Migration[7.1]
  def change
    add_column :vehicles, :fleet_id, :bigint
  end
end

class CheckFleetId < ActiveRecord::Migration[7.1]
  def change
    add_check_constraint :vehicles, "fleet_id IS NOT NULL",
      name: "vehicles_fleet_id_nn", validate: false
  end
end

class ValidateFleetId < ActiveRecord::Migration[7.1]
  def up
    validate_check_constraint :vehicles, name: "vehicles_fleet_id_nn"
    change_column_null :vehicles, :fleet_id, false
  end
end
```
Between the first and second, a job fills fleet_id with in_batches(of: 5_000) and update_all, and
the app starts writing it on create. lock_timeout is 3s on the migration connection.'''


def test_a_rails_check_added_unvalidated_over_two_lines_is_safe():
    g = grade(RAILS_CHECK_OVER_LINES, "sql", level="mid")
    assert "unsafe_sql" not in g.flags
    assert g.score >= 70, g


ECTO_UNIQUE_INDEX = '''The duplicates came from two workers claiming one job, so the fix needed a
unique index on jobs.claim_token. Ecto:

```elixir
defmodule Dispatch.Repo.Migrations.UniqueClaimToken do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true

  def change do
    create unique_index(:jobs, [:claim_token], concurrently: true)
  end
end
```
First a batched cleanup of existing duplicates; afterwards check pg_index.indisvalid, because a failed
concurrent build leaves an invalid index you have to drop and rebuild.'''


def test_an_ecto_index_built_concurrently_is_graded_as_an_index_change():
    g = grade(ECTO_UNIQUE_INDEX, "sql", level="senior")
    assert "unsafe_sql" not in g.flags and "gaming" not in g.flags
    assert g.score >= 70, g
    unsafe = ECTO_UNIQUE_INDEX.replace("  @disable_ddl_transaction true\n", "").replace(
        ", concurrently: true", "")
    assert grade(unsafe, "sql", level="senior").score < g.score - 30


DJANGO_RUNSQL_WITH_REVERSE = '''Django, but with the SQL written out so nothing validates under a heavy lock:

class Migration(migrations.Migration):
    atomic = False
    operations = [
        migrations.RunSQL("SET lock_timeout = '3s'"),
        migrations.RunSQL(
            "ALTER TABLE shipments ADD CONSTRAINT shipments_depot_fk "
            "FOREIGN KEY (depot_id) REFERENCES depots (id) NOT VALID",
            "ALTER TABLE shipments DROP CONSTRAINT shipments_depot_fk"),
        migrations.RunSQL(
            "ALTER TABLE shipments VALIDATE CONSTRAINT shipments_depot_fk"),
    ]

Before it ran I counted orphaned depot_ids (7, fixed by hand); VALIDATE scans without blocking writes.'''


def test_sql_inside_runsql_strings_is_read_once_and_its_reverse_is_not_proposed():
    g = grade(DJANGO_RUNSQL_WITH_REVERSE, "sql", level="staff")
    mig = next(d for d in g.dimensions if d.key == "migration_safety")
    assert "parse" not in (mig.hint or ""), mig.hint
    assert "unsafe_sql" not in g.flags
    assert g.score >= 70, g
    assert all(e in DJANGO_RUNSQL_WITH_REVERSE for e in mig.evidence)
    assert not any(e.strip() == "migrations.RunSQL(" for e in mig.evidence)


def test_widening_a_varchar_is_not_a_table_rewrite():
    text = ("Customers' company names were being cut off, so we widened the column:\n"
            "SET lock_timeout = '2s';\n"
            "ALTER TABLE customers ALTER COLUMN company_name TYPE varchar(255);\n"
            "Going to a longer varchar is a catalog change, no rewrite; we ran it before the deploy and "
            "checked the catalog afterwards.")
    g = grade(text, "sql", level="mid")
    assert "unsafe_sql" not in g.flags
    assert g.score >= 60, g
    narrowing = text.replace("varchar(255)", "integer USING company_name::integer")
    assert "unsafe_sql" in grade(narrowing, "sql", level="mid").flags


def test_a_django_alterfield_that_only_changes_max_length_is_not_set_not_null():
    text = '''We raised the limit on a label field that was truncating input.

```python
class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("SET lock_timeout = '2s';", migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="parcel",
            name="label",
            field=models.CharField(max_length=200),
        ),
    ]
```
sqlmigrate shows only a TYPE varchar(200) change, which rewrites nothing; rollback is the reverse
migration.'''
    g = grade(text, "sql", level="mid")
    assert "unsafe_sql" not in g.flags
    mig = next(d for d in g.dimensions if d.key == "migration_safety")
    assert "ADD COLUMN region" not in (mig.hint or ""), mig.hint
    assert g.score >= 50, g


def test_a_table_rename_bridged_by_a_view_is_not_unsafe():
    text = ("The table had the wrong name for what it held, so: BEGIN; SET LOCAL lock_timeout = '2s'; "
            "ALTER TABLE drivers RENAME TO fleet_members; "
            "CREATE VIEW drivers AS SELECT * FROM fleet_members; "
            "COMMIT; Old pods keep reading and writing through the view until the new code is out; "
            "then we drop the view in a later release.")
    assert "unsafe_sql" not in grade(text, "sql", level="senior").flags
    bare = "ALTER TABLE drivers RENAME TO fleet_members; then deploy the code that uses the new name."
    assert "unsafe_sql" in grade(bare, "sql", level="senior").flags


def test_step_names_in_a_bulleted_list_are_gaming_in_the_sql_round():
    text = ("Safe migration checklist I always apply:\n- Expand and contract\n- Nullable column first\n"
            "- Backfill in batches\n- CHECK NOT VALID\n- VALIDATE CONSTRAINT\n- SET NOT NULL last\n"
            "- Index CONCURRENTLY\n- lock_timeout\n- Rollback plan\n"
            "Together these give zero downtime and a reversible, low-risk change on any busy table.")
    g = grade(text, "sql", level="mid")
    assert "gaming" in g.flags
    described = ("First I'd add region to orders as a nullable column so the ALTER is instant. Then a job "
                 "backfills old orders from the customer's country, 5,000 rows per batch with a short pause. "
                 "After that a CHECK (region IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT, which doesn't "
                 "block writes, and SET NOT NULL at the end.")
    d = grade(described, "sql", level="mid")
    assert "gaming" not in d.flags and d.score > g.score + 20


def test_one_cause_told_at_length_is_one_link_of_the_chain():
    one_link = ("Root cause was a stuck message in RabbitMQ. One invoice event carried a currency code our "
                "schema did not know, the consumer raised a validation error, nacked it with requeue, and "
                "picked the same message up again forever. The queue for the EU region stopped moving, so "
                "about 3,000 invoices were never sent and the backlog grew to 18k. We moved the message to a "
                "parking queue by hand, restarted the consumers and the backlog cleared in twenty minutes.")
    chain = ("Root cause was a stuck message in RabbitMQ: an invoice event with a currency code our schema "
             "did not know, nacked with requeue forever.\n"
             "It got past us because the producer had no schema validation, only the consumer did.\n"
             "Our contract tests used recorded events from last year that never had that currency.\n"
             "And the queue-depth alert was on the total across regions, which the EU queue alone kept below "
             "the threshold for forty minutes.\n"
             "We parked the message and restarted the consumers; then added a dead-letter queue.")
    short = next(d for d in grade(one_link, "probe").dimensions if d.key == "diagnosis")
    long = next(d for d in grade(chain, "probe").dimensions if d.key == "diagnosis")
    assert short.score < long.score
    assert short.score <= 0.6 * short.max, short


def test_a_guardrail_named_as_missing_is_a_cause_not_a_prevention():
    text = ("Root cause: the office firewall hit its session table limit of 200,000 on Monday at 9:00 when "
            "everyone came back from the holiday and connected at once. Why our safeguards missed it: we "
            "monitored that the firewall was up, not how full the session table was. Also the capacity plan "
            "was from 2021 and nobody was the owner responsible for updating it. We bought a bigger licence "
            "and rebooted the firewall that evening, and after that the incident was closed.")
    g = grade(text, "probe", level="mid")
    prev = next(d for d in g.dimensions if d.key == "prevention")
    assert prev.score == 0, prev


def test_a_frame_for_what_one_would_say_is_not_push_back():
    agrees = ("I would say to the CTO that yes, Pavel made the mistake, and he has been told to "
              "double-check configs from now on. Our pipeline also had no schema check. We can add one when "
              "there is time.")
    assert "blame" in grade(agrees, "curveball", level="mid").flags
    pushes = ("I'd tell the CTO that calling it human error ends the investigation too early. The developer "
              "changed a retry setting that no test covered and no review checklist mentioned, so the next "
              "person would make the same change. I'd propose a config schema check in CI and a canary step "
              "so a bad value reaches 5% of traffic, not all of it.")
    assert "blame" not in grade(pushes, "curveball", level="mid").flags


def test_times_tied_to_actions_told_in_the_present_count_for_the_timeline():
    text = ("Our parcel-tracking API, it serve the courier app and the shop widget. Tuesday morning the "
            "couriers in Lyon call dispatch: scans fail with timeouts. I am on-call, I check the gateway "
            "dashboard and p99 is 12 seconds from 08:40. I page Marc who own the database. First mitigation: "
            "switch the widget to cached status, then rollback of the new index job at 09:05. Impact: 4,100 "
            "failed scans in 25 minutes.")
    g = grade(text, "opening", level="mid")
    tl = next(d for d in g.dimensions if d.key == "timeline")
    assert tl.score >= 0.9 * tl.max, tl
    assert any("09:05" in e for e in tl.evidence) and any("Tuesday morning" in e for e in tl.evidence)


def test_no_prevention_is_flagged_where_the_question_asks_what_changed_not_in_the_opening():
    first_hour = ("Friday at 16:20 the checkout error rate went from 0.2% to 9% and PagerDuty paged me. I "
                  "was on call; I opened the deploy log and saw the payments service had shipped at 16:12. "
                  "I rolled it back at 16:31 and errors were back under 0.5% by 16:38. About 1,900 "
                  "checkouts failed in those eighteen minutes, and I posted updates in #incidents every "
                  "ten minutes.")
    assert "no_prevention" not in grade(first_hour, "opening", level="mid").flags
    chain_then_restart = ("The root cause was a payments release that changed the currency rounding for "
                          "yen, because the rounding table was loaded from a new config file. It got past "
                          "review because the diff was a one-line path change, and the tests only cover "
                          "euro and dollar. We rolled back the release, restarted the workers, and after "
                          "that everything was normal and the incident was closed.")
    assert "no_prevention" in grade(chain_then_restart, "probe", level="mid").flags


def test_a_restart_called_the_root_cause_fix_is_conflated():
    restart = ("The root cause was the image-resizing workers leaking file handles until they hit the "
               "ulimit, and then every upload failed with a 500. We noticed from the upload success rate "
               "dropping to 60%. We restarted all the workers and raised the ulimit from 1024 to 8192, so "
               "that was the root cause fixed, and uploads have been fine since.")
    assert "conflated_fix" in grade(restart, "probe", level="mid").flags
    fixed = ("The root cause was the image-resizing workers leaking file handles until they hit the ulimit: "
             "the new thumbnail library never closed the temp file when a resize failed. We restarted the "
             "workers to stop the 500s. The fix was a one-line change to close the file in a finally block, "
             "shipped the same day, so that was the root cause fixed. We also added an alert on open file "
             "handles per worker above 800.")
    assert "conflated_fix" not in grade(fixed, "probe", level="mid").flags


def test_the_speakers_own_team_is_not_a_blame_target():
    for opening in ("It was my first month as junior in the mobile backend team.",
                    "I had just joined the data platform team as a junior."):
        text = (opening + " On Monday at 10:05 the nightly export was late and the finance dashboards were "
                "empty. I paged Oksana, who was on call, and we found the new Airflow image at 10:30. She "
                "rolled it back at 10:41 and the export finished by 11:20.")
        assert "blame" not in grade(text, "opening", level="junior").flags, opening
    other = ("The data platform team pushed a broken Airflow image again, like they always do. On Monday at "
             "10:05 the nightly export was late and the finance dashboards were empty.")
    assert "blame" in grade(other, "opening", level="junior").flags


def test_a_method_recited_in_abstract_prose_is_gaming():
    text = ("Using a layered root cause analysis approach, I would separate the failure chain into "
            "contributing factors, because a mature organisation examines every layer.\n\n"
            "Trigger: a change was introduced which interacted with existing conditions in an unexpected "
            "way.\n\n"
            "Technical factors: insufficient validation; gaps in observability; safeguards that did not "
            "detect the anomaly early enough.\n\n"
            "Process factors: the review process was not rigorous enough and testing did not reflect "
            "reality.\n\n"
            "Human factors: not blame but systemic issues such as siloed knowledge and cognitive load.\n\n"
            "Detection factors: alerting thresholds were not tuned and signals were not actionable.\n\n"
            "Hypotheses tested: we formed several hypotheses and validated them against the evidence "
            "until the root cause was confirmed.\n\n"
            "Conclusion: the system failed, not the person, in line with blameless postmortem principles "
            "and a just culture.")
    g = grade(text, "probe", level="senior")
    assert "gaming" in g.flags and g.score <= 20, g
    gaming = next(f for f in g.flag_details if f.name == "gaming")
    assert "nothing named" in gaming.message, gaming


def test_a_fenced_code_block_is_one_unit_and_can_be_announced_as_the_cause():
    from bot.content import default_content
    from bot.rubric.config import rubric_from
    from bot.rubric.text import Doc

    text = ("The migration that locked us out on launch day was this:\n"
            "```\nALTER TABLE tickets ADD COLUMN seat_zone text NOT NULL DEFAULT 'GA';\n"
            "CREATE INDEX idx_tickets_zone ON tickets (seat_zone);\n```\n"
            "The ALTER queued behind a long report query and every insert queued behind it. "
            "What I'd run now, step by step:\n"
            "```sql\nSET lock_timeout = '3s';\nALTER TABLE tickets ADD COLUMN seat_zone text;\n"
            "UPDATE tickets SET seat_zone = 'GA' WHERE id BETWEEN 1 AND 50000 AND seat_zone IS NULL;\n"
            "ALTER TABLE tickets ADD CONSTRAINT tickets_zone_nn CHECK (seat_zone IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE tickets VALIDATE CONSTRAINT tickets_zone_nn;\n"
            "ALTER TABLE tickets ALTER COLUMN seat_zone SET NOT NULL;\n"
            "CREATE INDEX CONCURRENTLY idx_tickets_zone ON tickets (seat_zone);\n```\n"
            "The backfill repeats by id range until no row is NULL; I check pg_index.indisvalid after the "
            "index, and the app writes seat_zone before the constraint goes on.")
    doc = Doc(text, rubric_from(default_content().rubric))
    units = [doc.sentence(i) for i in range(len(doc.spans))]
    assert sum(u.lstrip().startswith("```") for u in units) == 2, units
    assert "unsafe_sql" not in grade(text, "sql", level="senior").flags
    chain = text.split("What I'd run now")[0]
    assert "unsafe_sql" not in grade(chain, "probe", level="senior").flags


def test_an_owner_line_is_not_blame():
    text = ("Three changes, each with an owner.\n"
            "1. An alert on the age of the oldest unprocessed refund, paging above 15 minutes.\n"
            "Owner: Tomasz on the payments team.\n"
            "2. The refund worker refuses batches larger than 500 rows.\n"
            "Owners: Aiko on billing plus our platform team.\n"
            "3. A weekly restore drill of the refunds table, owner: me.\n"
            "Since then the alert fired twice in March, both times before any customer noticed.")
    assert "blame" not in grade(text, "synthesis", level="senior").flags


def test_management_named_as_the_problem_is_blame():
    text = ("Honestly, the real problem during that outage was management, full stop. The VP wanted a call "
            "every five minutes and the director kept asking in the channel whether it was fixed yet. I "
            "muted the channel and worked on the fix with two people I trust, and told support to ask the "
            "product managers what to say. It would have taken half the time if leadership had trusted us.")
    assert "blame" in grade(text, "constraint", level="senior").flags
    process = ("The real problem was that we had never defined who runs an incident, so I proposed "
               "an incident commander rota and a fixed 15-minute update cadence for the VP. Support got a "
               "status-page template and one channel for questions.")
    assert "blame" not in grade(process, "constraint", level="senior").flags


def test_an_answer_against_naming_any_cause_is_blameless_to_a_fault_and_capped():
    text = ("To be honest I don't believe in root causes for something like this. Some customers saw "
            "failed card payments for a while one evening. Complex systems are always partly broken, and "
            "an outage is what you get when lots of normal things line up. Nobody made a mistake; every "
            "choice made sense to whoever made it. There wasn't a missing check so much as a system doing "
            "what complex systems do. In the review we avoided pinning it on any change, because the moment "
            "you name one people hear blame. We talked about how on-call felt and what surprised us.")
    g = grade(text, "probe", level="senior")
    assert "blameless_to_a_fault" in g.flags
    assert g.verdict in ("Lean No Hire", "No Hire"), g


def test_a_hero_story_is_capped():
    text = ("Honestly I handled the communication myself because nobody else could. At 14:05 the VP asked "
            "for updates every five minutes; I told him he would get one when I had news, and at 14:40 I "
            "posted a summary in #exec. Support wanted a statement, so I wrote the status page text "
            "myself at 14:20: 'Checkout is degraded, next update 15:00'. Five engineers were arguing "
            "about fixes, so I ignored them, rolled back the pricing deploy alone at 14:31 and error rates "
            "went from 12% to 0.3% by 14:36. I alone kept the whole thing together while everyone else "
            "just watched the dashboards.")
    g = grade(text, "constraint", level="mid")
    assert "hero" in g.flags and g.score <= 50, g


def test_a_terse_synthesis_of_tagged_changes_and_a_proof_line_is_strong():
    text = ("statement_timeout = 30s for the reporting role on the replica (me, week 1). Page when replica "
            "lag passes 60s for 5 minutes, routed to the data on-call (Ines, week 2). Quarterly failover "
            "drill with a runbook; the last one took 9 minutes. Proof: in May the lag page fired at 75s "
            "from a runaway export and we killed it before any dashboard went stale.")
    g = grade(text, "synthesis", level="senior")
    prev = next(d for d in g.dimensions if d.key == "prevention")
    meas = next(d for d in g.dimensions if d.key == "measurement")
    assert prev.score >= 0.5 * prev.max, prev
    assert meas.score >= 0.3 * meas.max, meas
    assert g.verdict in ("Lean Hire", "Hire", "Strong Hire"), g


def test_changes_each_followed_by_an_owner_line_count_as_prevention():
    text = ("1. Config pushes go out in waves: 2 canary edge nodes, then 5% of POPs, then all, 30 minutes "
            "between waves.\nOwner: edge lead.\n"
            "2. A wave halts itself if its 5xx rate exceeds the previous wave's by 1 point.\nOwner: SRE.\n"
            "3. Every node keeps the last good config; one command restores it.\n"
            "Evidence: the next bad push stopped at the canary nodes in 6 minutes, no customer traffic hit.")
    g = grade(text, "synthesis", level="staff")
    prev = next(d for d in g.dimensions if d.key == "prevention")
    assert prev.score >= 0.5 * prev.max, prev


def test_more_capacity_called_the_fix_for_the_root_cause_is_conflated():
    text = ("Root cause was disk on the Elasticsearch data nodes. We'd sized them at 500 GB three years ago "
            "and the indices grew until the flood-stage watermark made every index read-only, so writes "
            "failed. The chain was traffic growth, no capacity review and an alert that only emailed. The "
            "fix for the root cause was moving to 2 TB disks and adding three more nodes, so we have "
            "plenty of headroom now.")
    assert "conflated_fix" in grade(text, "probe", level="senior").flags
