"""The portal surface."""
