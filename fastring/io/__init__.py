"""Input and output: the result tables and their schemas (:mod:`.results`),
write-then-rename (:mod:`.atomic`) and the progress line (:mod:`.progress`)."""
