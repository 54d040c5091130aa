"""The weekly roundup: feeds, candidates, ranking, editing and publishing (not built yet)."""
