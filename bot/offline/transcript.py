"""Slack messages as a person would read them in a terminal."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from typing import Any

from bot.offline.webapi import Call

_MENTION = re.compile(r"<@(\w+)>")


def _plain(text: str) -> str:
    text = _MENTION.sub(r"@\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def header_lines(text: str) -> list[str]:
    """A header block as Slack shows it: a line standing apart in bold, not Markdown's ``##``.

    A terminal has no large type, so the title is underlined with a heavy rule as wide as
    the title itself (wide characters count twice).
    """
    title = _plain(text)
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in title)
    return [title, "━" * width]


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return header_lines(block["text"]["text"])
    if kind == "section":
        lines = [_plain(block["text"]["text"])] if block.get("text") else []
        lines += [_plain(f["text"]).replace("\n", ": ", 1) for f in block.get("fields", [])]
        return lines
    if kind == "context":
        return [_plain(e.get("text", "")) for e in block.get("elements", [])]
    if kind == "actions":
        return ["  ".join(f"[{e['text']['text']}]" for e in block.get("elements", []))]
    return []


def describe(call: Call, who: str = "FlightVault") -> str:
    """One message: where it went, and its blocks (or text) indented beneath."""
    params = call.params
    if call.kind == "response":
        if params.get("delete_original") in (True, "true"):
            return ""
        head = f"{who} (only visible to you)"
    elif call.method == "chat.update":
        head = f"{who} edited its message in {params.get('channel')}"
    elif call.method == "chat.postMessage":
        where = (
            "in the incident thread" if params.get("thread_ts") else f"in {params.get('channel')}"
        )
        head = f"{who} {where}"
    elif call.method == "files.completeUploadExternal":
        return f"{who} attached a file"
    else:
        return ""
    lines = [line for block in call.blocks for line in _block_lines(block)] or [
        _plain(str(params.get("text", "")))
    ]
    body = textwrap.indent("\n".join(lines), "  │ ", predicate=lambda _: True)
    return f"{head}\n{body}"
