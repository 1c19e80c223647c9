"""The layering reads from the tree, and this keeps it so: handlers (Slack) and bot (the
process) reach the product only through the use cases; core never reaches up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLACK = ("slack_sdk", "slack_bolt")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", modules("bot", "handlers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_outside_the_use_cases_no_module_imports_both_core_and_slack(path: Path) -> None:
    tops = {_top(n) for n in imports(path)}
    assert not ("core" in tops and tops & set(SLACK)), f"{path} imports core and Slack"


@pytest.mark.parametrize("path", modules("handlers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_listeners_reach_the_product_only_through_use_cases(path: Path) -> None:
    assert "core" not in {_top(n) for n in imports(path)}


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_nothing_above_it(path: Path) -> None:
    above = {"bot", "handlers", "usecases", *SLACK}
    assert not {_top(n) for n in imports(path)} & above


@pytest.mark.parametrize("path", modules("usecases"), ids=lambda p: str(p.relative_to(ROOT)))
def test_use_cases_do_not_reach_up_into_listeners_or_the_process(path: Path) -> None:
    names = imports(path)
    allowed = {"bot.settings", "bot.metrics", "bot.errors", "bot.ids", "bot.commands"}
    upward = {n for n in names if _top(n) == "handlers" or (_top(n) == "bot" and n not in allowed)}
    assert not upward, f"{path} imports {sorted(upward)}"
