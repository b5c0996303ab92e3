"""People: users with roles, departments and their members, API and one-time tokens."""
