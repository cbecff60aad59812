"""Signals the indicators app sends so that apps above it can react without this app importing
them (a lower app never imports a higher one)."""

from django.dispatch import Signal

# Sent after a 一票否决 risk event is registered (on commit), with `campaign_id`, `moments` (one
# day in each week from the event's day to today: a veto marks every week it was open) and
# `reason`. The roll-up recomputes the computed weeks concerned, so a week computed — or published
# — before the event was registered shows the veto.
veto_events_changed = Signal()
