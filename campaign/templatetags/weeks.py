"""`{{ code|week_label }}` → 第48周（11月24日—11月30日）; `{{ code|week_short }}` → 第48周 (campaign/weeks.py);
`{% week_select id name value since %}`: a week picker in Chinese (a `<select>` of the weeks from this
one back to `since`), instead of `<input type="week">`, which speaks the browser's language and which
some browsers show as a plain text box."""

import datetime

from django import template

from campaign import weeks

register = template.Library()


@register.filter
def week_label(code):
    return weeks.week_label(code)


@register.filter
def week_short(code):
    return weeks.week_short(code)


@register.inclusion_tag("campaign/_week_select.html")
def week_select(field_id, name, value="", since=None, required=False, empty="", style="max-width:19rem"):
    return {
        "field_id": field_id,
        "name": name,
        "value": value or "",
        "options": weeks.week_options(since=since if isinstance(since, datetime.date) else None, keep=value or ""),
        "required": required,
        "empty": empty,
        "style": style,
    }
