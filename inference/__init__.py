"""Model runtimes behind small interfaces, and their Beam ModelHandlers."""
