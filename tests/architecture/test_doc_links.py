"""Every relative link in README.md and docs/*.md points at a file that exists, and at a
heading that exists in it: the README sends newcomers to docs/ step by step, so a link
broken by a moved section would strand them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*```.*?^\s*```", re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    prose = FENCE.sub("", path.read_text())
    return {slug(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", prose, re.M)}


def relative_links(path: Path) -> list[str]:
    prose = FENCE.sub("", path.read_text())
    return [t for t in LINK.findall(prose) if not re.match(r"[a-z]+:", t)]


def test_slug_matches_githubs_rule() -> None:
    assert slug("Reliability and security") == "reliability-and-security"
    assert slug("What the demo prints") == "what-the-demo-prints"
    assert slug("FlightVault — product brief") == "flightvault--product-brief"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_relative_links_point_at_existing_files_and_headings(document: Path) -> None:
    links = relative_links(document)
    if document.name in {"README.md", "REFERENCE.md", "HOW_IT_WORKS.md"}:
        assert links, f"{document.name} links to nothing: is the pattern still right?"
    for link in links:
        target, _, anchor = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        assert path.exists(), f"{document.name}: {link} points at a missing file"
        if anchor:
            assert anchor in anchors(path), f"{document.name}: {link} names no heading"
