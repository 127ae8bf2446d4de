"""The ``fastring`` command. The argparse tree lives in :mod:`.commands`; it is
imported on call so that ``import fastring.cli`` stays cheap."""


def main(argv=None):
    from .commands import main as _main
    return _main(argv)
