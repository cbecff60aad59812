"""Rectification loop, weekly rankings and accountability (filled by later issues)."""
