"""yiwang (一网): platform for a district Government Services and Data Management Bureau."""

__version__ = "0.1.0"
