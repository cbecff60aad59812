"""Links only where they lead: a unit's name (or a number about it) is a link only when the reader
may open what it points to; otherwise it is plain text.

A liaison sees its units' subtrees and gets 404 anywhere else (out of scope is 404, never 403), so
a link to another street's page is a dead end. Pages ask the reader's `Scope` — in every template's
context as `scope` — rather than each repeating the rule:

    {% load links %}
    {% unit_link unit %}                                  the unit page, or the name
    {% unit_link row.unit href=url text=row.unit.short_name css="fw-bold" %}
    {% if scope|covers:unit %}<a href="…">{{ n }}</a>{% else %}{{ n }}{% endif %}
"""

from django import template
from django.utils.html import format_html

from ..selectors import scope_for

register = template.Library()


def _scope(context):
    scope = context.get("scope")
    if scope is not None:
        return scope
    request = context.get("request")
    user = getattr(request, "user", None)
    return scope_for(user) if user is not None else None


@register.filter
def covers(scope, unit) -> bool:
    """Whether the reader may open pages of this unit; no scope or no unit means no."""
    if scope is None or unit is None:
        return False
    return scope.covers(unit)


@register.simple_tag(takes_context=True)
def unit_link(context, unit, href=None, text=None, css=""):
    """The unit's name, linked to `href` (default: the unit page) only if the reader's scope
    covers the unit. A missing unit renders "—"."""
    if unit is None:
        return "—"
    label = unit.name if text is None else text
    if not covers(_scope(context), unit):
        if css:
            return format_html('<span class="{}">{}</span>', css, label)
        return format_html("{}", label)
    url = href or unit.get_absolute_url()
    if css:
        return format_html('<a href="{}" class="{}">{}</a>', url, css, label)
    return format_html('<a href="{}">{}</a>', url, label)
