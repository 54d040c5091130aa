"""Customer-success analytics: who needs the team today, and why.

Signals computed from the event log (Ibis expressions, DuckDB by default, Spark for logs that
have outgrown one machine) and from the graph (the store's questions), each returning a small
table or typed values with the components that made every number; models (churn, lifetime
value) that explain themselves. `analytics/` reads the graph and the log and writes nothing but
its cache and charts.
"""
