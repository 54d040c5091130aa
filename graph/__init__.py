"""The domain model, the GraphStore protocol and its two stores. Only this package knows Cypher
or networkx."""
