"""The chat window's Gradio queue driven as the browser drives it (queue/join, then queue/data), for tests that
need the chat's own protocol without a browser."""

from __future__ import annotations

import json
import uuid

import httpx


def chat_dependency(base: str) -> int:
    """The id of the event that answers a question typed in the chat (Enter in the question box)."""
    config = httpx.get(f"{base}/config").json()
    box = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "kysymys")
    return next(d["id"] for d in config["dependencies"]
                if any(t == [box, "submit"] or t == {"id": box, "event": "submit"} for t in d["targets"]))


def ask_through_the_queue(base: str, fn_index: int, question: str) -> str:
    """What the chat shows as the answer when the browser's own protocol (queue/join) is used directly."""
    session = uuid.uuid4().hex
    joined = httpx.post(f"{base}/gradio_api/queue/join", json={
        "data": [question, None, "Koko Keski-Suomi"], "fn_index": fn_index, "session_hash": session,
        "event_data": None, "trigger_id": None})
    assert joined.status_code == 200, joined.text
    with httpx.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}, timeout=90) as events:
        for line in events.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                assert message.get("success"), message
                messages = message["output"]["data"][1]
                return str(messages[-1]["content"])
    raise AssertionError("no answer")
