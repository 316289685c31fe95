"""Who may see what, and forgetting a person completely.

- A member sees their own transcripts; nobody else does unless the member agreed to share them.
- Joining a cohort takes the member's acceptance; managers of a cohort the member accepted see the
  member's scores from joining on, and answers and private drills only when shared with that cohort.
- `forget_person` deletes a person's rows from every table, found from `SQLModel.metadata` rather
  than a list, so a table added later is covered without touching this module.
"""

from __future__ import annotations

import json

from sqlalchemy import JSON, String, Table, delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from bot.store.cohorts import Cohort, CohortManager, CohortMember

OWNER_COLUMN = "user_id"  # a row with this column belongs to that person and is deleted with them
# String columns with these name endings point at a person without the row being theirs (who created
# a cohort, who set a schedule). They are cleared, or set to FORGOTTEN when the column is required.
REFERENCE_SUFFIXES = ("_by", "_user", "_user_id")
FORGOTTEN = "forgotten"


# ---- who sees what ---------------------------------------------------------------------------------


def _managed_memberships(s: Session, workspace: str, manager_id: str, member_id: str) -> list[CohortMember]:
    """The member's accepted memberships of cohorts `manager_id` runs."""
    run = {c for c in s.exec(sm_select(CohortManager.cohort_id).where(
        CohortManager.workspace == workspace, CohortManager.user_id == manager_id))}
    run |= {c for c in s.exec(sm_select(Cohort.id).where(
        Cohort.workspace == workspace, Cohort.created_by == manager_id))}
    if not run:
        return []
    return list(s.exec(sm_select(CohortMember).where(
        CohortMember.user_id == member_id, col(CohortMember.cohort_id).in_(run),
        col(CohortMember.accepted_at).is_not(None))))


def manages_member(db: Engine, workspace: str, manager_id: str, member_id: str) -> bool:
    """Whether `manager_id` runs a cohort that `member_id` accepted to join."""
    with Session(db) as s:
        return bool(_managed_memberships(s, workspace, manager_id, member_id))


def shares_transcripts(db: Engine, workspace: str, user_id: str) -> list[str]:
    """The names of the cohorts whose managers this person lets read their answers (empty: none)."""
    with Session(db) as s:
        return list(s.exec(sm_select(Cohort.name)
                           .join(CohortMember, col(CohortMember.cohort_id) == col(Cohort.id))
                           .where(CohortMember.workspace == workspace, CohortMember.user_id == user_id,
                                  CohortMember.share_answers == True)  # noqa: E712
                           .order_by(Cohort.name)))


def can_see_scores(db: Engine, workspace: str, viewer: str, subject: str) -> bool:
    return viewer == subject or manages_member(db, workspace, viewer, subject)


def can_see_transcript(db: Engine, workspace: str, viewer: str, subject: str) -> bool:
    """The person themselves, or a manager of a cohort the person chose to share their answers with."""
    if viewer == subject:
        return True
    with Session(db) as s:
        return any(m.share_answers for m in _managed_memberships(s, workspace, viewer, subject))


# ---- forgetting --------------------------------------------------------------------------------------


def _scope(table: Table, column: str, value: str, workspace: str):
    cond = table.c[column] == value
    if "workspace" in table.c:
        cond = cond & (table.c.workspace == workspace)
    return cond


def forget_person(db: Engine, workspace: str, user_id: str) -> dict[str, int]:
    """Delete everything held about a person in a workspace. Returns rows changed per table.

    Rows with a `user_id` column equal to the person are deleted (answers, grades, points,
    interviews, the person, memberships, drills…), along with rows that depend on them through a
    required foreign key; optional foreign keys to them are cleared. Columns that only mention the
    person (`created_by`, `…_by`, `…_user`) are cleared, and the person is removed from JSON lists
    (e.g. a channel's managers). All in one transaction: it all happens or none of it does."""
    tables = list(SQLModel.metadata.sorted_tables)
    counts: dict[str, int] = {}

    def bump(name: str, n: int) -> None:
        if n:
            counts[name] = counts.get(name, 0) + n

    with db.begin() as conn:
        targets = _rows_to_delete(conn, tables, workspace, user_id, bump)
        for table in reversed(tables):
            ids = targets.get(table.name)
            if ids:
                (pk,) = table.primary_key.columns
                for chunk in _chunks(sorted(ids)):
                    bump(table.name, conn.execute(delete(table).where(pk.in_(chunk))).rowcount or 0)
        for table in tables:
            for column in table.c:
                if _is_text(column.type) and column.name.endswith(REFERENCE_SUFFIXES):
                    replacement = None if column.nullable else FORGOTTEN
                    result = conn.execute(update(table).where(_scope(table, column.name, user_id, workspace))
                                          .values({column.name: replacement}))
                    bump(table.name, result.rowcount or 0)
                elif isinstance(column.type, JSON):
                    bump(table.name, _scrub_json(conn, table, column.name, workspace, user_id))
    return counts


def _is_text(kind) -> bool:
    # SQLModel wraps strings in a TypeDecorator (AutoString), so look through to what it stores.
    return isinstance(kind, String) or isinstance(getattr(kind, "impl", None), String)


def _chunks(ids: list, size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _rows_to_delete(
    conn: Connection, tables: list[Table], workspace: str, user_id: str, bump
) -> dict[str, set]:
    """The person's own rows, plus (to a fixed point) rows that cannot exist without them."""
    targets: dict[str, set] = {}
    for table in tables:
        if OWNER_COLUMN in table.c and len(table.primary_key.columns) == 1:
            (pk,) = table.primary_key.columns
            own = _scope(table, OWNER_COLUMN, user_id, workspace)
            targets[table.name] = set(conn.scalars(select(pk).where(own)))
    changed = True
    while changed:
        changed = False
        for table in tables:
            if len(table.primary_key.columns) != 1:
                continue
            (pk,) = table.primary_key.columns
            for fk in table.foreign_keys:
                parent_ids = targets.get(fk.column.table.name)
                if not parent_ids:
                    continue
                mine = targets.setdefault(table.name, set())
                for chunk in _chunks(sorted(parent_ids)):
                    dependants = set(conn.scalars(select(pk).where(fk.parent.in_(chunk)))) - mine
                    if not dependants:
                        continue
                    if fk.parent.nullable:
                        result = conn.execute(update(table).where(pk.in_(sorted(dependants)))
                                              .values({fk.parent.name: None}))
                        bump(table.name, result.rowcount or 0)
                    else:
                        mine |= dependants
                        changed = True
    return targets


def _without(value, user_id: str):
    """`value` with every occurrence of the user id removed from lists and dicts (keys and values)."""
    if isinstance(value, list):
        return [_without(v, user_id) for v in value if v != user_id]
    if isinstance(value, dict):
        return {k: _without(v, user_id) for k, v in value.items() if k != user_id and v != user_id}
    return value


def _scrub_json(conn: Connection, table: Table, column: str, workspace: str, user_id: str) -> int:
    if len(table.primary_key.columns) != 1:
        return 0
    (pk,) = table.primary_key.columns
    q = select(pk, table.c[column])
    if "workspace" in table.c:
        q = q.where(table.c.workspace == workspace)
    needle = json.dumps(user_id)
    changed = 0
    for row_id, value in conn.execute(q).all():
        if value is None or needle not in json.dumps(value):
            continue
        cleaned = _without(value, user_id)
        if cleaned != value:
            conn.execute(update(table).where(pk == row_id).values({column: cleaned}))
            changed += 1
    return changed


def remaining_mentions(db: Engine, user_id: str) -> dict[str, int]:
    """Rows in any table where the user id still appears in any column (for tests and audits)."""
    found: dict[str, int] = {}
    with db.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            n = 0
            for row in conn.execute(select(table)).mappings():
                for value in row.values():
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    if user_id in text:
                        n += 1
                        break
            if n:
                found[table.name] = n
    return found
