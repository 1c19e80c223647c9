"""``flightvault demo`` plays the seed story and restores what was lost."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.demo import Demo
from tests.conftest import fresh_database


def test_demo_restores_mumbai_and_keeps_later_writes(server_url: URL, tmp_path: Path) -> None:
    printed: list[str] = []
    with fresh_database(server_url, "fvdemo") as url:  # its own name: runs may overlap
        database = make_url(url).database
        assert database is not None
        result = Demo(server_url, tmp_path / "json", printed.append, database=database).run()
    before, after = result["before"], result["after"]
    assert after["mumbai"] == 2 and after["later"] == 1
    assert after["airports"] == before["airports"] + 1
    assert after["routes"] == before["routes"]
    transcript = "\n".join(printed)
    for line in (
        ":rotating_light: 2 rows deleted from airports",
        "rows removed _(via fk_routes_destination ON DELETE CASCADE",
        "Restore point for `airports`",
        "You requested this restore, so a second, different person must approve it.",
        "Restored `airports`",
        "Verified: 352 rows equal their versions at",
    ):
        assert line in transcript
    header = ":rotating_light: 2 rows deleted from airports"
    assert f"  │ {header}\n  │ {'━' * len(header)}\n" in transcript  # as Slack shows it: no "##"
    assert "## " not in transcript
    assert result["detection"] < 3 and len(list((tmp_path / "json").glob("*.json"))) >= 5
