"""Helpers for the web page tests: a fake agent service and a real HTTP server for the control API."""
