"""Build orchestration: sources → passages → embed → engine, its caches and the index folder."""
