"""Reference automatic differentiation package for the course (numpy, float64)."""
