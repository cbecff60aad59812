"""Signals the field-inspection app sends so that apps above it can react without this app
importing them (a lower app never imports a higher one)."""

from django.dispatch import Signal

# Sent after an inspection is committed (recorded or corrected), with `campaign_id`, `moments`
# (the observation times it touched) and `reason`. The roll-up recomputes the weeks concerned.
observations_changed = Signal()
