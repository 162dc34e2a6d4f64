"""kik: build, validate and publish municipal integration concepts as a knowledge graph."""

__version__ = "0.1.0"
