"""Background jobs: the persist runner."""
