"""Authoring: the student release and the exercise manifest, generated from the masters."""
