"""Sanitize: nbgrader metadata the master does not have is dropped."""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.state import state


class StripForeignGradeIds(NbGraderPreprocessor):
    """Drop nbgrader metadata from cells whose grade_id the master does not have.

    A student who invents a grade cell (say, worth 1000 points) would otherwise make nbgrader's
    metadata check fail the whole notebook; the invented cell becomes an ordinary cell instead.
    """

    def preprocess_cell(self, cell, resources, index):
        known = state(resources)["known_ids"]
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if "nbgrader" in cell.metadata and grade_id not in known:
            del cell.metadata["nbgrader"]
        return cell, resources
