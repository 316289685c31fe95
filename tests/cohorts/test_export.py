"""Cohort export: CSV a spreadsheet opens, JSON with the same facts, transcripts only when shared."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from cohort_factories import graded, person

from bot.cohorts.cohorts import add_members, create_cohort, set_share_answers
from bot.cohorts.export import export_cohort, export_rows
from bot.terminal.cohort_cli import register

WS = "T1"
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def _cohort(db):
    cohort = create_cohort(db, workspace=WS, name="sre", created_by="UBOSS", now=T0)
    add_members(db, cohort, "UBOSS", {"USHARE": "UTC", "UPRIVATE": "Europe/Berlin"}, now=T0)
    set_share_answers(db, WS, "sre", "USHARE", True)
    person(db, WS, "USHARE", name="Zoë Ångström", share=True, at=T0)
    person(db, WS, "UPRIVATE", name="Private", share=False, at=T0)
    graded(db, WS, "USHARE", at=T0 + timedelta(hours=1), dims={"timeline": 0.5, "blameless": 1.0},
           flags=("blame", "hero"), text="=HYPERLINK(\"http://x\") Ünïcode story, with, commas")
    graded(db, WS, "UPRIVATE", at=T0 + timedelta(hours=2), dims={"communication": 0.3},
           text="my secret incident")
    graded(db, WS, "UPRIVATE", at=T0 - timedelta(days=1), dims={"communication": 0.1})  # before joining
    graded(db, WS, "UOUTSIDER", at=T0 + timedelta(hours=3), dims={"timeline": 0.9})  # not a member


def test_csv_has_a_bom_a_header_one_row_per_answer_and_one_column_per_dimension(db):
    """The CSV decodes as UTF-8 with BOM, and each graded answer since joining is one row."""
    _cohort(db)
    raw = export_cohort(db, WS, "sre", "csv", now=T0)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    header = list(rows[0].keys())
    assert header[:9] == ["person", "name", "date", "interview", "round", "attempt", "level", "score",
                          "verdict"]
    assert header[9:12] == ["blameless", "timeline", "communication"]  # the rubric's stable order
    assert header[-3:] == ["flags", "transcript_shared", "answer"]
    assert [(r["person"], r["date"]) for r in rows] == [("USHARE", "2026-10-05 10:00"),
                                                       ("UPRIVATE", "2026-10-05 11:00")]
    shared, private = rows
    assert shared["name"] == "Zoë Ångström" and shared["flags"] == "blame;hero"
    assert (shared["timeline"], shared["blameless"], shared["communication"]) == ("50", "100", "")
    assert shared["answer"] == "'=HYPERLINK(\"http://x\") Ünïcode story, with, commas"  # never a formula
    assert private["answer"] == "" and private["transcript_shared"] == "no"


def test_json_export_carries_the_same_rows_and_withholds_unshared_answers(db):
    """JSON rows hold dimensions as a mapping, flags as a list, and null for an unshared answer."""
    _cohort(db)
    data = json.loads(export_cohort(db, WS, "sre", "json", now=T0))
    assert data["cohort"] == "sre" and len(data["rows"]) == 2
    first, second = data["rows"]
    assert first["dimensions"] == {"timeline": 50, "blameless": 100} and first["flags"] == ["blame", "hero"]
    assert second["answer"] is None and second["date"] == "2026-10-05T11:00:00+00:00"


def test_a_member_exporting_sees_their_own_answers(db):
    """The person themselves always sees their own transcript."""
    _cohort(db)
    rows = export_rows(db, WS, "sre", viewer="UPRIVATE")
    assert [r.answer for r in rows if r.person == "UPRIVATE"] == ["my secret incident"]


def test_unknown_format_is_refused(db):
    """Only csv and json are offered."""
    _cohort(db)
    with pytest.raises(ValueError, match="use csv or json"):
        export_cohort(db, WS, "sre", "xlsx", now=T0)


def test_gauntlet_export_writes_the_file_from_the_terminal(sqlite_db, tmp_path, capsys):
    """`gauntlet export --cohort sre --format csv --out FILE --workspace T1` writes the same CSV."""
    import argparse

    _cohort(sqlite_db)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out = tmp_path / "sre.csv"
    url = str(sqlite_db.url)
    args = parser.parse_args(["export", "--cohort", "sre", "--format", "csv", "--out", str(out),
                              "--workspace", WS, "--database-url", url])
    assert args.func(args) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2
    missing = parser.parse_args(["export", "--cohort", "nope", "--database-url", url])
    assert missing.func(missing) == 2
    assert "No cohort called 'nope'" in capsys.readouterr().err
