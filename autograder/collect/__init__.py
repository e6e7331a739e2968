"""Collect: submissions (folders, zips, clones, nbgrader's exchange) into submitted/."""
