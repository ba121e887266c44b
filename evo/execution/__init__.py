"""Training runs: one (pair, settings) job into one record (evaluate, curricula,
multi-task), and many jobs through joblib's backends (parallel)."""
