"""Helpers that drive a real headless Chromium for the page tests."""
