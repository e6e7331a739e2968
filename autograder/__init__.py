"""Grading for the autodiff course kit: a thin, parallel, sandboxed layer over nbgrader."""
