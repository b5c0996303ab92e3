"""Routing: ordered rules that send a new ticket to a department, priority and agent."""
