"""The co-search: its configuration, the DEAP loop, populations, variation, scoring of
records into objectives, and the state a checkpoint stores."""
