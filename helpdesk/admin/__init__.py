"""The admin surface."""
