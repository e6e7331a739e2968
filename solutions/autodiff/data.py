"""Data sets for the course; they live in `coursekit.datasets` (students have coursekit)."""

from coursekit.datasets import circles, digits, moons, spirals, xor

__all__ = ["circles", "digits", "moons", "spirals", "xor"]
