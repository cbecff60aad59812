"""Field points, check items, inspection rounds and observations (filled by a later issue)."""
