"""The master: namespace, mount table, persist scheduling, metadata sync, TTL."""
