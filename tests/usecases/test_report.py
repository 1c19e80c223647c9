"""The incident report: its timeline is the audit trail, to the millisecond, in Slack and in
the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.cli import run
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from tests.core.detect_schema import STATIONS
from tests.support.flows import approve, find_and_preview, request
from tests.support.sql import run_sql
from usecases.report import ms


def timeline_rows(markdown: str) -> list[tuple[str, str, str]]:
    section = markdown.split("## Timeline", 1)[1].split("##", 1)[0]
    rows = [line.split("|")[1:4] for line in section.splitlines() if line.startswith("| 20")]
    return [(t.strip(), who.strip(), what.strip()) for t, who, what in rows]


def test_report_timeline_matches_the_audit_trail(
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_sql(engine, *STATIONS)
    with OfflineBot(database_url, watch=True) as bot:
        source = bot.runtime.deps.source
        run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        incident = wait_until(
            lambda: [i for i in bot.store.incidents.open(source=source) if i.root_ts],
            what="the alert",
        )[0]
        wait_until(  # audited just after the alert's ts is stored
            lambda: (
                "alert posted"
                in [e["action"] for e in bot.store.audit.trail(incident_id=incident.id)]
            ),
            what="the alert's audit line",
        )
        run_sql(
            engine, "INSERT INTO stations (id, code, name, city) VALUES (5001, 'N1', 'New', 'Pune')"
        )
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        approve(bot, plan_id)
        wait_until(
            lambda: bot.store.incidents.get(incident.id).status.value == "restored",
            what="the incident marked restored (after the audit of the restore)",
        )

        bot.driver.slash(f"report {incident.id[:8]}", user="U0CAROL")
        done = wait_until(  # the report's, not the finder's timeline PNG (an upload too)
            lambda: [
                c
                for c in bot.slack.calls_to("files.completeUploadExternal")
                if f"Incident {incident.id[:8]} report" in c.params["files"]
            ],
            what="the report uploaded",
        )[-1]
        assert done.params["channel_id"] == incident.channel
        assert done.params["thread_ts"] == incident.root_ts
        upload = wait_until(
            lambda: [
                c
                for c in bot.slack.calls
                if c.kind == "upload" and c.params["data"].startswith(b"# Incident")
            ],
            what="the report's bytes",  # the finder's timeline PNG is an upload too
        )[-1]
        markdown = upload.params["data"].decode()

        trail = bot.store.audit.trail(incident_id=incident.id, limit=None)
        expected = [(ms(incident.first_instant), "database", "damage committed")] + [
            (ms(e["at"]), e["actor"], e["action"]) for e in trail
        ]
        assert timeline_rows(markdown) == sorted(expected, key=lambda r: r[0])
        actions = [e["action"] for e in trail]
        for step in (
            "detected",
            "alert posted",
            "find",
            "preview",
            "request",
            "approve",
            "executed",
        ):
            assert step in actions, f"{step} missing from the audit trail"
        assert "| Time to detect |" in markdown and "| Time to restore |" in markdown
        assert "`trips`: 300 rows removed by ON DELETE CASCADE" in markdown
        assert "until the restore committed at" in markdown
        assert "1 later statements wrote `stations` (1 inserted" in markdown
        assert "U0ALICE: find, preview, request" in markdown
        assert "U0BOB: approve" in markdown

        # The CLI prints the same report from the same state store.
        monkeypatch.setenv("VAULT_DATABASE_URL", database_url)
        monkeypatch.setenv("VAULT_STATE_URL", bot.settings.vault_state_url)
        assert run(["report", incident.id[:8]]) == 0
        printed = capsys.readouterr().out
        assert timeline_rows(printed) == timeline_rows(markdown)


def test_report_refuses_unknown_incidents(offline_bot: OfflineBot) -> None:
    offline_bot.driver.slash("report")
    said = wait_until(
        lambda: [
            c
            for c in offline_bot.slack.calls
            if c.kind == "response" and "no incidents" in str(c.params.get("text"))
        ],
        what="the refusal",
    )
    assert said[0].params["response_type"] == "ephemeral"
    offline_bot.driver.slash("report ffffffff")
    wait_until(
        lambda: [
            c
            for c in offline_bot.slack.calls
            if c.kind == "response" and "No single incident" in str(c.params.get("text"))
        ],
        what="the refusal",
    )
