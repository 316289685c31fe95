"""The layering the project relies on (docs/DESIGN.md, "The house"), stated as tests.

Imports run one way. On top, the edges: `bot.slack` (Slack glue) and `bot.terminal` (the `gauntlet`
command). In the middle, the capabilities: `bot.interview`, `bot.daily`, `bot.boards`, `bot.cohorts`.
At the bottom: `bot.pipeline`, `bot.content`, `bot.store` and `bot.rubric`. A wrong import fails here
with a message naming the rule it breaks.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
SLACK_PACKAGES = ("slack_bolt", "slack_sdk")

EDGES = ("slack", "terminal")
CAPABILITIES = ("interview", "daily", "boards", "cohorts")
BOTTOM = ("pipeline", "content", "store", "rubric")
# Which other capabilities a capability may import: one way, so none of them forms a loop.
CAPABILITY_IMPORTS = {
    "interview": {"boards"},  # the engine awards points: the boards' running totals must follow
    "boards": {"cohorts"},  # season boards narrowed to a cohort
    "cohorts": set(),
    "daily": set(),
}
# Which other bottom packages a bottom package may import.
BOTTOM_IMPORTS = {
    "rubric": set(),  # pure grading: handed its content, never loads it
    "content": {"rubric"},  # the rubric settings' validator and the grade types
    "store": set(),  # persistence knows no domain: running totals are a hook the boards register
    "pipeline": {"store"},  # the inbox and outbox tables live in the store
}
# Alembic's revision scripts are data loaded from files, not modules the store imports; revision 0002
# filled the running totals with the boards' own rebuild, as it must at that point of history.
NOT_MODULES = ("store/migrations",)


def _module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in BOT.rglob("*.py")
            if not any(str(p.relative_to(BOT)).startswith(skip) for skip in NOT_MODULES)}


def _resolve(importer: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def _bot_imports(module: str) -> frozenset[str]:
    """Every bot module `module` imports, at the top or inside a function (`from bot.x import y`
    counts as bot.x.y when y is a module)."""
    path = _modules()[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, path, node)
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in _modules() else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in _modules():  # `import bot.x.y` names a module; else its package
                target = target.rpartition(".")[0]
            if target.startswith("bot") and target != module:
                found.add(target)
    return frozenset(found)


def _package(module: str) -> str | None:
    """The folder of bot/ a module is in (None for bot/__init__.py and bot/__main__.py)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (BOT / parts[1]).is_dir() else None


def _crossings() -> list[tuple[str, str, str, str]]:
    """(module, its folder, imported module, that module's folder) for imports between folders."""
    out = []
    for module in sorted(_modules()):
        for target in sorted(_bot_imports(module)):
            here, there = _package(module), _package(target)
            if here and there and here != there:
                out.append((module, here, target, there))
    return out


def _offences(rule: str, allowed) -> list[str]:
    return [f"rule '{rule}': {module} imports {target}" for module, here, target, there in _crossings()
            if not allowed(here, there)]


def test_every_folder_is_in_one_layer():
    """A new folder of bot/ says where it stands: an edge, a capability or the bottom."""
    folders = {p.name for p in BOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - {*EDGES, *CAPABILITIES, *BOTTOM} == set(), (
        "rule 'every folder of bot/ is in one layer': add it to EDGES, CAPABILITIES or BOTTOM here and "
        "to docs/DESIGN.md")


def test_every_folder_says_what_lives_there_and_what_it_may_import():
    missing = []
    for init in sorted(BOT.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if "import" not in doc:
            missing.append(str(init.relative_to(BOT.parent)))
    assert missing == [], ("rule 'each folder's __init__.py docstring says what lives there and what "
                           f"it may import': {missing}")


def test_the_bottom_imports_no_capability_and_no_edge():
    """rubric, content, store and pipeline never import the interview, daily prompts, boards, cohorts,
    the Slack glue or the terminal."""
    rule = "the bottom (rubric, content, store, pipeline) imports no capability or edge"
    assert _offences(rule, lambda here, there: here not in BOTTOM or there in BOTTOM) == []


def test_capabilities_import_no_edge():
    """interview, daily, boards and cohorts never import bot.slack or bot.terminal."""
    rule = "capabilities (interview, daily, boards, cohorts) never import the Slack glue or the terminal"
    assert _offences(rule, lambda here, there: here not in CAPABILITIES or there not in EDGES) == []


def test_capabilities_import_each_other_one_way():
    rule = "a capability imports another only as CAPABILITY_IMPORTS says (interview -> boards -> cohorts)"
    assert _offences(rule, lambda here, there: here not in CAPABILITIES or there not in CAPABILITIES
                     or there in CAPABILITY_IMPORTS[here]) == []


def test_the_store_imports_no_domain_module():
    """The store keeps no domain rules: running totals are a hook the boards register
    (bot.store.models.on_points_written), not an import from the store."""
    rule = "the store imports nothing outside bot.store"
    assert _offences(rule, lambda here, there: here != "store" or there in BOTTOM_IMPORTS["store"]) == []


def test_the_rubric_is_handed_its_content():
    """The rubric imports nothing of the app's: callers hand it the content (bot.interview.grading
    holds the caller-facing default), so the rubric never reaches up into bot.content."""
    rule = "the rubric is handed its content and imports nothing outside bot.rubric"
    assert _offences(rule, lambda here, there: here != "rubric" or there in BOTTOM_IMPORTS["rubric"]) == []


def test_bottom_packages_import_each_other_one_way():
    rule = "a bottom package imports another only as BOTTOM_IMPORTS says (content->rubric, pipeline->store)"
    assert _offences(rule, lambda here, there: here not in BOTTOM or there not in BOTTOM
                     or there in BOTTOM_IMPORTS[here]) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_bot_packages():
    """No two folders of bot/ import each other, directly or round a loop (imports inside functions
    count: a deferred import still ties the two together)."""
    graph: dict[str, set[str]] = {}
    for _module, here, _target, there in _crossings():
        graph.setdefault(here, set()).add(there)
    assert _cycles(graph) == [], "rule 'no import cycle between bot packages'"


def test_no_import_cycle_between_bot_modules():
    """Nor between modules, inside a folder or across: every import, deferred or not, runs one way
    (a package's __init__ re-exporting its own modules is not a loop)."""
    graph = {m: {t for t in _bot_imports(m) if not m.startswith(t + ".")} for m in _modules()}
    assert _cycles(graph) == [], "rule 'no import cycle between bot modules'"


def test_domain_code_never_imports_slack():
    """Only bot/slack imports slack_bolt/slack_sdk: engine, rubric, store, content, scheduling, the
    pipeline's queue and the terminal never do."""
    offenders = []
    for path in BOT.rglob("*.py"):
        if "slack" in path.relative_to(BOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            offenders += [f"rule 'only bot/slack imports {'/'.join(SLACK_PACKAGES)}': "
                          f"{path.relative_to(BOT.parent)} imports {name}"
                          for name in names if name.split(".")[0] in SLACK_PACKAGES]
    assert offenders == []


def test_yaml_is_only_loaded_safely():
    """No module calls yaml.load or yaml.unsafe_load: YAML goes through safe loaders only."""
    offenders = []
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "yaml"
                and node.func.attr in {"load", "load_all", "unsafe_load", "full_load", "unsafe_load_all"}
            ):
                offenders.append(f"{path.relative_to(BOT.parent)}:{node.lineno} yaml.{node.func.attr}")
    assert offenders == []
