"""Alternative answers per assignment: one module per assignment (`v01_derivatives.py`, ...).

Each module defines ``EXERCISES = {grade_id: {"correct": {name: source}, "bugs": {name: source}}}``:
every correct source must pass the exercise's graded test cell (visible and hidden tests), and
every bug must fail it, without a NotImplementedError.
"""
