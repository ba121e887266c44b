"""grokevo's engine: tasks, the co-search, training runs of (encoder, brain) pairs, run
directories and views. From Python: `evo.run(...)` and `evo.train(...)` (evo.api)."""
from typing import Any


def __getattr__(name: str) -> Any:
    # evo.run and evo.train load on first use: every worker process imports the evo package
    # to unpickle its jobs, and should not pay for the search, the views and matplotlib.
    if name in ("run", "train"):
        from evo import api

        return getattr(api, name)
    raise AttributeError(f"module 'evo' has no attribute {name!r}")
