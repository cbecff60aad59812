"""Small template helpers for the shared layout."""

from django import forms, template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from ..generic import format_cell

register = template.Library()


@register.filter
def cell(value):
    return format_cell(value)


@register.filter
def widget_class(field):
    """Bootstrap/Tabler class for a bound field's widget, with the invalid state."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        base = "form-check-input"
    elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
        base = "form-select"
    else:
        base = "form-control"
    return f"{base} is-invalid" if field.errors else base


@register.simple_tag
def render_field(field, empty="请选择"):
    """The field's widget with the layout's classes; a drop-down's empty choice reads `empty` (请选择
    in a form, 全部 in a list's filters) instead of Django's ---------."""
    widget = field.field.widget
    css = widget_class(field)
    existing = widget.attrs.get("class", "")
    html = field.as_widget(attrs={"class": f"{existing} {css}".strip()})
    html = html.replace(">---------</option>", f">{escape(empty)}</option>")
    return format_html("{}", mark_safe(html))


@register.simple_tag
def countdown_label(days_left):
    if days_left is None:
        return ""
    if days_left > 0:
        return f"距测评还有 {days_left} 天"
    if days_left == 0:
        return "今天测评"
    return f"测评已过去 {-days_left} 天"
