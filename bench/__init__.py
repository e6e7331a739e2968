"""Benchmarks of the reference `autodiff` package (`python -m bench`; not part of the tests).

Engines take turns (A B A B ...) in one process and the median of the repeats is reported, so
slow drifts of the machine (other jobs, malloc thresholds) hit every engine alike.
"""
