"""What a run directory holds: checkpoints, the lock of the process that writes it, the
event log, and the end of a run (holdout re-checks, front.json, pair files)."""
