"""asv benchmarks of simengine (see benchmarks/README.md)."""
