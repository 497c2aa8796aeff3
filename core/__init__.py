"""The domain and its services. No Qt widget imports; usable headless and in tests."""
