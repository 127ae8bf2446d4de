"""Slow, obvious pure-Python models that the compiled kernels are tested against."""
