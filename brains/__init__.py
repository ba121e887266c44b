"""Brains: a network plus the recipe that trains it, built from a `BrainGene`."""
from brains.gene import BrainGene

__all__ = ["BrainGene"]
