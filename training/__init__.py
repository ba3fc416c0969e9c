"""Training-data tools for noiseclf: a line-labelled corpus built from real web
pages (WCXB), label checks, the word-F1 metric and extraction baselines.

Nothing here is needed at run time by the `noiseclf` package itself.
"""
