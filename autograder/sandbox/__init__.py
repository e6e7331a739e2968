"""Sandbox: the isolated, resource-limited Jupyter kernels student code runs in."""
