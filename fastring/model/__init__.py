"""The model of the tracer: the ring buffer (:mod:`.buffer`), the strategies'
programs and their checker (:mod:`.strategies`), the latency histograms
(:mod:`.histogram`) and the counter-based random numbers (:mod:`.rng`)."""
