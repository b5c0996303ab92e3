"""Customers: records of their own (a caller may never log in), with emails, phones, documents."""
