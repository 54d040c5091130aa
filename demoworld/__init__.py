"""The demo world: a seeded generator of the export files a real team would load
(demoworld/world.py, behind `relgraph demo world`)."""
