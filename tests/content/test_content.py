"""The interview content and its loader: built-in files are valid, broken files are reported precisely."""

from __future__ import annotations

import re
import sys
import textwrap
import types
from pathlib import Path

import pytest

from bot.content import (
    BUILTIN_CONTENT_DIR,
    DIMENSIONS,
    ContentError,
    ContentErrors,
    check_content,
    default_content,
    evaluate_condition,
    load_content,
)

BROKEN = Path(__file__).resolve().parents[1] / "data" / "broken_content"
ROUNDS = ("opening", "probe", "sql", "constraint", "curveball", "synthesis")


def errors_for(directory: Path) -> list[tuple[str, int | None, str, str]]:
    """Load `directory` over the built-in content and return (file name, line, key path, problem)."""
    with pytest.raises(ContentErrors) as caught:
        load_content([directory])
    return [(Path(e.file).name, e.line, e.key_path, e.problem) for e in caught.value.errors]


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# --- the built-in content -----------------------------------------------------------------------


def test_builtin_content_loads_without_errors():
    """The shipped content passes every check."""
    assert check_content() == []
    content = load_content()
    assert content.gauntlet_id == "production-incident"
    assert all(path.is_file() for path in content.sources)


def test_builtin_gauntlet_has_every_round_in_order():
    """All six rounds exist; the main path is five rounds and the SQL trap hangs off the probe round."""
    content = load_content()
    assert set(content.rounds) == set(ROUNDS)
    assert content.order == ("opening", "probe", "constraint", "curveball", "synthesis")
    assert content.round("sql").reached_from == "probe"


def test_builtin_round_weights_add_up_to_100_over_known_dimensions():
    """Every round weighs only the stable dimension keys, and its weights sum to 100."""
    for rnd in load_content().rounds.values():
        assert set(rnd.weighs) <= set(DIMENSIONS), rnd.id
        assert sum(rnd.weighs.values()) == 100, rnd.id


def test_sql_round_weighs_mostly_migration_safety():
    """The trap round is graded mainly on migration safety."""
    weighs = load_content().round("sql").weighs
    assert max(weighs, key=weighs.get) == "migration_safety"
    assert weighs["migration_safety"] > 50


def test_model_answers_are_realistic_length_with_timeline_markers():
    """Each model answer is 150-350 words, and the main-path answers carry clock times or T+ markers."""
    content = load_content()
    for rnd in content.rounds.values():
        words = len(rnd.model_answer.split())
        assert 150 <= words <= 350, (rnd.id, words)
    for round_id in content.order:
        assert re.search(r"\bT\+\d|\b\d{1,2}:\d{2}\b", content.round(round_id).model_answer), round_id


def test_sql_model_answer_writes_expand_and_contract():
    """The trap round's model answer contains the safe PostgreSQL steps in a sql fence."""
    answer = load_content().round("sql").model_answer
    fence = re.search(r"```sql\n(.*?)```", answer, re.S)
    assert fence, "no ```sql fence"
    sql = fence.group(1)
    for needle in (
        r"SET lock_timeout",
        r"ADD COLUMN (IF NOT EXISTS )?\w+ uuid;",
        r"WHERE id BETWEEN \d+ AND \d+",
        r"CHECK \(\w+ IS NOT NULL\) NOT VALID",
        r"VALIDATE CONSTRAINT",
    ):
        assert re.search(needle, sql), needle


def test_builtin_prompt_bank_is_large_and_unique():
    """The daily bank has at least 32 prompts with unique kebab-case ids and unique texts."""
    prompts = load_content().prompts
    assert len(prompts) >= 32
    assert len({p.id for p in prompts}) == len(prompts)
    assert len({p.text for p in prompts}) == len(prompts)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p.id) for p in prompts)
    assert len({p.variant for p in prompts}) >= 20


def test_builtin_probes_cover_the_required_triggers():
    """The library has the detection, hero, restart and SQL-trap probes, each with a readable reason."""
    probes = {p.id: p for p in load_content().probes}
    conds = [str(p.when) for p in probes.values()]
    assert any("no_detection" in c for c in conds)
    assert any("'hero'" in c for c in conds)
    assert any("restart_only" in c or "no_prevention" in c for c in conds)
    trap = [p for p in probes.values() if p.goto == "sql"]
    assert len(trap) == 1 and trap[0].after == ("probe",)
    assert evaluate_condition(trap[0].when, flags=set(), signals={"schema_change"}, dimensions={}, score=50)
    assert not evaluate_condition(
        trap[0].when, flags=set(), signals={"schema_change", "has_sql"}, dimensions={}, score=50
    )
    assert all(p.why.strip() and p.ask.strip() for p in probes.values())


def test_next_round_follows_the_order_and_rejoins_after_the_trap():
    """next_round walks the main path, and the SQL round continues to the round after the probe."""
    content = load_content()
    assert content.next_round("opening") == "probe"
    assert content.next_round("probe") == "constraint"
    assert content.next_round("sql") == "constraint"
    assert content.next_round("synthesis") is None


def test_unknown_round_is_a_value_error_listing_known_rounds():
    """Asking for a round that does not exist names the rounds that do."""
    with pytest.raises(ValueError, match="unknown round 'warmup'; known rounds: opening, probe"):
        load_content().round("warmup")


# --- broken content: exact file, line and key path ----------------------------------------------


def test_syntax_error_reports_file_and_parser_line():
    """A YAML syntax error names the file and the line the parser stopped on."""
    [(name, line, key_path, problem)] = errors_for(BROKEN / "syntax")
    assert (name, line, key_path) == ("prompts.yml", 5, "")
    assert problem.startswith("YAML syntax error: ")


def test_unknown_keys_suggest_the_intended_key():
    """A misspelt round key and a misspelt dimension are reported on their own lines with a suggestion."""
    assert errors_for(BROKEN / "unknown_key") == [
        ("gauntlet.yml", 5, "gauntlet.rounds.opening.promt", "unknown key 'promt'; did you mean 'prompt'?"),
        (
            "gauntlet.yml",
            9,
            "gauntlet.rounds.opening.weighs.detectoin",
            "unknown dimension 'detectoin'; did you mean 'detection'?",
        ),
    ]


def test_bad_conditions_are_reported_recursively():
    """Unknown condition names, signals, out-of-range fractions and mistyped scores are each reported."""
    assert errors_for(BROKEN / "bad_condition") == [
        (
            "probes.yml",
            15,
            "probes[2].when",
            "unknown condition 'flg'; expected one of all, any, dimension_below, flag, no_signal, not, "
            "score_below, signal",
        ),
        (
            "probes.yml",
            22,
            "probes[3].when.all[0].signal",
            "unknown signal 'schema_changes'; did you mean 'schema_change'?",
        ),
        (
            "probes.yml",
            23,
            "probes[3].when.all[1].dimension_below.detection",
            "expected a fraction from 0 to 1, got 1.5",
        ),
        (
            "probes.yml",
            24,
            "probes[3].when.all[2].not.score_below",
            "expected a whole-number score from 0 to 100, got '50'",
        ),
    ]


def test_error_string_has_file_line_key_path_and_problem():
    """str(ContentError) reads file:line: key_path: problem, the format the CLI prints."""
    errors = check_content(BROKEN / "bad_condition")
    assert str(errors[0]) == (
        f"{BROKEN / 'bad_condition' / 'probes.yml'}:15: probes[2].when: unknown condition 'flg'; "
        "expected one of all, any, dimension_below, flag, no_signal, not, score_below, signal"
    )
    assert str(ContentErrors(errors)).splitlines() == [str(e) for e in errors]


def test_unknown_rounds_in_after_and_goto_are_reported():
    """Probes that follow or jump to a round that does not exist are errors at that reference."""
    assert errors_for(BROKEN / "unknown_goto") == [
        ("probes.yml", 3, "probes[0].after[1]", "unknown round 'synthesiss'; did you mean 'synthesis'?"),
        ("probes.yml", 5, "probes[0].goto", "unknown round 'sqll'; did you mean 'sql'?"),
    ]


def test_weights_must_add_up_to_100():
    """A round whose weights sum to 90 is reported at its weighs key."""
    problem = "weights add up to 90; they must add up to 100"
    key_path = "gauntlet.rounds.synthesis.weighs"
    assert errors_for(BROKEN / "weights") == [("gauntlet.yml", 7, key_path, problem)]


def test_duplicate_ids_and_texts_are_reported():
    """A repeated prompt id in one directory and a text copied from the built-in bank are both errors."""
    errors = errors_for(BROKEN / "duplicates")
    assert [(n, line, k) for n, line, k, _ in errors] == [
        ("prompts.yml", 5, "prompts[1].id"),
        ("prompts.yml", 10, "prompts[2].text"),
    ]
    assert errors[0][3].startswith("duplicate prompt id 'team-outage' (already defined at ")
    assert errors[1][3] == "same text as prompt 'outage-you-handled' (content/prompts.yml)"


def test_wrong_types_are_errors_not_crashes():
    """Strings where lists or mappings belong, and numbers where text belongs, are reported per key."""
    assert errors_for(BROKEN / "wrong_type") == [
        ("gauntlet.yml", 2, "gauntlet.order", "expected a non-empty list of round ids, got a string"),
        ("gauntlet.yml", 4, "gauntlet.rounds.opening", "expected a mapping, got a string"),
        (
            "probes.yml",
            3,
            "probes[0].after",
            "expected a non-empty list of round ids, e.g. [opening], got a string",
        ),
        ("probes.yml", 5, "probes[0].ask", "expected a string, got an integer"),
        ("probes.yml", 6, "probes[0].why", "must not be empty"),
        ("probes.yml", 7, "probes[1]", "expected a mapping, got a string"),
    ]


def test_missing_required_keys_are_named(tmp_path):
    """A probe without `why` and a prompt without `text` are reported at their list item."""
    write(tmp_path, "probes.yml", """
        probes:
          - id: no-reason
            after: [opening]
            when: {flag: hero}
            ask: Who else was paged?
    """)
    write(tmp_path, "prompts.yml", """
        prompts:
          - id: no-text
            variant: outage
    """)
    assert errors_for(tmp_path) == [
        ("probes.yml", 2, "probes[0]", "missing required key 'why'"),
        ("prompts.yml", 2, "prompts[0]", "missing required key 'text'"),
    ]


def test_unknown_top_level_key_names_the_file(tmp_path):
    """A file whose top-level key is not a content section is an error that names the file."""
    path = write(tmp_path, "extra.yml", """
        # a comment first, so the key is on line 2
        probe:
          - id: x
    """)
    [(name, line, key_path, problem)] = errors_for(tmp_path)
    assert (name, line, key_path) == ("extra.yml", 2, "probe")
    assert problem == f"unknown top-level key 'probe' in {path}; did you mean 'probes'?"


def test_bad_yaml_values_never_crash_the_loader(tmp_path):
    """Recursive aliases, custom tags, non-string keys, duplicate keys and an empty file become errors."""
    write(tmp_path, "a.yml", "probes: &loop\n  - *loop\n")
    write(tmp_path, "b.yml", "prompts: !!python/object:os.system {}\n")
    write(tmp_path, "c.yml", "gauntlet:\n  rounds:\n    1: {}\n")
    write(tmp_path, "d.yml", "prompts: []\nprompts: []\n")
    write(tmp_path, "e.yml", "")
    problems = {(n, line, p.split(";")[0].split(" (")[0]) for n, line, _, p in errors_for(tmp_path)}
    assert ("a.yml", 1, "recursive YAML alias") in problems  # an alias is reported where its anchor is
    assert ("b.yml", 1, "unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system'") in problems
    assert ("c.yml", 3, "key '1' is not a string") in problems
    assert ("d.yml", 2, "duplicate key") in problems
    assert any(n == "e.yml" and "got an empty file" in p for n, _, p in problems)


@pytest.mark.parametrize(
    "text",
    [
        "gauntlet: []",
        "gauntlet: {rounds: {opening: {weighs: [1]}}}",
        "gauntlet: {order: [1, null, opening, opening]}",
        "probes: [{id: x, after: [], when: {}, ask: a, why: b}]",
        "probes: [{id: x, after: [opening], when: {not: [1]}, ask: a, why: b}]",
        "probes: [{id: x, after: [opening], when: {dimension_below: 3}, ask: a, why: b, goto: 5}]",
        "prompts: [{id: Bad_Id, variant: 1, text: [x]}]",
        "- a\n- b",
        "? [a, b]\n: c",
        "gauntlet: {<<: [1]}",
        "%YAML 1.1\n---\na: 1\n---\nb: 2",
        "rubric: 5",
    ],
)
def test_malformed_files_raise_content_errors_only(tmp_path, text):
    """Whatever shape a file has, loading it raises ContentErrors, never another exception."""
    write(tmp_path, "x.yml", text)
    errors = errors_for(tmp_path)
    assert errors and all(name == "x.yml" for name, *_ in errors)


def test_every_error_is_collected_not_just_the_first(tmp_path):
    """Problems in several files and several entries all come back from one load."""
    for case in ("unknown_key", "weights"):
        for source in (BROKEN / case).iterdir():
            write(tmp_path / case, source.name, source.read_text(encoding="utf-8"))
    with pytest.raises(ContentErrors) as caught:
        load_content([tmp_path / "unknown_key", tmp_path / "weights"])
    assert len(caught.value.errors) == 3


def test_probe_testing_a_dimension_its_rounds_do_not_weigh_is_reported(tmp_path):
    """A dimension_below on a dimension none of the probe's rounds weigh can never fire, so it is an error."""
    write(tmp_path, "probes.yml", """
        probes:
          - id: dead-condition
            after: [sql]
            when:
              any:
                - {dimension_below: {communication: 0.5}}
            ask: Who did you tell?
            why: No communication.
    """)
    assert errors_for(tmp_path) == [
        (
            "probes.yml",
            6,
            "probes[0].when.any[0].dimension_below.communication",
            "no round in after (sql) weighs 'communication', so this test can never apply",
        )
    ]


def test_missing_directory_is_reported(tmp_path):
    """Checking a directory that does not exist says so instead of raising."""
    missing = tmp_path / "nope"
    assert check_content(missing) == [ContentError(str(missing), None, "", "no such directory")]
    assert str(check_content(missing)[0]) == f"{missing}: no such directory"


def accept_any_rubric(monkeypatch) -> None:
    """Stand in for the rubric's own validator so these tests exercise only the loader's merging."""
    fake = types.ModuleType("bot.rubric.config")
    fake.validate_rubric_data = lambda data: []
    monkeypatch.setitem(sys.modules, "bot.rubric.config", fake)


# --- team directories ---------------------------------------------------------------------------


def test_team_directory_overrides_and_adds_by_id(tmp_path):
    """A team's round, probe and prompt with a built-in id replace it; new ids are added after."""
    write(tmp_path, "ours.yml", """
        gauntlet:
          rounds:
            opening:
              title: Our opening
              prompt: Tell us about the last payments incident you handled.
              tests: Whether the story has detection and impact.
              weighs: {detection: 60, impact: 40}
              model_answer: Our ledger alert fired at 09:12 and I led the response.
        probes:
          - id: how-did-you-find-out
            after: [opening]
            when: {signal: no_detection}
            ask: Which of our alerts fired first?
            why: No detection story.
          - id: ledger-check
            after: [synthesis]
            when: {score_below: 50}
            ask: Did the ledger reconcile afterwards?
            why: Payments incidents end with a reconciliation.
        prompts:
          - id: outage-you-handled
            variant: outage
            text: Tell us about the last outage on the payments team.
          - id: ledger-drift
            variant: data-loss
            text: Describe a time the ledger and the processor disagreed.
    """)
    builtin = load_content()
    content = load_content([tmp_path])
    assert content.round("opening").title == "Our opening"
    assert content.round("opening").weighs == {"detection": 60, "impact": 40}
    assert content.round("probe") == builtin.round("probe")
    probes = {p.id: p for p in content.probes}
    assert probes["how-did-you-find-out"].ask == "Which of our alerts fired first?"
    assert [p.id for p in content.probes][-1] == "ledger-check"
    assert len(content.probes) == len(builtin.probes) + 1
    prompts = {p.id: p for p in content.prompts}
    assert prompts["outage-you-handled"].text == "Tell us about the last outage on the payments team."
    assert len(content.prompts) == len(builtin.prompts) + 1
    assert tmp_path / "ours.yml" in content.sources


def test_team_directory_can_add_a_side_round_reached_by_goto(tmp_path):
    """A new round reached from another rejoins the main path after it, and probes may jump to it."""
    write(tmp_path, "gauntlet.yml", """
        gauntlet:
          rounds:
            comms_drill:
              title: Status page
              reached_from: constraint
              prompt: Write the status-page update you would post right now.
              tests: Customer-facing wording.
              weighs: {communication: 100}
              model_answer: "14:20 update: checkout is recovering; next update at 14:35."
    """)
    write(tmp_path, "probes.yml", """
        probes:
          - id: to-the-status-page
            after: [constraint]
            when: {dimension_below: {communication: 0.5}}
            goto: comms_drill
            ask: Let's write it.
            why: The answer did not show a customer statement.
    """)
    content = load_content([tmp_path])
    assert content.next_round("comms_drill") == "curveball"
    assert content.probes_after("constraint")[-1].goto == "comms_drill"


def test_rubric_file_is_loaded_and_deep_merged(tmp_path, monkeypatch):
    """rubric.yml mappings from each layer are merged key by key into Content.rubric."""
    accept_any_rubric(monkeypatch)
    base = tmp_path / "base"
    team = tmp_path / "team"
    for source in BUILTIN_CONTENT_DIR.glob("*.yml"):
        if source.stem != "rubric":
            write(base, source.name, source.read_text(encoding="utf-8"))
    write(base, "rubric.yml", """
        dimensions:
          detection: {label: Detection, hint: Say which alert fired.}
          impact: {label: Impact}
    """)
    write(team, "rubric.yml", """
        dimensions:
          detection: {hint: Name the alert and its threshold.}
    """)
    content = load_content([base, team], builtin=False)
    assert content.rubric == {
        "dimensions": {
            "detection": {"label": "Detection", "hint": "Name the alert and its threshold."},
            "impact": {"label": "Impact"},
        }
    }


def test_rubric_validator_errors_are_mapped_to_lines(tmp_path, monkeypatch):
    """Key paths returned by bot.rubric.config.validate_rubric_data come back with the file and line."""
    fake = types.ModuleType("bot.rubric.config")
    fake.validate_rubric_data = lambda data: [
        (("dimensions", "impact", "label"), "must not be empty"),
        (("dimensions", "detection", "hint"), "too long"),
    ]
    monkeypatch.setitem(sys.modules, "bot.rubric.config", fake)
    base = tmp_path / "base"
    for source in BUILTIN_CONTENT_DIR.glob("*.yml"):
        if source.stem != "rubric":
            write(base, source.name, source.read_text(encoding="utf-8"))
    write(base, "rubric.yml", """
        dimensions:
          detection:
            label: Detection
          impact:
            label: ""
    """)
    write(tmp_path / "team", "rubric.yml", """
        dimensions:
          detection:
            hint: A very long hint
    """)
    with pytest.raises(ContentErrors) as caught:
        load_content([base, tmp_path / "team"], builtin=False)
    assert [(Path(e.file).parent.name, e.line, e.key_path, e.problem) for e in caught.value.errors] == [
        ("base", 5, "dimensions.impact.label", "must not be empty"),
        ("team", 3, "dimensions.detection.hint", "too long"),
    ]


def test_default_content_adds_directories_from_the_environment(tmp_path, monkeypatch):
    """$GAUNTLET_CONTENT_DIR team directories are layered into the cached default content."""
    write(tmp_path, "prompts.yml", """
        prompts:
          - id: env-only-prompt
            variant: outage
            text: A prompt that only the environment's directory defines.
    """)
    monkeypatch.setenv("GAUNTLET_CONTENT_DIR", str(tmp_path))
    default_content.cache_clear()
    try:
        assert "env-only-prompt" in {p.id for p in default_content().prompts}
        assert default_content() is default_content()
    finally:
        default_content.cache_clear()


def test_check_content_returns_nothing_for_a_good_team_directory(tmp_path):
    """A valid team directory checks clean on top of the built-in content."""
    write(tmp_path, "prompts.yml", """
        prompts:
          - id: team-only
            variant: outage
            text: Tell us about the outage the team still talks about.
    """)
    assert check_content(tmp_path) == []
    assert check_content(str(tmp_path)) == []


# --- conditions ---------------------------------------------------------------------------------


def holds(cond: dict, *, flags=(), signals=(), dimensions=None, score: int = 50) -> bool:
    return evaluate_condition(
        cond, flags=set(flags), signals=set(signals), dimensions=dimensions or {}, score=score
    )


def test_leaf_conditions():
    """flag, signal, no_signal, score_below and dimension_below test one fact each."""
    assert holds({"flag": "hero"}, flags={"hero"})
    assert not holds({"flag": "hero"}, flags={"blame"})
    assert holds({"signal": "schema_change"}, signals={"schema_change"})
    assert holds({"no_signal": "has_sql"}, signals={"schema_change"})
    assert not holds({"no_signal": "has_sql"}, signals={"has_sql"})
    assert holds({"score_below": 60}, score=59)
    assert not holds({"score_below": 60}, score=60)
    assert holds({"dimension_below": {"detection": 0.5}}, dimensions={"detection": 0.25})
    assert not holds({"dimension_below": {"detection": 0.5}}, dimensions={"detection": 0.5})


def test_missing_dimension_makes_dimension_below_false():
    """A dimension the grade does not score never triggers dimension_below."""
    assert not holds({"dimension_below": {"detection": 0.5}}, dimensions={"impact": 0.0})


def test_combinators_nest():
    """all, any and not combine conditions recursively."""
    no_sql = {"not": {"any": [{"signal": "has_sql"}, {"flag": "unsafe_sql"}]}}
    cond = {"all": [{"signal": "schema_change"}, no_sql]}
    assert holds(cond, signals={"schema_change"})
    assert not holds(cond, signals={"schema_change", "has_sql"})
    assert not holds(cond, signals={"schema_change"}, flags={"unsafe_sql"})
    assert not holds(cond, signals=set())


def test_unknown_condition_is_a_value_error():
    """Evaluating a condition outside the grammar raises instead of silently returning False."""
    with pytest.raises(ValueError, match="unknown condition 'flg'"):
        holds({"flg": "hero"})
