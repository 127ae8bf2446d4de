"""``fastring compare``: results side by side (work in progress)."""


class CompareError(ValueError):
    """A results directory that cannot be compared."""
