"""Small template helpers for the shared layout."""

from django import forms, template
from django.utils.html import format_html

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
def render_field(field):
    widget = field.field.widget
    css = widget_class(field)
    existing = widget.attrs.get("class", "")
    html = field.as_widget(attrs={"class": f"{existing} {css}".strip()})
    return format_html("{}", html)


@register.simple_tag
def countdown_label(days_left):
    if days_left is None:
        return ""
    if days_left > 0:
        return f"距测评还有 {days_left} 天"
    if days_left == 0:
        return "今天测评"
    return f"测评已过去 {-days_left} 天"
