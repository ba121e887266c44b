"""grokevo's engine: tasks, evaluation of (encoder, brain) pairs, recipes and the CLI."""
