"""Grading: one notebook through load -> sanitize -> sandboxed execution -> score."""
