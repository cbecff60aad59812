"""`{{ code|week_label }}` → 第48周（11月24日—11月30日）; `{{ code|week_short }}` → 第48周 (campaign/weeks.py)."""

from django import template

from campaign import weeks

register = template.Library()


@register.filter
def week_label(code):
    return weeks.week_label(code)


@register.filter
def week_short(code):
    return weeks.week_short(code)
