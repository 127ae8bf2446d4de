"""The error every layer raises for bad input, in a module of its own so that
config, its layers and the tables can all import it without a cycle."""


class ConfigError(ValueError):
    """A bad configuration; the message names the dotted key, what is allowed
    and the value given (a ValueError so that generic callers still catch it)."""
