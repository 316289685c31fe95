"""Cohorts: a named group of members drilled on a cadence, run by the managers who created or joined it.

Pure domain: the Slack side parses nothing itself (`parse_cohort_command`), looks up each member's
timezone with users.info and passes it in, and asks `due_drills` / `due_reminders` what to send.
The clock is always an argument (an aware datetime), so tests control it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.content import Content, default_content
from bot.store.cohorts import Cohort, CohortDigest, CohortDrill, CohortManager, CohortMember
from bot.store.db import session_scope
from bot.store.models import Answer

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEEKDAYS = (0, 2, 4)  # Monday, Wednesday, Friday: often enough to build a habit, not noise
DEFAULT_TIME = "10:00"
# A drill whose local time passed while the bot was down is still sent within this window; older
# ones are dropped rather than arriving in the middle of someone's night.
CATCH_UP = timedelta(hours=6)
# A claimed drill that was never marked sent (the process died between claim and send) is handed out
# again after this long.
CLAIM_LEASE = timedelta(minutes=10)
DIGEST_WEEKDAY = 0  # managers get the weekly digest on Monday, at the cohort's local time
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MENTION_RE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


class CohortError(ValueError):
    """A cohort request that cannot be carried out, in words the person can act on."""


class CohortCommandError(CohortError):
    """The text after `/gauntlet cohort` could not be understood; the message includes an example."""


class CohortPermissionError(CohortError):
    """Only the cohort's creator and the managers they added may change it."""


# ---- parsing `/gauntlet cohort …` ----------------------------------------------------------------


@dataclass(frozen=True)
class CohortCommand:
    action: str  # create | add | remove | pause | resume | list | export | manager | cadence | leave | help
    name: str | None = None
    user_ids: tuple[str, ...] = ()
    until: date | None = None
    weekdays: tuple[int, ...] | None = None
    local_time: str | None = None


USAGE = {
    "create": "/gauntlet cohort create NAME [mon,wed,fri] [09:30]  e.g. /gauntlet cohort create sre-prep",
    "add": "/gauntlet cohort add [NAME] @person …  e.g. /gauntlet cohort add sre-prep @ana @bo",
    "remove": "/gauntlet cohort remove [NAME] @person  e.g. /gauntlet cohort remove sre-prep @bo",
    "pause": "/gauntlet cohort pause [NAME] @person until YYYY-MM-DD  e.g. "
             "/gauntlet cohort pause @ana until 2026-12-01",
    "resume": "/gauntlet cohort resume [NAME] @person  e.g. /gauntlet cohort resume @ana",
    "manager": "/gauntlet cohort manager [NAME] @person  e.g. /gauntlet cohort manager sre-prep @lee",
    "cadence": "/gauntlet cohort cadence [NAME] DAYS HH:MM  e.g. "
               "/gauntlet cohort cadence sre-prep mon,thu 09:30",
    "leave": "/gauntlet cohort leave NAME  e.g. /gauntlet cohort leave sre-prep",
    "list": "/gauntlet cohort list",
    "export": "/gauntlet cohort export NAME  e.g. /gauntlet cohort export sre-prep",
    "pairs": "/gauntlet cohort pairs [NAME] on weekly|biweekly | off  e.g. "
             "/gauntlet cohort pairs sre-prep on weekly",
}


def usage() -> str:
    return "Cohort commands:\n" + "\n".join(f"• {line}" for line in USAGE.values())


def _fail(action: str, problem: str) -> CohortCommandError:
    return CohortCommandError(f"{problem}\nUsage: {USAGE[action]}")


def parse_weekdays(text: str) -> tuple[int, ...]:
    """`mon,wed,fri`, `weekdays`, `daily` or a range `mon-thu` → sorted weekday numbers (Monday = 0)."""
    text = text.strip().lower()
    if text in ("weekdays", "workdays"):
        return (0, 1, 2, 3, 4)
    if text in ("daily", "everyday", "every-day"):
        return tuple(range(7))
    days: set[int] = set()
    for part in filter(None, text.split(",")):
        ends = part.split("-")
        if len(ends) > 2 or any(e[:3] not in WEEKDAY_NAMES or not _day_word(e) for e in ends):
            raise ValueError(f"'{part}' is not a day; use mon, tue, wed, thu, fri, sat, sun")
        idx = [WEEKDAY_NAMES.index(e[:3]) for e in ends]
        if len(idx) == 2:
            start, end = idx
            # A range may wrap the week: fri-mon is Friday to Monday.
            days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
        else:
            days.add(idx[0])
    if not days:
        raise ValueError("no days given; use e.g. mon,wed,fri")
    return tuple(sorted(days))


def _day_word(word: str) -> bool:
    """`wed`, `weds` and `wednesday` all name Wednesday; `w` or `wedding` do not."""
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return any(name.startswith(word) for name in full) or word in ("tues", "thur", "thurs", "weds")


def parse_local_time(text: str) -> str:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"'{text}' is not a time; use 24-hour HH:MM, e.g. 09:30")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _split_mentions(action: str, tokens: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """An optional cohort name followed by one or more Slack mentions."""
    name = None
    if tokens and not tokens[0].startswith(("<", "@")):
        name = _valid_name(action, tokens[0])
        tokens = tokens[1:]
    ids: list[str] = []
    for tok in tokens:
        m = MENTION_RE.match(tok)
        if not m:
            raise _fail(action, f"'{tok}' is not a mention; pick people with @ so Slack links them.")
        if m.group(1) not in ids:
            ids.append(m.group(1))
    if not ids:
        raise _fail(action, "Name at least one person with @.")
    return name, tuple(ids)


def _valid_name(action: str, name: str) -> str:
    lowered = name.lower()
    if not NAME_RE.match(lowered):
        raise _fail(action, f"'{name}' is not a cohort name: use up to 40 letters, digits, - or _.")
    return lowered


def parse_cohort_command(text: str) -> CohortCommand:
    """Parse the words after `/gauntlet cohort`."""
    tokens = text.split()
    if not tokens or tokens[0].lower() in ("help", "?"):
        return CohortCommand(action="help")
    action, rest = tokens[0].lower(), tokens[1:]
    if action == "create":
        if not rest:
            raise _fail("create", "Give the cohort a name.")
        name = _valid_name("create", rest[0])
        weekdays = local_time = None
        for tok in rest[1:]:
            try:
                if ":" in tok:
                    local_time = parse_local_time(tok)
                else:
                    weekdays = parse_weekdays(tok)
            except ValueError as exc:
                raise _fail("create", str(exc).capitalize() + ".") from None
        return CohortCommand(action="create", name=name, weekdays=weekdays, local_time=local_time)
    if action in ("add", "remove", "resume", "manager"):
        name, ids = _split_mentions(action, rest)
        if action in ("remove", "resume") and len(ids) != 1:
            raise _fail(action, "Name one person at a time.")
        return CohortCommand(action=action, name=name, user_ids=ids)
    if action == "pause":
        lowered = [t.lower() for t in rest]
        if "until" not in lowered:
            raise _fail("pause", "Say until when, as a date.")
        at = lowered.index("until")
        if at + 2 != len(rest):
            raise _fail("pause", "Put exactly one date after 'until'.")
        try:
            until = date.fromisoformat(rest[at + 1])
        except ValueError:
            raise _fail("pause", f"'{rest[at + 1]}' is not a date; use YYYY-MM-DD.") from None
        name, ids = _split_mentions("pause", rest[:at])
        if len(ids) != 1:
            raise _fail("pause", "Name one person at a time.")
        return CohortCommand(action="pause", name=name, user_ids=ids, until=until)
    if action == "cadence":
        name = None
        if rest and ":" not in rest[0] and len(rest) == 3:
            name, rest = _valid_name("cadence", rest[0]), rest[1:]
        if len(rest) != 2:
            raise _fail("cadence", "Give the days and the local time.")
        try:
            weekdays, local_time = parse_weekdays(rest[0]), parse_local_time(rest[1])
        except ValueError as exc:
            raise _fail("cadence", str(exc).capitalize() + ".") from None
        return CohortCommand(action="cadence", name=name, weekdays=weekdays, local_time=local_time)
    if action == "leave":
        if len(rest) != 1:
            raise _fail("leave", "Give the name of the cohort to leave.")
        return CohortCommand(action="leave", name=_valid_name("leave", rest[0]))
    if action == "list":
        if rest:
            raise _fail("list", "`list` takes nothing after it.")
        return CohortCommand(action="list")
    if action == "export":
        if len(rest) > 1:
            raise _fail("export", "Give one cohort name.")
        return CohortCommand(action="export", name=_valid_name("export", rest[0]) if rest else None)
    raise CohortCommandError(f"Unknown cohort command '{tokens[0]}'.\n{usage()}")


# ---- managing cohorts ----------------------------------------------------------------------------


def check_tz(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CohortError(f"'{tz}' is not a known IANA timezone (e.g. Europe/Berlin).") from None
    return tz


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("pass an aware datetime for now (UTC)")
    return now.astimezone(UTC)


def create_cohort(
    db: Engine, *, workspace: str, name: str, created_by: str, now: datetime,
    weekdays: tuple[int, ...] | None = None, local_time: str | None = None, creator_tz: str = "UTC",
) -> Cohort:
    """Create a cohort; its creator becomes its first manager."""
    name = _valid_name("create", name)
    days = sorted(set(weekdays if weekdays is not None else DEFAULT_WEEKDAYS))
    if not days or any(d not in range(7) for d in days):
        raise CohortError("Weekdays are numbers 0 (Monday) to 6 (Sunday).")
    at = parse_local_time(local_time or DEFAULT_TIME)
    stamp = _utc(now)
    try:
        with session_scope(db) as s:
            cohort = Cohort(workspace=workspace, name=name, created_by=created_by, weekdays=days,
                            local_time=at, created_at=stamp)
            s.add(cohort)
            s.flush()
            s.add(CohortManager(cohort_id=cohort.id, workspace=workspace, user_id=created_by,
                                tz=check_tz(creator_tz), added_at=stamp))
            return cohort
    except IntegrityError:
        raise CohortError(f"A cohort called '{name}' already exists here; pick another name.") from None


def get_cohort(db: Engine, workspace: str, name: str) -> Cohort:
    with Session(db) as s:
        cohort = s.exec(
            select(Cohort).where(Cohort.workspace == workspace, Cohort.name == name.lower())
        ).first()
    if cohort is None:
        raise CohortError(f"No cohort called '{name}' here. See them with /gauntlet cohort list.")
    return cohort


def resolve_cohort(db: Engine, workspace: str, actor: str, name: str | None) -> Cohort:
    """The named cohort, or the only cohort the actor runs when no name is given."""
    if name is not None:
        return get_cohort(db, workspace, name)
    run = cohorts_managed_by(db, workspace, actor)
    if len(run) == 1:
        return run[0]
    if not run:
        raise CohortError("You do not run a cohort yet. Start one: /gauntlet cohort create NAME")
    names = ", ".join(c.name for c in run)
    raise CohortError(f"You run several cohorts ({names}); say which one, e.g. add {run[0].name} @person.")


def cohorts_managed_by(db: Engine, workspace: str, user_id: str) -> list[Cohort]:
    with Session(db) as s:
        return list(s.exec(
            select(Cohort).join(CohortManager, col(CohortManager.cohort_id) == col(Cohort.id))
            .where(Cohort.workspace == workspace, CohortManager.user_id == user_id).order_by(Cohort.name)
        ))


def is_manager(db: Engine, cohort: Cohort, user_id: str) -> bool:
    """The creator and the managers they added run a cohort."""
    if cohort.created_by == user_id:
        return True
    with Session(db) as s:
        return s.exec(select(CohortManager.id).where(
            CohortManager.cohort_id == cohort.id, CohortManager.user_id == user_id
        )).first() is not None


def require_manager(db: Engine, cohort: Cohort, user_id: str) -> None:
    if not is_manager(db, cohort, user_id):
        raise CohortPermissionError(
            f"Only the managers of '{cohort.name}' can change it; ask one of them to add you as a manager."
        )


def add_members(
    db: Engine, cohort: Cohort, actor: str, members: dict[str, str], *, now: datetime
) -> list[str]:
    """Add members who have already agreed to join (user id → IANA tz). Returns the ids newly added;
    people already in stay as they are. People added by someone else are invited instead
    (`invite_members`) and join when they accept."""
    return _add(db, cohort, actor, members, now=now, accepted=True)


def invite_members(
    db: Engine, cohort: Cohort, actor: str, members: dict[str, str], *, now: datetime
) -> list[str]:
    """Invite people to the cohort (user id → IANA tz). Nothing is sent to them or shown about them
    until they accept. Returns the ids newly invited (people already in or invited are left alone)."""
    return _add(db, cohort, actor, members, now=now, accepted=False)


def _add(db: Engine, cohort: Cohort, actor: str, members: dict[str, str], *, now: datetime,
         accepted: bool) -> list[str]:
    require_manager(db, cohort, actor)
    for tz in members.values():
        check_tz(tz)
    added = []
    stamp = _utc(now)
    with session_scope(db) as s:
        present = set(s.exec(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)))
        for user_id, tz in members.items():
            if user_id in present:
                continue
            s.add(CohortMember(cohort_id=cohort.id, workspace=cohort.workspace, user_id=user_id, tz=tz,
                               joined_at=stamp, accepted_at=stamp if accepted else None, invited_by=actor))
            added.append(user_id)
    return added


def invitation(db: Engine, cohort_id: int, user_id: str) -> tuple[Cohort, CohortMember] | None:
    """The person's membership of the cohort (invited or accepted), with the cohort."""
    with Session(db) as s:
        cohort = s.get(Cohort, cohort_id)
        if cohort is None:
            return None
        member = _member(s, cohort, user_id)
        return (cohort, member) if member is not None else None


def accept_invitation(db: Engine, cohort_id: int, user_id: str, *, now: datetime) -> Cohort:
    """The invited person agrees to join: from now on they get drills and their managers see their
    cohort and channel scores (never anything from before this moment)."""
    found = invitation(db, cohort_id, user_id)
    if found is None:
        raise CohortError("That invitation is no longer open (the cohort was removed, or you were taken "
                          "off it).")
    cohort, member = found
    if member.accepted_at is not None:
        return cohort
    with session_scope(db) as s:
        s.exec(update(CohortMember).where(  # type: ignore[call-overload]
            col(CohortMember.id) == member.id, CohortMember.accepted_at == None,  # noqa: E711
        ).values(accepted_at=_utc(now), joined_at=_utc(now)))
    return cohort


def decline_invitation(db: Engine, cohort_id: int, user_id: str) -> Cohort | None:
    """The invited person says no: the invitation is gone. Returns the cohort, None if there was none."""
    found = invitation(db, cohort_id, user_id)
    if found is None or found[1].accepted_at is not None:
        return found[0] if found else None
    with session_scope(db) as s:
        row = s.get(CohortMember, found[1].id)
        if row is not None:
            s.delete(row)
    return found[0]


def leave_cohort(db: Engine, workspace: str, name: str, user_id: str) -> Cohort:
    """Any member leaves any cohort they are in, whoever added them; their history stays theirs."""
    cohort = get_cohort(db, workspace, name)
    with session_scope(db) as s:
        member = _member(s, cohort, user_id)
        if member is None:
            raise CohortError(f"You are not in '{cohort.name}'.")
        s.delete(member)
    return cohort


def set_share_answers(db: Engine, workspace: str, name: str, user_id: str, share: bool) -> Cohort:
    """The member's choice for one cohort: its managers may read their answers and see their private
    (DM) drills. Other cohorts, and everyone else, see none of it."""
    cohort = get_cohort(db, workspace, name)
    with session_scope(db) as s:
        member = _member(s, cohort, user_id)
        if member is None or member.accepted_at is None:
            raise CohortError(f"You are not in '{cohort.name}', so there is nothing to share with it.")
        member.share_answers = share
        s.add(member)
    return cohort


def remove_member(db: Engine, cohort: Cohort, actor: str, user_id: str) -> bool:
    require_manager(db, cohort, actor)
    with session_scope(db) as s:
        member = _member(s, cohort, user_id)
        if member is None:
            return False
        s.delete(member)
        return True


def add_manager(
    db: Engine, cohort: Cohort, actor: str, user_id: str, *, now: datetime, tz: str = "UTC"
) -> bool:
    require_manager(db, cohort, actor)
    check_tz(tz)
    try:
        with session_scope(db) as s:
            s.add(CohortManager(cohort_id=cohort.id, workspace=cohort.workspace, user_id=user_id, tz=tz,
                                added_at=_utc(now)))
        return True
    except IntegrityError:
        return False


def pause_member(db: Engine, cohort: Cohort, actor: str, user_id: str, until: date | None) -> None:
    """No drills for this member on local dates before `until` (None resumes them now)."""
    require_manager(db, cohort, actor)
    with session_scope(db) as s:
        member = _member(s, cohort, user_id)
        if member is None:
            raise CohortError(f"<@{user_id}> is not in '{cohort.name}'.")
        member.paused_until = until
        s.add(member)


def set_cadence(db: Engine, cohort: Cohort, actor: str, weekdays: tuple[int, ...], local_time: str) -> Cohort:
    require_manager(db, cohort, actor)
    if not weekdays or any(d not in range(7) for d in weekdays):
        raise CohortError("Weekdays are numbers 0 (Monday) to 6 (Sunday).")
    with session_scope(db) as s:
        row = s.get(Cohort, cohort.id)
        assert row is not None
        row.weekdays = sorted(set(weekdays))
        row.local_time = parse_local_time(local_time)
        s.add(row)
        return row


def update_timezone(db: Engine, workspace: str, user_id: str, tz: str) -> int:
    """Record a person's timezone (from users.info) on every cohort they are in or run."""
    check_tz(tz)
    with session_scope(db) as s:
        n = 0
        for table in (CohortMember, CohortManager):
            result = s.exec(  # type: ignore[call-overload]
                update(table).where(col(table.workspace) == workspace, col(table.user_id) == user_id,
                                    col(table.tz) != tz).values(tz=tz)
            )
            n += result.rowcount or 0
        return n


def members(db: Engine, cohort: Cohort) -> list[CohortMember]:
    """The people who accepted; invitations still open are not members."""
    with Session(db) as s:
        return list(s.exec(select(CohortMember).where(CohortMember.cohort_id == cohort.id,
                                                      col(CohortMember.accepted_at).is_not(None))
                           .order_by(CohortMember.user_id)))


def invited(db: Engine, cohort: Cohort) -> list[CohortMember]:
    """Invitations not yet accepted."""
    with Session(db) as s:
        return list(s.exec(select(CohortMember).where(CohortMember.cohort_id == cohort.id,
                                                      col(CohortMember.accepted_at).is_(None))
                           .order_by(CohortMember.user_id)))


def managers(db: Engine, cohort: Cohort) -> list[CohortManager]:
    with Session(db) as s:
        return list(s.exec(select(CohortManager).where(CohortManager.cohort_id == cohort.id)
                           .order_by(CohortManager.id)))


@dataclass(frozen=True)
class CohortSummary:
    name: str
    role: str  # manager | member | invited
    members: int
    cadence: str
    paused_until: date | None = None


def describe_cadence(cohort: Cohort) -> str:
    days = ", ".join(WEEKDAY_NAMES[d].capitalize() for d in cohort.weekdays)
    return f"{days} at {cohort.local_time} (each member's local time)"


def list_cohorts(db: Engine, workspace: str, user_id: str) -> list[CohortSummary]:
    """The cohorts this person runs or belongs to."""
    out: list[CohortSummary] = []
    with Session(db) as s:
        cohorts = s.exec(select(Cohort).where(Cohort.workspace == workspace).order_by(Cohort.name)).all()
        for c in cohorts:
            roster = s.exec(select(CohortMember).where(CohortMember.cohort_id == c.id)).all()
            mine = next((m for m in roster if m.user_id == user_id), None)
            runs = c.created_by == user_id or s.exec(select(CohortManager.id).where(
                CohortManager.cohort_id == c.id, CohortManager.user_id == user_id)).first() is not None
            if runs or mine is not None:
                role = "manager" if runs else "member" if mine.accepted_at is not None else "invited"
                out.append(CohortSummary(
                    name=c.name, role=role, members=sum(m.accepted_at is not None for m in roster),
                    cadence=describe_cadence(c), paused_until=mine.paused_until if mine else None,
                ))
    return out


def _member(s: Session, cohort: Cohort, user_id: str) -> CohortMember | None:
    return s.exec(select(CohortMember).where(
        CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id)).first()


# ---- turned off when Slack refuses for good ------------------------------------------------------------


def turn_off_member_drills(db: Engine, workspace: str, cohort_name: str, user_id: str,
                           reason: str) -> str | None:
    """Stop sending this member drills (Slack can never reach them). Returns the cohort's creator when this
    call turned them off, None when they were off already, so the creator is told once."""
    with session_scope(db) as s:
        cohort = s.exec(select(Cohort).where(Cohort.workspace == workspace,
                                             Cohort.name == cohort_name)).first()
        if cohort is None:
            return None
        result = s.exec(update(CohortMember).where(  # type: ignore[call-overload]
            col(CohortMember.cohort_id) == cohort.id, col(CohortMember.user_id) == user_id,
            CohortMember.drills_off_reason == None,  # noqa: E711
        ).values(drills_off_reason=reason[:300]))
        return cohort.created_by if result.rowcount == 1 else None


def turn_off_digest(db: Engine, workspace: str, cohort_name: str, manager_id: str,
                    reason: str) -> str | None:
    """Stop this manager's weekly digest. Returns the cohort's creator when this call turned it off."""
    with session_scope(db) as s:
        cohort = s.exec(select(Cohort).where(Cohort.workspace == workspace,
                                             Cohort.name == cohort_name)).first()
        if cohort is None:
            return None
        result = s.exec(update(CohortManager).where(  # type: ignore[call-overload]
            col(CohortManager.cohort_id) == cohort.id, col(CohortManager.user_id) == manager_id,
            CohortManager.digest_off_reason == None,  # noqa: E711
        ).values(digest_off_reason=reason[:300]))
        return cohort.created_by if result.rowcount == 1 else None


def turn_off_workspace(db: Engine, workspace: str, reason: str) -> int:
    """The app was removed from a workspace (uninstalled, token revoked): every cohort drill and digest
    there stops. Returns how many were turned off."""
    with session_scope(db) as s:
        n = 0
        for table, column in ((CohortMember, "drills_off_reason"), (CohortManager, "digest_off_reason")):
            result = s.exec(update(table).where(  # type: ignore[call-overload]
                col(table.workspace) == workspace, getattr(table, column) == None,  # noqa: E711
            ).values({column: reason[:300]}))
            n += result.rowcount or 0
        return n


# ---- cadence: which drills are due now -------------------------------------------------------------


@dataclass(frozen=True)
class DueDrill:
    workspace: str
    cohort: str
    user_id: str
    local_date: date
    due_at_utc: datetime
    target_dimension: str | None
    target_round: str
    drill_id: int = 0


@dataclass(frozen=True)
class DueReminder:
    workspace: str
    cohort: str
    user_id: str
    drill_id: int
    interview_id: int | None
    target_round: str
    sent_at_utc: datetime


def local_due_at(day: date, local_time: str, tz: str) -> datetime:
    """The UTC instant of `local_time` on `day` in `tz`.

    A wall time skipped by a spring-forward change is moved forward by the gap (02:30 → 03:30); a
    repeated one in autumn means its first occurrence. Either way the drill arrives once that day."""
    hh, mm = (int(x) for x in local_time.split(":"))
    zone = ZoneInfo(tz)
    wall = datetime.combine(day, time(hh, mm), tzinfo=zone)
    return wall.astimezone(UTC)


def _is_due_day(cohort: Cohort, member: CohortMember, day: date) -> bool:
    if day.weekday() not in cohort.weekdays:
        return False
    return member.paused_until is None or day >= member.paused_until


def due_drills(
    db: Engine, now: datetime, *, content: Content | None = None, catch_up: timedelta = CATCH_UP,
) -> list[DueDrill]:
    """Claim and return every drill whose local time has come (within the catch-up window).

    Each (cohort, member, local date) is claimed by inserting its row; a second caller, even in
    another process, gets nothing for the same drill. A claim never marked sent is handed out again
    after CLAIM_LEASE."""
    from bot.cohorts.progress import next_drill_round, weakest_dimension

    content = content or default_content()
    now_utc = now.astimezone(UTC)
    stamp = _utc(now)
    out: list[DueDrill] = []
    with Session(db) as s:
        rows = s.exec(
            select(CohortMember, Cohort).join(Cohort, col(Cohort.id) == col(CohortMember.cohort_id))
        ).all()
        claimed = {(d.cohort_id, d.user_id, d.local_date) for d in s.exec(
            select(CohortDrill).where(col(CohortDrill.due_at) >= stamp - catch_up - timedelta(days=2)))}
    for member, cohort in rows:
        if member.accepted_at is None or member.drills_off_reason is not None:
            continue  # invited but not (yet) accepted, or Slack can no longer reach them
        local_today = now_utc.astimezone(ZoneInfo(member.tz)).date()
        for day in (local_today - timedelta(days=1), local_today):
            if (cohort.id, member.user_id, day) in claimed or not _is_due_day(cohort, member, day):
                continue
            due = local_due_at(day, cohort.local_time, member.tz)
            if not (due <= now_utc < due + catch_up) or due < member.joined_at:
                continue
            dimension = weakest_dimension(db, cohort.workspace, member.user_id)
            target = next_drill_round(content, dimension)
            drill = CohortDrill(
                cohort_id=cohort.id, workspace=cohort.workspace, user_id=member.user_id, local_date=day,
                due_at=due, target_dimension=dimension, target_round=target,
                claimed_at=stamp,
            )
            try:
                with session_scope(db) as s:
                    s.add(drill)
                    s.flush()
                    drill_id = drill.id
            except IntegrityError:
                continue  # another process claimed it first
            out.append(DueDrill(cohort.workspace, cohort.name, member.user_id, day, due, dimension, target,
                                drill_id or 0))
    out.extend(_reclaim_stale(db, now))
    return out


def _reclaim_stale(db: Engine, now: datetime) -> list[DueDrill]:
    stamp = _utc(now)
    out = []
    with Session(db) as s:
        stale = s.exec(select(CohortDrill, Cohort).join(
            Cohort, col(Cohort.id) == col(CohortDrill.cohort_id)
        ).join(CohortMember, (col(CohortMember.cohort_id) == col(CohortDrill.cohort_id))
               & (col(CohortMember.user_id) == col(CohortDrill.user_id))).where(
            CohortMember.drills_off_reason == None,  # noqa: E711  (not turned off)
            CohortDrill.sent_at == None,  # noqa: E711  (SQL IS NULL)
            col(CohortDrill.claimed_at) <= stamp - CLAIM_LEASE,
            col(CohortDrill.due_at) >= stamp - CATCH_UP,
        )).all()
    for drill, cohort in stale:
        with session_scope(db) as s:
            # Compare-and-set on the old claim time: only one process wins the re-claim.
            result = s.exec(update(CohortDrill).where(  # type: ignore[call-overload]
                col(CohortDrill.id) == drill.id, col(CohortDrill.claimed_at) == drill.claimed_at,
                CohortDrill.sent_at == None,  # noqa: E711
            ).values(claimed_at=stamp))
        if result.rowcount == 1:
            out.append(DueDrill(cohort.workspace, cohort.name, drill.user_id, drill.local_date,
                                drill.due_at, drill.target_dimension, drill.target_round,
                                drill.id or 0))
    return out


def mark_drill_sent(db: Engine, drill_id: int, *, interview_id: int | None, now: datetime) -> None:
    """Record that the drill reached the member (and which interview it started)."""
    with session_scope(db) as s:
        drill = s.get(CohortDrill, drill_id)
        if drill is None:
            raise CohortError(f"No cohort drill #{drill_id}.")
        drill.sent_at = _utc(now)
        drill.interview_id = interview_id
        s.add(drill)


def _answered(s: Session, drill: CohortDrill) -> bool:
    if drill.interview_id is None:
        return False
    return s.exec(select(Answer.id).where(Answer.interview_id == drill.interview_id)).first() is not None


def due_reminders(db: Engine, now: datetime) -> list[DueReminder]:
    """Claim and return one reminder per sent, still unanswered drill whose reminder time has come.

    The claim is a compare-and-set of `reminded_at` from NULL, so a reminder goes out at most once
    even with two schedulers. A member paused since the drill was sent is not reminded."""
    stamp = _utc(now)
    out = []
    with Session(db) as s:
        rows = s.exec(
            select(CohortDrill, Cohort, CohortMember)
            .join(Cohort, col(Cohort.id) == col(CohortDrill.cohort_id))
            .join(CohortMember, (col(CohortMember.cohort_id) == col(CohortDrill.cohort_id))
                  & (col(CohortMember.user_id) == col(CohortDrill.user_id)))
            .where(col(CohortDrill.sent_at) != None, CohortDrill.reminded_at == None)  # noqa: E711
        ).all()
        candidates = []
        for drill, cohort, member in rows:
            assert drill.sent_at is not None
            if stamp < drill.sent_at + timedelta(minutes=cohort.remind_after_minutes):
                continue
            local_today = now.astimezone(ZoneInfo(member.tz)).date()
            if member.paused_until is not None and local_today < member.paused_until:
                continue
            if local_today > drill.local_date + timedelta(days=1):
                continue  # a day-old drill is not worth a nudge; the next one is coming
            if _answered(s, drill):
                continue
            candidates.append((drill, cohort))
    for drill, cohort in candidates:
        with session_scope(db) as s:
            result = s.exec(update(CohortDrill).where(  # type: ignore[call-overload]
                col(CohortDrill.id) == drill.id, CohortDrill.reminded_at == None,  # noqa: E711
            ).values(reminded_at=stamp))
        if result.rowcount == 1:
            assert drill.sent_at is not None
            out.append(DueReminder(cohort.workspace, cohort.name, drill.user_id, drill.id or 0,
                                   drill.interview_id, drill.target_round, drill.sent_at))
    return out


# ---- weekly digests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDigest:
    workspace: str
    cohort: str
    manager_id: str
    week_start: date  # the Monday (manager's local date) the digest is for; it covers the 7 days before
    digest_id: int


def due_digests(db: Engine, now: datetime, *, catch_up: timedelta = timedelta(days=1)) -> list[DueDigest]:
    """Claim the weekly digest for each manager on Monday at the cohort's time in the manager's timezone."""
    now_utc = now.astimezone(UTC)
    out = []
    with Session(db) as s:
        rows = s.exec(
            select(CohortManager, Cohort).join(Cohort, col(Cohort.id) == col(CohortManager.cohort_id))
        ).all()
    for manager, cohort in rows:
        if manager.digest_off_reason is not None:
            continue
        local_today = now_utc.astimezone(ZoneInfo(manager.tz)).date()
        monday = local_today - timedelta(days=(local_today.weekday() - DIGEST_WEEKDAY) % 7)
        due = local_due_at(monday, cohort.local_time, manager.tz)
        created = cohort.created_at
        if not (due <= now_utc < due + catch_up) or due < created:
            continue  # not yet (or too late), or a week from before the cohort existed
        try:
            with session_scope(db) as s:
                row = CohortDigest(cohort_id=cohort.id, workspace=cohort.workspace, user_id=manager.user_id,
                                   week_start=monday, claimed_at=_utc(now))
                s.add(row)
                s.flush()
                digest_id = row.id or 0
        except IntegrityError:
            continue
        out.append(DueDigest(cohort.workspace, cohort.name, manager.user_id, monday, digest_id))
    return out


def release_digest(db: Engine, digest_id: int) -> None:
    """Give back the claim of a digest whose sending failed for a passing reason, so it is sent on a
    later run (within the day's catch-up) instead of being lost."""
    with session_scope(db) as s:
        row = s.get(CohortDigest, digest_id)
        if row is not None and row.sent_at is None:
            s.delete(row)


def mark_digest_sent(db: Engine, digest_id: int, *, now: datetime) -> None:
    with session_scope(db) as s:
        row = s.get(CohortDigest, digest_id)
        if row is None:
            raise CohortError(f"No digest #{digest_id}.")
        row.sent_at = _utc(now)
        s.add(row)
