"""End-to-end tests of the web page in real headless Chromium."""
