"""Exports: one writer per format (CSV, Gradescope, JUnit, Classroom, feedback, table)."""
