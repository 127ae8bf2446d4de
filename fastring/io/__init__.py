"""Input and output: the result tables and their schemas (:mod:`.results`),
the partitioned-Parquet dataset reader (:mod:`.dataset`),
write-then-rename (:mod:`.atomic`) and the progress line (:mod:`.progress`)."""
