"""The rubric grades like a seasoned interviewer: quoted evidence, hints, flags, levels and ordering."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from bot.interview.grading import grade, grade_many
from bot.rubric import FLAGS, verdict_for
from bot.rubric.config import builtin_rubric_data, validate_rubric_data

STRONG_OPENING = """Last March I was the on-call engineer for our checkout service when the p99 latency alert
fired at 14:02, before any customer had noticed. By 14:07 about 18% of checkout requests were failing
with timeouts, roughly 2,400 customers in the EU region, so I declared a SEV-2 and took incident commander.
My first hypothesis was a bad deploy, but the only deploy that day was a copy change, so I ruled it out.
Priya from the database team spotted a lock queue in pg_stat_activity behind a migration that added a
column. At 14:12 I paused the migration job and errors dropped back to normal within three minutes.
The fix was to rewrite the migration to add the column as nullable and backfill in batches.
To prevent a repeat we added a migration linter in CI, owned by Priya, shipped within two weeks."""

MEDIUM_OPENING = """We had an outage on the checkout service last year. Customers reported errors to
support and we started looking. We found a database migration was locking a table. We restarted some things
and after about 40 minutes it was back up. It was stressful but we got through it as a team and wrote a
postmortem afterwards."""

WEAK_OPENING = """There was an issue with the site once and some stuff was broken for a while. I helped out
where I could and eventually things went back to normal. It was a good learning experience for
everyone involved in the end."""

GAMING_OPENING = """T+0 detection. T+5 mitigation. T+30 root cause. T+1d postmortem. T+7d owners.
Impact: quantified. Detection: alert. Role: incident commander. Blameless, guardrails, canary, rollback,
runbook, SLO, error budget, hypotheses, mitigation, prevention, observability, ownership, blameless."""

CURVEBALL_STRONG = """I'd push back respectfully. Calling it "human error" stops the investigation exactly
where it should start: the engineer ran an ordinary command, and there was no lock timeout and no migration
linter to catch it. Those two gaps let a normal mistake reach production. I'd propose a migration
linter in CI and a default lock_timeout in our runner, owned by the platform team and shipped within
two sprints. A reminder email changes nothing; a guardrail protects every future deploy."""


def _content(weighs: dict[str, dict[str, int]]):
    return SimpleNamespace(
        rounds={r: SimpleNamespace(weighs=w) for r, w in weighs.items()}, rubric=builtin_rubric_data()
    )


def _substrings_hold(text: str, g) -> None:
    for d in g.dimensions:
        assert 0 <= d.score <= d.max
        for span in d.evidence:
            assert span in text
        if d.score:
            assert d.evidence, f"{d.key} awarded points without evidence"
        if d.score < d.max:
            assert d.hint, f"{d.key} is below full marks without a hint"


def test_strong_opening_scores_high_with_evidence():
    """A strong opening earns most points and every point is backed by a verbatim quote."""
    g = grade(STRONG_OPENING, "opening")
    _substrings_hold(STRONG_OPENING, g)
    assert g.score >= 70
    assert g.verdict in ("Strong Hire", "Hire")
    assert not {"blame", "gaming", "hero"} & set(g.flags)


def test_ordering_strong_medium_weak():
    """Strong answers score above medium answers, which score above weak ones."""
    s, m, w = (grade(t, "opening").score for t in (STRONG_OPENING, MEDIUM_OPENING, WEAK_OPENING))
    assert s > m > w


def test_gaming_below_honest_medium_and_told_why():
    """A keyword list is flagged as gaming, scores below an honest medium answer and says why."""
    g = grade(GAMING_OPENING, "opening")
    assert "gaming" in g.flags
    assert g.score < grade(MEDIUM_OPENING, "opening").score
    detail = next(f for f in g.flag_details if f.name == "gaming")
    assert "time markers with no events" in detail.message or "list of terms" in detail.message


def test_timeline_counts_markers_tied_to_events():
    """Four distinct time markers tied to events earn the full timeline; bare markers earn nothing."""
    text = (
        "At 09:10 the alert fired. At 09:14 I rolled back the release. By 09:40 we had found the cause. "
        "The next day I wrote the postmortem with the team."
    )
    assert grade(text, "opening").dimension("timeline").fraction == 1.0
    bare = "T+0. T+5. T+30. T+1d. That is the timeline of the incident we had with the database outage."
    assert grade(bare, "opening").dimension("timeline").score == 0


def test_mitigation_fix_prevention_distinct_and_conflated():
    """Three different remedies earn the dimension; calling everything 'the fix' is flagged conflated_fix."""
    good = grade(STRONG_OPENING, "opening").dimension("mitigation_fix_prevention")
    assert good.fraction == 1.0
    text = (
        "The outage hit checkout for 30 minutes. The fix was to restart the service. Then we did another "
        "fix to the query. The long-term fix is that we fix things faster next time."
    )
    g = grade(text, "probe")
    assert "conflated_fix" in g.flags
    assert g.dimension("mitigation_fix_prevention").fraction < 0.5


def test_no_prevention_when_story_stops_at_restore():
    """A failure chain that ends at the restart raises no_prevention and the restart_only signal (in a
    round that asks what let it through; the opening asks only about the first hour)."""
    text = (
        "Our API went down for 20 minutes on a Tuesday because a worker pool was exhausted and requests "
        "timed out. I restarted the workers and service was restored. Everyone was relieved and we moved on."
    )
    g = grade(text, "probe")
    assert "no_prevention" in g.flags
    assert "restart_only" in g.signals


def test_detection_prefers_alert_before_customers():
    """An alert that fired before customers noticed beats a customer report."""
    alert = grade("The error-rate alert paged me at 02:00, before customers noticed. " * 2, "opening")
    customer = grade("A customer reported the broken checkout to support the next morning. " * 2, "opening")
    assert alert.dimension("detection").fraction > customer.dimension("detection").fraction
    assert "no_detection" in grade(WEAK_OPENING, "opening").signals


def test_impact_wants_numbers_with_units():
    """Numbers with units tied to impact earn the impact dimension; none earns nothing and a hint."""
    g = grade(STRONG_OPENING, "opening").dimension("impact")
    assert g.fraction >= 0.7
    weak = grade(WEAK_OPENING, "opening").dimension("impact")
    assert weak.score == 0 and "Quantify" in weak.hint


def test_blame_flag_with_rewrite():
    """A sentence blaming a named person is flagged with the sentence and a blameless rewrite."""
    text = (
        "The outage took checkout down for an hour. Kevin's sloppy migration locked the orders table "
        "and he should have known better. I rolled back the change and restored service."
    )
    g = grade(text, "probe")
    assert "blame" in g.flags
    detail = next(f for f in g.flag_details if f.name == "blame")
    assert detail.sentence and detail.sentence in text and "sloppy" in detail.sentence
    assert detail.rewrite and "without a check" in detail.rewrite
    assert g.dimension("blameless").score == 0


def test_cto_quote_pushed_back_is_not_blame():
    """Quoting the CTO's 'human error' in order to push back on it is not blame."""
    g = grade(CURVEBALL_STRONG, "curveball")
    assert "blame" not in g.flags
    assert g.dimension("blameless").fraction >= 0.8
    assert g.score >= 70


def test_neutral_teammate_mention_is_not_blame():
    """Mentioning the teammate who started the migration as a neutral fact is not blame."""
    text = (
        "The database locked up for 12 minutes during a deploy. I paged the teammate who started the "
        "migration and together we stopped it; there was no lock timeout to protect the table."
    )
    assert "blame" not in grade(text, "probe").flags


def test_self_criticism_is_reflection_not_blame():
    """'I should have known better' about oneself is reflection, not blame."""
    text = (
        "In hindsight I should have known better than to run the backfill at peak; the outage lasted "
        "25 minutes and 8% of orders failed. Since then the runbook says to batch backfills."
    )
    assert "blame" not in grade(text, "synthesis").flags


def test_blameless_to_a_fault():
    """'Nobody was at fault' with no specific cause is its own flag."""
    text = (
        "Nobody was at fault, these things happen in complex systems and we are a blameless team. The "
        "outage was resolved and we moved on quickly without dwelling on it or pointing fingers at all."
    )
    g = grade(text, "curveball")
    assert "blameless_to_a_fault" in g.flags
    assert g.dimension("blameless").fraction < 0.5


def test_hero_flag_and_signal():
    """A solo-hero story is flagged hero and signals solo_hero."""
    text = (
        "The site went down at peak and nobody else knew what to do. I alone figured out it was the load "
        "balancer config, I fixed it by myself and brought everything back within 20 minutes."
    )
    g = grade(text, "opening")
    assert "hero" in g.flags and "solo_hero" in g.signals
    assert g.dimension("ownership").fraction <= 0.5


def test_ownership_credits_others_and_role():
    """First-person actions with a role and credit to others earn ownership."""
    assert grade(STRONG_OPENING, "opening").dimension("ownership").fraction == 1.0
    we = grade(MEDIUM_OPENING, "opening").dimension("ownership")
    assert we.fraction < 0.5 and we.hint


def test_diagnosis_wants_wrong_turns():
    """A hypothesis ruled out by evidence earns diagnosis."""
    assert grade(STRONG_OPENING, "opening").dimension("diagnosis").fraction >= 0.7
    assert grade(MEDIUM_OPENING, "opening").dimension("diagnosis").fraction < 0.5


def test_communication_cadence_channel_roles():
    """Cadence, one channel, audiences and separate roles earn communication."""
    text = (
        "I took incident commander and asked Sam to be comms lead so I could focus. Every 15 minutes Sam "
        "posted in #inc-checkout with status, impact and next steps, and the time of the next update. "
        "The VP read the channel instead of pinging engineers, and support got a customer-facing "
        "statement from Sam. We worked one hypothesis at a time while the outage lasted 50 minutes."
    )
    good = grade(text, "constraint").dimension("communication")
    assert good.fraction >= 0.9
    vague = grade("We kept everyone informed during the outage as best we could. " * 4, "constraint")
    assert vague.dimension("communication").fraction < good.fraction


def test_prevention_named_guardrails_beat_vague_monitoring():
    """Named guardrails with owner and timing beat 'we added monitoring'."""
    named = grade(CURVEBALL_STRONG, "curveball").dimension("prevention")
    vague_text = "After the outage we added monitoring and told everyone to be more careful. " * 2
    vague = grade(vague_text, "curveball").dimension("prevention")
    assert named.fraction >= 0.6 > vague.fraction
    assert "not a guardrail" in vague.hint


def test_measurement_before_after_caught_since_reflection():
    """Before/after numbers, catches since and reflection earn measurement."""
    text = (
        "We shipped the migration linter in CI within two weeks; Dana owned it. Time to detect went from "
        "25 minutes to 3 minutes, and since then the linter has caught four unsafe migrations. Next time "
        "I would declare the incident earlier instead of debugging alone for ten minutes."
    )
    assert grade(text, "synthesis").dimension("measurement").fraction >= 0.9


def test_altitude_penalises_vague_blob_and_wall_of_internals():
    """Altitude is lower for a vague blob and for a wall of jargon than for a plain specific story."""
    plain = grade(STRONG_OPENING, "opening").dimension("altitude").fraction
    blob = grade("There were some issues and stuff went wrong with various things, basically. " * 6, "probe")
    jargon = grade(
        "The kube pods OOMKilled as the JVM heap hit the cgroup limit; GC pauses stalled the grpc sidecar, "
        "envoy upstream_rq_timeout tripped, hikari pool exhausted, pgbouncer queue grew, WAL fsync lag, "
        "iptables conntrack full, DNS TTL stale, etcd raft quorum lost. " * 2,
        "probe",
    )
    assert plain > blob.dimension("altitude").fraction
    assert plain > jargon.dimension("altitude").fraction


def test_sql_unsafe_flag_and_low_score():
    """A bare ADD COLUMN ... NOT NULL is unsafe_sql, quoting the statement, and scores low."""
    text = "I would run this during the deploy:\n\nALTER TABLE orders ADD COLUMN region text NOT NULL;\n"
    g = grade(text, "sql")
    assert "unsafe_sql" in g.flags and "has_sql" in g.signals
    detail = next(f for f in g.flag_details if f.name == "unsafe_sql")
    assert detail.sentence and detail.sentence in text
    assert g.dimension("migration_safety").fraction < 0.3


def test_sql_safe_expand_contract_with_drop_in_contract_phase():
    """The full expand-and-contract pattern, including a DROP COLUMN in the contract phase, is safe."""
    text = """First the expand step, then deploy code that writes both columns, then backfill in batches:

SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN region_code text;
UPDATE orders SET region_code = region WHERE id BETWEEN 1 AND 10000;
ALTER TABLE orders ADD CONSTRAINT region_code_nn CHECK (region_code IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT region_code_nn;

Once no code reads the old column, the contract phase removes it:

ALTER TABLE orders DROP COLUMN region;
"""
    g = grade(text, "sql")
    assert "unsafe_sql" not in g.flags
    assert "expand_contract" in g.signals and "schema_change" in g.signals
    unsafe = grade("ALTER TABLE orders ADD COLUMN region text NOT NULL;", "sql")
    assert g.dimension("migration_safety").score > unsafe.dimension("migration_safety").score
    _substrings_hold(text, g)


def test_sql_prose_pattern_acceptable_but_not_best():
    """Describing expand-and-contract in prose scores between the unsafe SQL and the written SQL."""
    prose = (
        "I would add the column as nullable first, deploy code that writes it, backfill in batches, and "
        "only then enforce NOT NULL with a check constraint marked not valid and validated later."
    )
    unsafe = "ALTER TABLE orders ADD COLUMN region text NOT NULL;"
    p = grade(prose, "sql").dimension("migration_safety").score
    assert grade(unsafe, "sql").dimension("migration_safety").score < p


def test_too_short_and_off_topic_are_capped():
    """Very short and off-topic answers are flagged and capped low."""
    short = grade("We rolled back.", "opening")
    assert "too_short" in short.flags and short.score <= 20 and short.verdict == "No Hire"
    off = grade(
        "My favourite thing about the job is mentoring. I run a book club on Thursdays where we read "
        "about leadership and career growth, and I plan the team offsite every spring with games.",
        "opening",
    )
    assert "off_topic" in off.flags and off.score <= 10


def test_levels_change_verdicts_and_staff_needs_org_change():
    """The same score reads differently by level; staff answers without an org change are capped."""
    assert verdict_for(62, "junior") in ("Strong Hire", "Hire")
    assert verdict_for(62, "staff") in ("Lean Hire", "Lean No Hire")
    mid = grade(CURVEBALL_STRONG, "curveball", "mid").score
    staff = grade(CURVEBALL_STRONG, "curveball", "staff").score
    assert staff <= 70 and staff <= mid
    with_org = CURVEBALL_STRONG + " I'd also propose we make the linter an org-wide standard for every team."
    assert grade(with_org, "curveball", "staff").score > staff


def test_unknown_round_or_level_lists_valid_ones():
    """An unknown round or level raises ValueError naming the valid ones."""
    with pytest.raises(ValueError, match="opening"):
        grade("text", "nope")
    with pytest.raises(ValueError, match="junior"):
        grade("text", "opening", "principal")


def test_explicit_content_weights_are_used():
    """Weights come from the content object passed in."""
    content = _content({"solo": {"timeline": 60, "impact": 40}})
    g = grade(STRONG_OPENING, "solo", content=content)
    assert [d.key for d in g.dimensions] == ["timeline", "impact"]
    assert sum(d.max for d in g.dimensions) == 100
    assert g.score == sum(d.score for d in g.dimensions)


def test_grade_many_keeps_order_and_ids():
    """grade_many yields one grade per item in order, carrying the ids."""
    out = list(grade_many([("a", "opening", STRONG_OPENING), ("b", "opening", WEAK_OPENING)]))
    assert [g.id for g in out] == ["a", "b"] and out[0].score > out[1].score


def test_summary_names_strongest_and_weakest():
    """The summary names the strongest and the weakest dimension."""
    g = grade(MEDIUM_OPENING, "opening")
    assert g.weakest.label.lower() in g.summary and g.strongest.label.lower() in g.summary


def test_flag_names_are_from_the_contract():
    """Every raised flag is one of the contract's flag names and has an actionable message."""
    for text in (STRONG_OPENING, MEDIUM_OPENING, WEAK_OPENING, GAMING_OPENING, CURVEBALL_STRONG):
        g = grade(text, "opening")
        assert set(g.flags) <= set(FLAGS)
        assert all(f.message for f in g.flag_details)


def test_builtin_rubric_is_valid_and_validator_reports_paths():
    """The built-in rubric.yml validates; a broken copy reports key paths and problems."""
    data = builtin_rubric_data()
    assert validate_rubric_data(data) == []
    broken = copy.deepcopy(data)
    broken["lexicons"]["cadence"] = ["every (unclosed"]
    del broken["dimensions"]["timeline"]["hints"]["few"]
    broken["levels"]["mid"]["bands"]["Hire"] = 99
    paths = {p for p, _ in validate_rubric_data(broken)}
    assert ("lexicons", "cadence", 0) in paths
    assert ("dimensions", "timeline", "hints", "few") in paths
    assert ("levels", "mid", "bands", "Hire") in paths
    assert validate_rubric_data([]) == [((), "expected a mapping of rubric settings")]


# ---------------------------------------------------------------- generalisation: new phrasings

_STORY = "The orders API returned errors for 25 minutes after a deploy and I rolled it back at 10:14. "


@pytest.mark.parametrize(
    "sentence",
    [
        "The guy who wrote that script clearly didn't know what he was doing.",
        "Frankly she shouldn't have been allowed near the billing database.",
        "The contractors never wrote tests for anything they shipped, which is why it broke.",
        "The offshore team doesn't understand how our queue works, and that caused the outage.",
        "Their code quality was always bad, so the outage was coming sooner or later.",
        "The agency that built the app was clueless about caching.",
    ],
)
def test_blame_as_judgement_of_a_person_or_group(sentence):
    """A judgement of a person's or group's competence or care is blame, whatever the wording."""
    text = _STORY + sentence + " We restored service and wrote the postmortem the next day."
    g = grade(text, "probe")
    assert "blame" in g.flags, sentence
    assert next(f for f in g.flag_details if f.name == "blame").sentence in text


def test_root_cause_answered_as_a_who_is_blame():
    """Naming a group as the whole root cause ("Honestly, the contractors.") is blame."""
    text = (
        "What was the root cause? Honestly, the contractors. The payment page failed for 40 minutes "
        "and we rolled the release back after support escalated it."
    )
    assert "blame" in grade(text, "probe").flags


@pytest.mark.parametrize(
    "sentence",
    [
        "The review process never looked at migrations, so nothing caught the table rewrite.",
        "I should have checked the lock the migration needed before approving it.",
        "My colleague Ana started the backfill at 09:50 and paged me when latency rose.",
        'The CTO called it "human error"; I disagreed, because no check stopped an ordinary change.',
    ],
)
def test_blame_hard_negatives(sentence):
    """Criticising a process, oneself, a neutral fact or a quoted label to push back is not blame."""
    assert "blame" not in grade(_STORY + sentence, "probe").flags, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "I didn't bother paging anyone; it was faster to handle it myself.",
        "Everyone froze on the call, so I took over and fixed the config.",
        "I rescued it on my own while the others were still reading the alert.",
    ],
)
def test_hero_new_phrasings(sentence):
    """Declining help, taking over from a frozen team, or rescuing it alone reads as a solo hero."""
    text = "Checkout failed for 30 minutes at peak after a config push. " + sentence
    assert "hero" in grade(text, "opening").flags, sentence


def test_own_judgement_is_not_hero():
    """'On my own judgement' is reflection, not a solo-hero story."""
    text = (
        "Priya shipped the linter and Marco added the alert. On my own judgement: I waited too long to "
        "declare the incident, and next time I would declare it within five minutes."
    )
    assert "hero" not in grade(text, "synthesis").flags


def test_denial_and_luck_is_blameless_to_a_fault():
    """Denying any failure and calling it luck, with no gap named, is blameless to a fault."""
    text = (
        "There's no root cause here and nobody is responsible; it was just bad luck. The monitoring "
        "was fine and the deploy process was fine, the database simply had a bad day for an hour."
    )
    assert "blameless_to_a_fault" in grade(text, "curveball").flags


def test_one_off_declines_prevention():
    """'Nothing else needed to change, it was a one-off' raises no_prevention."""
    text = (
        "Search was down for 35 minutes after a bad index rebuild. I rolled the index back and "
        "service was restored. Nothing else needed to change — it was a one-off."
    )
    assert "no_prevention" in grade(text, "probe").flags


@pytest.mark.parametrize(
    "sentence",
    [
        "Afterwards we added a pipeline rule that blocks any migration without a lock timeout.",
        "Going forward every schema change needs a second approval from a database reviewer.",
        "Since then the runner sets a default statement timeout of five seconds on every job.",
    ],
)
def test_prevention_shapes_with_other_nouns(sentence):
    """A new rule, approval or default that blocks or catches the failure counts as prevention."""
    text = (
        "Login failed for 20 minutes after a migration locked the users table; I rolled it back and "
        "the fix was to rewrite it in batches. " + sentence
    )
    g = grade(text, "opening")
    assert "no_prevention" not in g.flags, sentence
    assert grade(text, "curveball").dimension("prevention").score > 0, sentence


def test_failure_chain_earns_diagnosis():
    """Several contributing factors, each causally linked and concrete, earn most of diagnosis."""
    text = (
        "The trigger was a config change that set the cache TTL to 0 on the session service. "
        "Our tests never covered TTL values, because the test fixtures hard-code 300 seconds. "
        "The deploy pipeline pushed config to all 12 regions at once, so there was no canary to stop it. "
        "We only alerted on login errors, not on cache hit rate, which is why it took 20 minutes to see."
    )
    assert grade(text, "probe").dimension("diagnosis").fraction >= 0.8


def test_templated_category_answer_earns_little_diagnosis():
    """Category names with no concrete systems or numbers do not count as a failure chain."""
    text = (
        "Contributing factor one: the change itself. Contributing factor two: the test gap, in that "
        "the tests did not cover it. Contributing factor three: the process gap, because the process "
        "did not stop it. Contributing factor four: the monitoring gap, since monitoring did not catch it."
    )
    assert grade(text, "probe").dimension("diagnosis").fraction < 0.5


def test_line_breaks_inside_a_sentence_do_not_clip_evidence():
    """A single newline inside a sentence is a space: the quoted sentence runs to its full stop."""
    text = (
        "The alert fired at 02:10 and I rolled back the\nrelease at 02:14, before customers noticed.\n\n"
        "- Impact: 9% of checkouts failed for 11 minutes.\n- Detection: the error-rate alert paged me."
    )
    g = grade(text, "opening")
    quotes = [s for d in g.dimensions for s in d.evidence]
    assert any("rolled back the\nrelease at 02:14" in q for q in quotes)
    assert all(q in text for q in quotes)


@pytest.mark.parametrize(
    "sentence",
    [
        "The bulk-delete tool had no dry-run mode and no row-count confirmation.",
        "Our release checklist doesn't mention feature flags at all.",
        "Nothing stopped a deploy with a red canary from going out on a Friday evening.",
        "Any one of our engineers could have made that same ordinary slip on a busy day.",
    ],
)
def test_system_gaps_in_other_words(sentence):
    """Gaps named as a missing mode, a tool that does not check, nothing that stopped it, or anyone's slip."""
    base = "I'd push back: calling it human error ends the investigation too early. "
    with_gap = grade(base + sentence, "curveball").dimension("blameless")
    without = grade(base + "I would talk to the CTO about it calmly.", "curveball").dimension("blameless")
    assert with_gap.score > without.score, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "I'd make the pipeline refuse to promote a build while its canary is red.",
        "New flags default off and get ramped by 5% steps over an hour.",
        "The review template gets a section on flags, and we wrote a test for empty carts.",
    ],
)
def test_proposed_guardrails_count_as_prevention(sentence):
    """A guardrail proposed with 'I'd make', a default-off flag, a ramp or a new test is prevention."""
    text = "The engineer shipped the change, but the system let it through. " + sentence
    assert grade(text, "curveball").dimension("prevention").score > 0, sentence


def test_training_and_reminders_are_not_guardrails():
    """Training sessions, onboarding and reminder emails earn at most the 'vague prevention' credit."""
    text = (
        "I'd agree we need people to be more careful. I'd propose a training session on production "
        "safety, add it to onboarding, and send a reminder email to the whole team."
    )
    prevention = grade(text, "curveball").dimension("prevention")
    assert prevention.fraction <= 0.15


def test_measurement_in_other_words():
    """'Held twice since', 'went from four a year to none' and 'my own lesson' earn measurement."""
    text = (
        "We shipped a freshness check on the export job in week two, owned by Tomas. It has held the "
        "export three times since, each time for under five minutes. Stale exports went from four a "
        "year to none in six months. My own lesson: I waited too long to call it a SEV-2."
    )
    assert grade(text, "synthesis").dimension("measurement").fraction >= 0.9


def test_numbered_list_items_stay_one_sentence():
    """'1. The change: ...' is one item: the list number does not end a sentence of its own."""
    text = (
        "How it got through:\n1. The change: the importer accepted an empty currency code.\n"
        "2. The test gap: our fixtures always set a currency, so the empty path never ran."
    )
    g = grade(text, "probe")
    quotes = [q for d in g.dimensions for q in d.evidence]
    assert "1." not in quotes and "2." not in quotes


def test_labelled_failure_chain_with_specific_words_earns_diagnosis():
    """Factors labelled with a colon and explained in specific words (no digits needed) form a chain."""
    text = (
        "The change: the importer accepted an empty currency code from the partner feed.\n"
        "The test gap: our fixtures always supplied a currency, so the empty branch never executed.\n"
        "The deploy gap: importer releases went to every region at once, with no canary.\n"
        "The monitoring gap: we alerted on crashes, but malformed invoices only showed up as quiet "
        "reconciliation mismatches days later."
    )
    assert grade(text, "probe").dimension("diagnosis").fraction >= 0.8


def test_templated_labels_with_filler_words_are_not_a_chain():
    """Category labels padded with filler ('really', 'properly', 'carefully') are not concrete factors."""
    text = (
        "Factor one: the change itself, which nobody really thought about carefully enough. "
        "Factor two: the test gap, because the tests simply did not cover the change properly. "
        "Factor three: the process gap, because the process did not stop the change. "
        "Factor four: the monitoring gap, because monitoring never caught the failure."
    )
    assert grade(text, "probe").dimension("diagnosis").fraction < 0.5


def test_semicolon_separated_factors_count_separately():
    """One sentence listing factors between semicolons counts each factor once."""
    text = (
        "Why it got through: the cron change ran on two hosts because the lock file lived on local disk; "
        "our tests only ran the job on one worker, so the double run never showed up; and nobody was "
        "alerted, because no monitor watched duplicate invoice numbers."
    )
    assert grade(text, "probe").dimension("diagnosis").fraction >= 0.6


def test_verdicts_are_calibrated_without_lifting_weak_answers():
    """A strong opening reads Hire or better at mid level, a weak or medium one stays below Hire."""
    assert grade(STRONG_OPENING, "opening", "mid").verdict in ("Strong Hire", "Hire")
    assert grade(WEAK_OPENING, "opening", "mid").verdict in ("Lean No Hire", "No Hire")
    assert grade(MEDIUM_OPENING, "opening", "mid").verdict not in ("Strong Hire", "Hire")
    assert grade(GAMING_OPENING, "opening", "mid").verdict == "No Hire"


# ---------------------------------------------------------------- blame: judgement of a person or group

_CONTEXT = (
    "The sync job failed for 50 minutes on a Tuesday and about 4% of invoices went out late. "
    "I was on call, rolled the job back at 11:20 and wrote the postmortem. "
)


@pytest.mark.parametrize(
    "sentence",
    [
        # character generalised from one act
        "Marcus has a habit of skipping the staging step whenever he thinks nobody is looking.",
        "Our DBA has never once in his career read a query plan before shipping an index.",
        "Every time the platform team touches the load balancer config, something falls over.",
        "The mobile team always ships on Friday afternoons and leaves the rest of us to clean up.",
        # motive
        "The outsourced QA team was more interested in closing tickets than in finding bugs.",
        "Management cared more about the launch date than about whether the job actually worked.",
        "The contractors were just going through the motions to get paid.",
        "When we asked the vendor team for a postmortem, we got excuses instead.",
        "The network team was busy polishing whatever project would look good at promotion time.",
        # competence, said indirectly
        "Not one person on the support team seemed to understand what a DNS record is.",
        "The agency was charging us senior rates for code a student would be embarrassed by.",
        "Their idea of a load test is clicking around the staging site twice.",
        "Frankly, the new hire was in way over her head.",
        # sarcasm and contrast
        "Human error is a generous way to put it, since the platform team ignored three warnings.",
        "At least the team that owns the job now actually reads its alerts.",
        # who as the cause
        "The root cause was simple: the offshore developers.",
        "Our support team was a big part of the problem.",
        "The real cause was the infrastructure team.",
    ],
)
def test_blame_as_character_motive_competence_or_sarcasm(sentence):
    """Judging a person's or a group's character, motive or competence, or sneering at them, is blame."""
    text = _CONTEXT + sentence + " Since then the job has a dry-run mode and a row-count check in CI."
    g = grade(text, "probe")
    assert "blame" in g.flags, sentence
    assert sentence in next(f for f in g.flag_details if f.name == "blame").sentence


@pytest.mark.parametrize(
    "pair",
    [
        ("We hired an agency to rebuild the sync job.", "They never test anything before handing it over."),
        ("I paged Ollie from the data team at 11:05.", "He, as usual, had no idea which job was his."),
        (
            "Why did it happen? Because Priyanka on the billing team turned off the rate limiter.",
            "She does that every time she thinks the limiter is slowing her down.",
        ),
    ],
)
def test_blame_reaches_a_pronoun_in_the_next_sentence(pair):
    """A judgement of 'they' or 'he' that refers back to a person or group in the sentence before is blame."""
    text = _CONTEXT + " ".join(pair)
    g = grade(text, "probe")
    assert "blame" in g.flags, pair
    assert pair[1] in next(f for f in g.flag_details if f.name == "blame").sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Marcus paged me at 11:02 and we rolled the job back together.",
        "The platform team always reviews schema changes within a day, which is why this one stood out.",
        "Every time we deploy on a Friday we take a risk; that is why we added a deploy freeze.",
        "I should have asked the network team before cutting the DNS TTL; that was my call.",
        "The CTO said the new hire was careless; I disagreed, because nothing stopped an ordinary change.",
        "Human error is never the root cause; systems, not people, let ordinary mistakes through.",
        "Some people on the call wanted to blame Derek, but the runbook was missing the step.",
        "The intern ran the script, and the script had no dry-run mode or row-count confirmation.",
        "Derek deployed the change at 11:00 and it took the invoice job down for ten minutes.",
        "None of us seemed to grasp how big the blast radius was until the queue backed up.",
        "At least we caught it before the morning peak, and no customer was charged twice.",
        "The contractor agency we hired fixed the sync job within a day and added a contract test.",
        "The support team was a big part of the solution: they posted updates every 15 minutes.",
        "Every time the nightly job runs, it takes a lock on the invoices table.",
        "They always page the secondary if the primary does not acknowledge within five minutes.",
        "Calling it human error is too simple; the deploy tool let anyone skip the canary.",
        "It would be easy to say the contractors were careless, but our pipeline let their change through.",
    ],
)
def test_blame_hard_negatives_in_other_words(sentence):
    """Neutral mentions, self-criticism, rejected accusations, slogans and praise of a group are not blame."""
    text = _CONTEXT + sentence + " Since then the job has a dry-run mode and a row-count check in CI."
    assert "blame" not in grade(text, "probe").flags, sentence


_GATEWAY = (
    "Card payments failed for about 35 minutes on a Thursday evening, roughly 6% of attempts. I was the "
    "incident commander and we rolled back the gateway config at 19:42. "
)
_FOLLOW_UP = " Afterwards we added a config validation step in CI, owned by me, shipped within a week."


@pytest.mark.parametrize(
    "sentence",
    [
        "Leon likes to merge on Friday nights so he can say his sprint was green.",
        "The release managers treat the change calendar as a suggestion, like always.",
        "Our ops people only ever read an alert after a customer complains on Twitter.",
        "The consultants spent three months writing slide decks and never shipped a single health check.",
        "Honestly, the payments team just doesn't take on-call seriously.",
        "We were paying the agency top dollar and they handed us a config with the test keys still in it.",
        "Whenever Sven is on call, you can bet the runbook won't be touched.",
        "Why did this happen? Because the new contractor thought staging was optional.",
        "The whole thing comes down to the mobile team and their cavalier attitude to config.",
        "The SRE team seems to think that alerts are someone else's job.",
        "I'm sure Beatrice meant well, but she has a long track record of not reading diffs.",
        "The vendor's engineers were clearly more focused on closing the contract than on our uptime.",
        "Nobody from the data team bothered to show up to the postmortem.",
        "Leadership, as ever, wanted a date more than a working system.",
        "The people who wrote that gateway had obviously never heard of timeouts.",
        "Thanks to Gordon in infra, the whole region went dark for half an hour.",
        "I wish I could say it was a surprise, but the platform folks do this every quarter.",
        "Their so-called testing consisted of one happy-path click in staging.",
    ],
)
def test_blame_second_batch_of_judgements(sentence):
    """Habits, self-serving motives, dismissiveness, doubted competence and sarcastic credit are blame."""
    assert "blame" in grade(_GATEWAY + sentence + _FOLLOW_UP, "probe").flags, sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Leon merged the config change at 19:05 and paged me when the error rate climbed.",
        "The release managers kept the change calendar open for us so we could ship the rollback.",
        "Sven, the secondary on call, took the customer comms while I debugged.",
        "The payments team owns the gateway, so I looped in their on-call at 19:20.",
        (
            "Why did it happen? Because the gateway accepted a config with an empty currency list "
            "and nothing validated it."
        ),
        "The root cause was simple: the config loader treated an empty list as allow-all.",
        "The vendor's engineers joined our bridge within ten minutes and confirmed the key rotation.",
        "Beatrice always reviews config changes carefully, which is why we asked her to pair on the fix.",
        "The SRE team seems to have the best dashboards in the company, so we borrowed theirs.",
        "I was the one who approved the change, and I should have asked for a canary.",
        "Nobody was careless here; the pipeline simply had no validation step for this file.",
        "Blaming Gordon would be easy, but the tool let anyone push to every region at once.",
        "The data team was a big help: they replayed the failed payments the next morning.",
        "At least the retry queue held every failed payment, so nothing was lost.",
        "Their dashboards showed the error rate at 6% within two minutes of the push.",
        "They always rotate keys on Thursdays, so we knew to look at the rotation first.",
        "Our team always pairs on gateway changes now, and the checklist has a canary step.",
        "Management asked for updates every 15 minutes; I gave them status, impact and next update time.",
        "The contractors who built the gateway documented the config format well, which made the fix quick.",
        "The postmortem said the engineer made a mistake; I argued the missing validation was the cause.",
        "It was the platform team who spotted the spike first and paged us.",
        "People make mistakes, so the system has to catch them; that is the whole point of the CI check.",
    ],
)
def test_blame_second_batch_of_neutral_mentions(sentence):
    """People named as responders, praised, or defended, and the speaker's own slips, are not blame."""
    assert "blame" not in grade(_GATEWAY + sentence + _FOLLOW_UP, "probe").flags, sentence


# ---------------------------------------------------------------- off topic is about something else entirely

_TERSE_SYNTHESIS = (
    "What shipped:\n"
    "- Lock-wait budget of 2s on every job, owned by Dana, live in week one.\n"
    "- Squawk on every pull request, owned by me, week two.\n"
    "- 5% ramp for 30 minutes on the importer, owned by Ian, week three.\n"
    "How we know: time to detect went from 25 to 3 minutes, and squawk has blocked 4 pull requests since. "
    "Next time I would call it a SEV-2 ten minutes sooner."
)
_RESTART_ONLY = (
    "Around lunchtime the recommendations pods started getting OOM-killed one after another and the "
    "home page showed empty carousels for about 20 minutes. I was on call, so I restarted the pods and "
    "bumped the memory limit, and the carousels came back. That was the end of it for me."
)
_PROVIDER_STORY = (
    "On a Monday our email provider suspended our sending account, because marketing had blasted a "
    "purchased list over the weekend. Password resets and receipts stopped going out for six hours and "
    "support was buried. Marketing never listens to anyone; they do this every quarter."
)


@pytest.mark.parametrize(
    ("text", "round_id"),
    [(_TERSE_SYNTHESIS, "synthesis"), (_RESTART_ONLY, "opening"), (_PROVIDER_STORY, "opening")],
)
def test_terse_restart_only_and_vendor_stories_are_on_topic(text, round_id):
    """Bullet-list changes with numbers, a story that stops at restarting pods and a vendor outage are
    incident answers: they are graded on their merits, not capped as off topic."""
    g = grade(text, round_id)
    assert "off_topic" not in g.flags
    assert not g.summary.startswith("Flagged off topic")


def test_provider_story_blaming_marketing_is_blame_not_off_topic():
    """A vendor outage story that sneers at the marketing team is blame, and still on topic."""
    flags = grade(_PROVIDER_STORY, "opening").flags
    assert "blame" in flags and "off_topic" not in flags


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "My go-to weeknight dinner is a tray bake: chop peppers, onions and chicken thighs, toss them "
            "in oil and paprika, and roast at 220 degrees for 35 minutes, turning once. I make a big batch "
            "on Sunday so the week is easier.",
            "synthesis",
        ),
        (
            "Last summer I spent two weeks walking the coast path with my sister. We planned every stage "
            "in a shared checklist, booked guesthouses a month ahead and sent our parents a photo every "
            "evening so they knew where we were.",
            "constraint",
        ),
        (
            "The hardest thing in my career was moving from support into engineering. I took evening "
            "classes for a year, asked my manager for a mentor, and in hindsight I should have asked for "
            "help much sooner than I did.",
            "curveball",
        ),
    ],
)
def test_recipe_holiday_and_career_story_are_off_topic(text, round_id):
    """A recipe, a holiday or a career story with no incident in it is off topic in any round."""
    g = grade(text, round_id)
    assert "off_topic" in g.flags and g.score <= 10


def test_primary_on_call_story_naming_others_later_is_not_hero():
    """A first-person story that names other responders later, by name only, is not a solo hero."""
    text = (
        "I was primary on-call for the ledger service when the replication-lag alert paged me at 03:10, "
        "before any customer noticed. By 03:18 about 9% of balance reads were stale, so I declared a SEV-2 "
        "and opened #inc-ledger. I suspected the nightly batch first, but it had finished at 02:40, so I "
        "ruled it out. I found a replica stuck replaying a long vacuum, I failed reads over to the healthy "
        "replica at 03:26 and lag dropped to zero within four minutes. I wrote the timeline and I ran the "
        "postmortem the next day. Mei kept the status page current every 20 minutes, and Tunde tuned the "
        "vacuum settings as the fix. To prevent a repeat, an alert on replay lag above 30 seconds now pages "
        "us, and I added a runbook step for failing over reads, both shipped within a week."
    )
    g = grade(text, "opening")
    assert "hero" not in g.flags and "solo_hero" not in g.signals
    assert g.dimension("ownership").fraction == 1.0


def test_hero_story_with_only_bystanders_is_still_hero():
    """Others mentioned only as bystanders ('my manager', 'the other engineers') leave a solo story solo."""
    text = (
        "The billing export failed at midnight and my manager kept asking for news. The other engineers "
        "were arguing about theories, so I took over and fixed the export script on my own by 01:30."
    )
    assert "hero" in grade(text, "opening").flags


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "The most production-critical thing I've handled was moving our build pipeline from one CI "
            "vendor to another. I planned the rollout, rewrote the workflows and kept the team posted every "
            "week in our channel. I owned the schedule and we finished two weeks early.",
            "opening",
        ),
        (
            "Communication is something I care about a lot. I introduced a weekly update email for "
            "stakeholders with a fixed format, ran a monthly demo for the support team so they knew what "
            "was coming, and set up a shared channel where product could ask engineering questions.",
            "constraint",
        ),
        (
            "Afterwards I started a reading group on distributed systems that met every Thursday. I chose "
            "the papers, led the discussions and about twelve people came regularly for six months; I "
            "learned a lot about leading a group and would do it again.",
            "synthesis",
        ),
    ],
)
def test_project_stories_with_earned_points_are_still_off_topic(text, round_id):
    """A non-incident project told with good communication or ownership habits is off topic: points
    earned elsewhere do not make it an incident."""
    g = grade(text, round_id)
    assert "off_topic" in g.flags and g.score <= 10


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "I told the VP she would get an update every fifteen minutes in the incident channel, gave "
            "support two sentences for customers, and asked the five engineers to try one fix at a time, "
            "starting with the cheapest one to undo.",
            "constraint",
        ),
        (
            "Two weeks later we shipped a migration linter in CI and a lock timeout default; since then the "
            "linter has blocked three risky pull requests and nothing like it has happened again.",
            "synthesis",
        ),
        (
            "Our sign-in page started timing out for about a third of users after lunch. I was on call, "
            "saw the connection pool maxed out on the dashboard, and bumped the pool size.",
            "opening",
        ),
    ],
)
def test_response_only_answers_after_the_opening_are_on_topic(text, round_id):
    """Later rounds may describe only the response (the fix, the VP, what happened again); a short
    opening with a failure in it is on topic too."""
    assert "off_topic" not in grade(text, round_id).flags


def test_denied_harm_does_not_make_a_project_an_incident():
    """'With no customer-visible downtime' in a project story is not a failure being described."""
    text = (
        "I led the move of our forty services to a new cloud region. We rehearsed each wave in staging, "
        "held a go/no-go meeting before every cut-over and finished early with no customer-visible "
        "downtime, which I am proud of."
    )
    assert "off_topic" in grade(text, "opening").flags


@pytest.mark.parametrize(
    "text",
    [
        "The database ran out of memory one night and the site went down. I restarted it and things came "
        "back after a few minutes. Not much else to say really.",
        "Checkout broke after a deploy on a Friday. We rolled it back and it was fine after that, so we "
        "moved on to the next sprint and closed the ticket.",
        "A cron job filled the disk and the API stopped responding. I cleared some space and it started "
        "working again, and that was pretty much it for me.",
    ],
)
def test_headline_answers_under_forty_words_are_too_short(text):
    """A story under about forty words with few specifics is a headline an interviewer cannot grade."""
    assert len(text.split()) < 40
    g = grade(text, "opening")
    assert "too_short" in g.flags and g.score <= 20


def test_terse_answer_dense_with_specifics_is_not_too_short():
    """A short bullet list of shipped changes with numbers and named guardrails can still be graded."""
    text = (
        "- Squawk linter in CI, owned by me, shipped in week one\n"
        "- Lock timeout of 2s on every migration\n"
        "- Alert on p99 above 800 ms\n"
        "- 0 repeats in 6 months; the linter blocked 4 pull requests"
    )
    assert len(text.split()) < 40
    assert "too_short" not in grade(text, "synthesis").flags


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "Honestly I don't believe in root causes. Complex systems fail in complex ways, and nothing in "
            "particular went wrong that day. Everybody did their job, the deploy went out as usual, and the "
            "database just behaved differently under load. We wrote a postmortem and moved on.",
            "probe",
        ),
        (
            "In our culture nobody is at fault. It's no one's error; it's just the nature of running "
            "software at scale. I'd tell the CTO that we don't point fingers and that outages are part of "
            "the job. We are a blameless team and that's how we work.",
            "curveball",
        ),
        (
            "There wasn't really a single cause to point at. Systems like ours are too complex for that and "
            "failures are emergent. No specific thing broke and no one made a mistake; the incident was "
            "simply the price of operating at this scale.",
            "probe",
        ),
    ],
)
def test_fatalism_without_a_named_gap_is_blameless_to_a_fault(text, round_id):
    """Denying that anything specific failed, framed as fatalism or culture, with no gap named, is
    blameless to a fault, and not blame."""
    flags = grade(text, round_id).flags
    assert "blameless_to_a_fault" in flags and "blame" not in flags


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "There was no single root cause. The migration added a NOT NULL column with no default, our CI "
            "had no migration linter, and the deploy ran at peak traffic with no lock timeout, so the table "
            "locked for twelve minutes.",
            "probe",
        ),
        (
            "Complex systems fail in surprising ways, and this one did: the retry loop had no backoff, there "
            "was no alert on queue depth, and our load tests never covered a slow dependency, so the backlog "
            "grew for an hour before anyone saw it.",
            "probe",
        ),
        (
            "Nobody made a mistake that any of us couldn't have made; the pipeline let an unreviewed config "
            "change reach production. I'd ask the CTO to fund a validation step in CI and a canary, because "
            "a reminder email changes nothing.",
            "curveball",
        ),
    ],
)
def test_fatalist_opening_followed_by_named_gaps_is_not_a_shrug(text, round_id):
    """'No single root cause' or 'complex systems fail' followed by the specific gaps is a good answer."""
    assert "blameless_to_a_fault" not in grade(text, round_id).flags


def test_as_usual_about_a_thing_is_not_blame():
    """'The deploy went out as usual' describes a process, not a person who keeps failing."""
    text = (
        "Everybody did their job, the deploy went out as usual, and then checkout started failing for a "
        "third of users; I rolled it back within ten minutes and we found the missing index the next day."
    )
    assert "blame" not in grade(text, "opening").flags


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "I took everything on myself. I told the other engineers to stop suggesting things and let me "
            "work. I answered the VP myself, wrote the customer message myself and did the rollback myself. "
            "Within forty minutes the errors were gone and the VP thanked me.",
            "constraint",
        ),
        (
            "I decided I would own every part of it. I muted the bridge so the others would stop "
            "interrupting, wrote every status update myself, and personally called the VP. I ran the "
            "failover alone and I was the one who closed the incident.",
            "constraint",
        ),
        (
            "When search went down I handled the diagnosis myself, restarted the indexers myself and "
            "drafted the status page note myself; the rest of the team were in a planning meeting and I "
            "didn't want to pull anyone out. Search was back after 50 minutes.",
            "opening",
        ),
    ],
)
def test_repeated_myself_with_others_sidelined_is_hero(text, round_id):
    """Actions done 'myself' again and again, with others told to stop or left out, is a solo-hero story."""
    assert "hero" in grade(text, round_id).flags


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "I ran the bridge myself and personally wrote the first two updates, while Mei took over comms "
            "after that and Tunde tested the rollback in staging. I told the VP he would get an update every "
            "fifteen minutes in #inc-pay.",
            "constraint",
        ),
        (
            "I asked myself whether I could have caught it, and honestly I blamed myself at first. But the "
            "pipeline let the change through with no check, so I'd ask the CTO for a linter in CI and a "
            "canary step.",
            "curveball",
        ),
        (
            "I asked the engineers to stop suggesting fixes in the main channel and post hypotheses in a "
            "thread, so we tried one at a time. Priya took comms with updates every 15 minutes, and I stayed "
            "incident commander.",
            "constraint",
        ),
    ],
)
def test_myself_with_credited_responders_or_reflexive_is_not_hero(text, round_id):
    """'Myself' next to credited responders, a reflexive 'I asked myself', or focusing the engineers as
    incident commander is not a solo-hero story."""
    g = grade(text, round_id)
    assert "hero" not in g.flags and "too_short" not in g.flags


_OUTAGE_TAIL = (
    " The outage lasted forty minutes and about 12% of checkouts failed before we rolled back the release."
)


@pytest.mark.parametrize(
    "text",
    [
        "Oleksandr was the root cause of the incident, he ran the job against production instead of staging, "
        "so we took him off the on-call rotation and moved his pipelines to someone more senior.",
        "I agreed the person who ran the script was the cause. We removed her from the deploy rotation and "
        "gave her services to another engineer so it would not happen again.",
        "The main change was a people change: the engineer responsible was moved off the payments team and "
        "we reassigned his migrations to a senior engineer.",
        "The root cause was Dmitri, who deployed on a Friday without testing. We revoked his production "
        "access.",
        "After the postmortem we took the junior engineer off the rotation and moved his services to the "
        "platform team so he can learn first.",
    ],
)
def test_person_as_root_cause_or_personnel_remedy_is_blame(text):
    """A person named as the root cause, or a personnel action as the remedy, is blame."""
    assert "blame" in grade(text + _OUTAGE_TAIL, "probe").flags


@pytest.mark.parametrize(
    "text",
    [
        "Kafka was the root cause: a partition leader kept flapping under load.",
        "The root cause was Postgres, which took an exclusive lock on the table.",
        "The CTO wanted to take him off the rotation, but I pushed back and asked for a linter instead.",
        "My teammate ran the migration, but the root cause was the missing lock timeout.",
        "We did not take anyone off the rotation; we fixed the runbook.",
        "I took Lena off the comms role so she could focus on the database, and Omar took over the updates.",
        "The deploy that Kevin merged was the root cause, and nothing in CI checked it.",
        "Rather than moving his services to someone else, we paired him with the DBA on the fix.",
        "I took myself off the rotation for a week to write the runbook, and Sam covered my shifts.",
        "The error-rate alert fired at 14:02 and paged me before any customer noticed.",
    ],
)
def test_system_causes_and_role_changes_are_not_blame(text):
    """A system as the cause, a refused personnel action or a mid-incident role hand-off is not blame."""
    assert "blame" not in grade(text + _OUTAGE_TAIL, "probe").flags


@pytest.mark.parametrize(
    "text",
    [
        "The engineer did a mistake, yes, he set the path wrong, but the system let this mistake go to "
        "production without any check.",
        "He did a mistake, it is true, he put the wrong path in the config, but our pipeline allowed this "
        "to reach production with no validation.",
        "OK, the developer did an error, she skipped the review step. However the real problem is that the "
        "tool allowed skipping it at all.",
        "Ahmed did wrong configuration, I agree, but system did not check the config before deploy, so the "
        "mistake went to all servers.",
    ],
)
def test_conceded_mistake_redirected_to_the_system_is_not_blame(text):
    """Conceding the slip and then naming the system gap that let it through is push-back, not blame."""
    tail = (
        " I would tell the CTO that another engineer will do the same mistake next month, so we need a "
        "validation step in CI and a canary, because a reminder email changes nothing."
    )
    assert "blame" not in grade(text + tail, "curveball").flags


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "I established a regular update cadence with a fixed structure (status / quantified impact / "
            "next step). I used one channel as the single source of truth. I separated the IC and comms "
            "roles. I provided a customer-facing statement for support. I kept one line of investigation "
            "at a time. I communicated with stakeholders proactively.",
            "constraint",
        ),
        (
            "I shipped concrete guardrails with clear owners and timing. I measured the outcome with "
            "before/after numbers. I verified each change and tracked what it caught since. I reflected on "
            "my own judgement and what I would do differently. I made sure prevention was separated from "
            "mitigation and the fix.",
            "synthesis",
        ),
        (
            "I respectfully pushed back on the human error framing. I restated the causes as system gaps. I "
            "proposed two concrete guardrails. I framed the argument for the executive as outcomes. I "
            "explained that a reminder changes nothing and a guardrail protects every future deploy.",
            "curveball",
        ),
    ],
)
def test_rubric_items_restated_without_specifics_are_gaming(text, round_id):
    """First-person sentences that restate rubric items with no system, number, time, name or event are
    gaming, told why, and score below an honest medium answer."""
    g = grade(text, round_id)
    assert "gaming" in g.flags and g.score <= 12
    detail = next(f for f in g.flag_details if f.name == "gaming")
    assert "nothing specific" in detail.message


@pytest.mark.parametrize(
    ("text", "round_id"),
    [
        (
            "I tried to keep everyone informed. I posted updates in the channel when I had something new. I "
            "told the engineers to focus on one idea at a time. Support got a message they could forward to "
            "customers. It was stressful but it went okay.",
            "constraint",
        ),
        (
            "I would push back on that. I don't think it was really one person's fault. I would say that we "
            "should look at our process instead of blaming people. I think we need better checks. That would "
            "be my answer.",
            "curveball",
        ),
        (
            "I was incident commander, so I set a fifteen-minute update cadence for the VP in #inc-search. "
            "Mei took the comms role and wrote the status page notes. I told the five engineers to park "
            "their ideas in a thread and we tried the rollback first. Support pasted our customer statement "
            "into Zendesk macros.",
            "constraint",
        ),
    ],
)
def test_vague_or_specific_honest_answers_are_not_gaming_or_off_topic(text, round_id):
    """Plainly vague honest answers are weak, not gaming; specific ones are neither; both are on topic."""
    flags = grade(text, round_id).flags
    assert "gaming" not in flags and "off_topic" not in flags
