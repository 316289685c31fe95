"""The layering the project relies on: the domain never imports Slack."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
SLACK_PACKAGES = ("slack_bolt", "slack_sdk")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_code_never_imports_slack():
    """Engine, rubric, store, content and scheduling modules import nothing from slack_bolt/slack_sdk."""
    offenders = []
    for path in BOT.rglob("*.py"):
        if "slack" in path.relative_to(BOT).parts:
            continue
        for name in _imports(path):
            if name.split(".")[0] in SLACK_PACKAGES:
                offenders.append(f"{path.relative_to(BOT.parent)} imports {name}")
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
