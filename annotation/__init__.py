"""Labels for existing images, made by people or models (no Beam)."""
