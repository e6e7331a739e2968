"""Feedback placeholder."""


def feedback_all(root, work, target):
    return []
