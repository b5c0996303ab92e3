"""Suggestions forwarded to the product feedback list, with how many customers ask."""
