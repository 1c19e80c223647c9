"""The restore flow as a user clicks it, shared by tests: find, preview, request, approve."""

from __future__ import annotations

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.offline.webapi import Call


def buttons(call: Call) -> dict[str, str]:
    """action_id -> value of every button in the message."""
    return {
        e["action_id"]: e["value"]
        for b in call.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }


def posted(bot: OfflineBot, text: str, method: str = "chat.postMessage") -> Call:
    """The latest ``method`` call whose text contains ``text``; waits for one."""
    return wait_until(
        lambda: [c for c in bot.slack.calls_to(method) if text in c.text],
        what=f"{method} saying {text!r}",
    )[-1]


def first_button(call: Call) -> str:
    return next(e["value"] for b in call.blocks if b["type"] == "actions" for e in b["elements"])


def find_and_preview(bot: OfflineBot, table: str = "stations", user: str = "U0ALICE") -> str:
    """``/vault find``, then *Preview restore*; returns the plan ID."""
    bot.driver.slash(f"find {table}", user=user)
    found = wait_until(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restore point" in c.text],
        what="the finder",
    )[-1]
    bot.driver.click(Action.PREVIEW_RESTORE.value, first_button(found), user=user)
    preview = wait_until(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restore preview" in c.text],
        what="the preview",
    )[-1]
    return first_button(preview)


def wait_state(bot: OfflineBot, plan_id: str, state: str, timeout: float = 20) -> None:
    wait_until(
        lambda: (p := bot.store.plans.get(plan_id)) and p.state.value == state,
        timeout=timeout,
        what=f"plan {state}",
    )


def request(bot: OfflineBot, plan_id: str, user: str = "U0ALICE") -> None:
    bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user=user)
    wait_state(bot, plan_id, "requested")


def approve(bot: OfflineBot, plan_id: str, user: str = "U0BOB", timeout: float = 20) -> None:
    bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=user)
    wait_state(bot, plan_id, "executed", timeout=timeout)
