"""Photo flags on pages: attach each photo's flags (one query for every photo of the page, never
one per photo) and render them as Chinese badges with their reason."""

from django import template

from inspections.models import PhotoFlag

register = template.Library()


def _attach(photos) -> None:
    todo = [p for p in photos if not hasattr(p, "flag_list")]
    if not todo:
        return
    by_photo: dict[int, list[PhotoFlag]] = {}
    for flag in PhotoFlag.objects.filter(photo_id__in={p.pk for p in todo}).order_by("id"):
        by_photo.setdefault(flag.photo_id, []).append(flag)
    for photo in todo:
        photo.flag_list = by_photo.get(photo.pk, [])


@register.simple_tag
def attach_photo_flags(*groups) -> str:
    """`{% attach_photo_flags before after %}`: every photo of the lists gets `flag_list`."""
    _attach([photo for group in groups for photo in (group or [])])
    return ""


@register.simple_tag
def attach_review_flags(problems) -> str:
    """The 复查 queue: the before (`photos`) and after (`after_photos`) photos of every row, in one
    query."""
    photos = []
    for problem in problems:
        photos += list(problem.photos.all()) + list(getattr(problem, "after_photos", None) or [])
    _attach(photos)
    return ""


@register.inclusion_tag("inspections/_photo_flags.html")
def photo_flag_badges(photos):
    """The flags of a list of photos (attached first), numbered as the thumbnails are."""
    rows = [(index, photo) for index, photo in enumerate(photos or [], start=1) if getattr(photo, "flag_list", None)]
    return {"rows": rows, "several": len(photos or []) > 1}
