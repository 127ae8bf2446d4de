"""The world around the tracer: operation costs (:mod:`.costs`), tracer
presets (:mod:`.presets`), what a tracer captures (:mod:`.capture`), strace
captures (:mod:`.strace`, :mod:`.replay`, :mod:`.fit`), and the arrays of one
run built from a config (:mod:`.prepare`). Kept free of imports so that the
config can use the small modules without loading :mod:`.prepare`."""
