"""Securing mechanisms: Data Integrity suites, JOSE / JWT, SD-JWT."""
