"""fastring's version, in a module of its own: the tables record it, and
importing it from the package (``fastring/__init__``) made an import cycle."""
__version__ = "0.4.0"
