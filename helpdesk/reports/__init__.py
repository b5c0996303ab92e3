"""Supervisors' reports: one definition per report (registry.py), computed from ticket columns and
events in a fixed number of grouped statements, shown by the console (chart + table), the API (JSON,
CSV), the exports (CSV, XLSX) and the weekly digest alike."""
