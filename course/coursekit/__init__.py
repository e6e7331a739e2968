"""Student-side support for the autodiff course: checks, plots, widgets and data sets.

Nothing here solves an exercise; the checks compare your code with numpy and with finite
differences of the kit's own functions.
"""
