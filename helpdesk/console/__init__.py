"""The console surface."""
