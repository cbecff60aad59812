"""Template filters of the ranking pages: rates as percentages, rank changes as arrows."""

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def pct(rate, digits: int = 1) -> str:
    """0.8765 → '87.7%'; None → '—'."""
    if rate is None or rate == "":
        return "—"
    return f"{Decimal(rate) * 100:.{digits}f}%"


@register.filter
def change_arrow(change) -> str:
    """Rank change (positive = up) as a coloured arrow; None (no rank last week) as '—'."""
    if change is None:
        return mark_safe('<span class="text-secondary">—</span>')
    if change > 0:
        return format_html('<span class="text-green" title="上升 {} 名">▲{}</span>', change, change)
    if change < 0:
        return format_html('<span class="text-red" title="下降 {} 名">▼{}</span>', -change, -change)
    return mark_safe('<span class="text-secondary" title="名次不变">＝</span>')


@register.filter
def board_badge(board: str) -> str:
    if board == "red":
        return mark_safe('<span class="badge bg-red text-white" data-testid="board-red">红榜</span>')
    if board == "black":
        return mark_safe('<span class="badge bg-dark text-white" data-testid="board-black">黑榜</span>')
    return ""
