"""The sync engine: watch events → placement → plan → apply (see docs/architecture.md)."""
