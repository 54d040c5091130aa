"""One reader per source format yielding typed records, and the load pipeline into a store."""
