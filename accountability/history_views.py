"""The 变更记录 page: who changed which score-relevant rule, when, from what to what (office and
leaders). The feed and its filters are `accountability.history`; this view only pages it."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from .history import SOURCES, HistoryFilterForm, change_entries, may_read_history, user_display

PAGE_SIZE = 50


@login_required
def history_list(request):
    if not may_read_history(request.user):
        raise PermissionDenied("变更记录仅对创建办和领导开放。")
    form = HistoryFilterForm(request.GET)
    page = entries = None
    if form.is_valid():
        page = Paginator(form.keys(), PAGE_SIZE).get_page(request.GET.get("page"))
        entries = change_entries(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    chosen = form.cleaned_data if form.is_valid() else {}
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("username")
        .only("pk", "username", "first_name", "last_name")
    )
    return render(
        request,
        "accountability/history_list.html",
        {
            "title": "变更记录",
            "form": form,
            "page_obj": page,
            "entries": entries,
            "sources": SOURCES.values(),
            "users": [(u.pk, user_display(u)) for u in users],  # names, never logins
            "chosen": chosen,
            "querystring": query.urlencode(),
            "filtered": any(request.GET.get(k) for k in ("model", "object", "user", "from", "to")),
        },
    )
