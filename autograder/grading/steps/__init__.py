"""The kit's grading steps, one nbgrader preprocessor per module."""
