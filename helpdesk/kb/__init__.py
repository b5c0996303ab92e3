"""The knowledge base (help centre articles, known problems, deflection)."""
