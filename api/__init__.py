"""The outward face: the `relgraph` CLI now; the FastAPI app and GraphQL schema build on it."""
