"""Root-cause investigations (problem records): many complaints, one analysis, checked actions."""
