"""Files the package writes and reads: `atomic` (output folders and files that appear whole or not at all),
`listing` (what an ldmnist command wrote into a folder, what `overwrite` may replace), `paths` (the cache, the
installed package, Hub ids vs paths, checksums, JSON)."""
