"""RUN_DIR/events.jsonl: every event of the search but per-evaluation noise, appended as
it happens, for a run that is watched from elsewhere or examined after a crash."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = "events.jsonl"


class EventLog:
    """Appends every event but per-evaluation noise to RUN_DIR/events.jsonl, then passes it on."""

    def __init__(self, run_dir: Path, inner: Any):
        self.path, self.inner = run_dir / EVENTS, inner

    def emit(self, event: str, **data: Any) -> None:
        self.inner.emit(event, **data)
        if event in ("evaluated", "scoring"):
            record = data.get("record", {})
            if not (record.get("diverged") or record.get("failed")):
                return
            data = {"generation_event": "evaluated", "diverged": record.get("diverged"),
                    "failed": record.get("failed"), "error": record.get("error"),
                    "encoder": record.get("encoder"), "brain": record.get("brain")}
        elif event == "generation_end":
            data = {"generation": data["generation"], "phase": data["phase"], "stats": data["stats"]}
        elif event == "front_member":
            data = {"generation": data["generation"], "pair": data["pair"].to_dict(),
                    "values": list(data["values"])}
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"event": event, **data}, default=str) + "\n")
