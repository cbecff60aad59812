"""Pages of the rectification loop: the office's 交办 and 复查 queues (with bulk 交办), a
liaison's 我的问题, one transition of a problem posted from its page, notifications, and the
photos of the loop's events served only to those who may see the problem."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaign.generic import Col, ObjectListView
from campaign.selectors import campaign_current, scope_for
from inspections import services as inspection_services
from inspections.choices import ProblemStatus as S
from inspections.models import Photo, Problem
from inspections.selectors import (
    handled_q,
    is_department_liaison,
    overdue_q,
    photo_visible_to,
    problem_list,
    with_deadline_facts,
)
from inspections.views import photo_response

from .choices import Action as A
from .forms import BulkAssignForm, TransitionForm
from .models import ProblemEvent
from .workflow import (
    OPEN,
    TransitionConflict,
    TransitionInput,
    TransitionRefused,
    problem_transition,
    roles_of,
)


def refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or "您不能处理该问题。"


def mine_q(user) -> Q:
    """Problems whose handler or a co-handler is the liaison's unit or below it (本单位主办): the
    same definition as the problem list's filter, uncorrelated IN lists of the liaison's units
    (hashed once), not a path comparison and a co-handler subquery per problem (city bench: the
    liaison home took 0.19–0.29 s per count that way)."""
    return handled_q(user)


def _after_photos(problem: Problem) -> list[Photo]:
    submits = getattr(problem, "submits", None)
    if submits is None:
        submits = list(problem.events.filter(action=A.SUBMIT).prefetch_related("photos"))
    return list(submits[-1].photos.all()) if submits else []


class _ProblemQueue(ObjectListView):
    export_name = None
    paginate_by = 50
    columns = [
        Col("编号", lambda p: f"#{p.pk}"),
        Col("问题描述", "description", link=True),
        Col("状态", "status"),
        Col("属地单位", "unit.name"),
        Col("点位", "point.name"),
        Col("主办单位", "handler.name"),
        Col("整改期限", "deadline"),
        Col("发现时间", "found_at"),
    ]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.check_access(scope_for(request.user))
        return super().dispatch(request, *args, **kwargs)

    def check_access(self, scope) -> None:
        if not (scope.is_office or scope.is_leader):
            raise PermissionDenied("只有创建办和领导可以查看该队列。")

    def can_add(self) -> bool:
        return False

    def get_queryset(self):
        # Overdue as the problem list and the ranking count it (one definition, annotated in SQL).
        return with_deadline_facts(super().get_queryset())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_act"] = scope_for(self.request.user).is_office
        return context


class AssignQueueView(_ProblemQueue):
    """待交办: bulk 交办 of the checked problems to one handler (or each its default)."""

    title = "待交办"
    template_name = "accountability/queue_assign.html"
    export_name = "待交办问题"
    empty_message = "没有待交办的问题。"

    def base_queryset(self):
        return (
            problem_list(user=self.request.user, campaign=campaign_current())
            .filter(status=S.NEW)
            .order_by("found_at", "id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", BulkAssignForm())
        return context

    def post(self, request, *args, **kwargs):
        if not scope_for(request.user).is_office:
            raise PermissionDenied("只有创建办可以交办问题。")
        queue = self.base_queryset()
        form = BulkAssignForm(request.POST, problem_ids=list(queue.values_list("pk", flat=True)))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(reverse("problem-queue-assign"))
        done, failures = 0, []
        for problem in queue.filter(pk__in=form.cleaned_data["problems"]).order_by("pk"):
            data = TransitionInput(
                action=A.ASSIGN, handler=form.cleaned_data["handler"], deadline=form.cleaned_data["deadline"]
            )
            try:
                with transaction.atomic():
                    problem_transition(user=request.user, problem=problem, data=data)
            except (TransitionRefused, TransitionConflict, PermissionDenied) as exc:
                failures.append(f"#{problem.pk}：{refusal_text(exc)}")
            else:
                done += 1
        if done:
            messages.success(request, f"已交办 {done} 个问题。")
        if failures:
            messages.error(request, f"{len(failures)} 个问题未能交办：" + "；".join(failures))
        return HttpResponseRedirect(reverse("problem-queue-assign"))


class ReviewQueueView(_ProblemQueue):
    """待复查: the problem's photos before and the last report's photos after, side by side."""

    title = "待复查"
    template_name = "accountability/queue_review.html"
    export_name = "待复查问题"
    empty_message = "没有待复查的问题。"

    def base_queryset(self):
        return (
            problem_list(user=self.request.user, campaign=campaign_current())
            .filter(status=S.REVIEWING)
            .prefetch_related(
                "photos",
                Prefetch(
                    "events",
                    queryset=ProblemEvent.objects.filter(action=A.SUBMIT).prefetch_related("photos"),
                    to_attr="submits",
                ),
            )
            .order_by("deadline", "id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for problem in context["object_list"]:
            problem.after_photos = _after_photos(problem)
            problem.report = problem.submits[-1] if problem.submits else None
        return context


class MyProblemsView(_ProblemQueue):
    """我的问题: what the liaison's units handle, by status, with deadlines; overdue in red."""

    title = "我的问题"
    template_name = "accountability/mine.html"
    export_name = "我的问题"
    empty_message = "没有交办给本单位的问题。"
    columns = _ProblemQueue.columns[:6] + [
        Col("整改期限", "deadline"),
        Col("超期", "is_overdue"),
        Col("返工次数", "rework_count"),
    ]

    def check_access(self, scope) -> None:
        if not scope.is_liaison:
            raise PermissionDenied("只有责任单位联络员有“我的问题”。")

    def mine(self):
        return problem_list(user=self.request.user, campaign=campaign_current()).filter(mine_q(self.request.user))

    def status(self) -> str:
        wanted = self.request.GET.get("status", "open")
        return wanted if wanted in {"open", "overdue", "all", *S.values} else "open"

    def base_queryset(self):
        queryset = self.mine()
        status = self.status()
        if status == "open":
            queryset = queryset.filter(status__in=OPEN)
        elif status == "overdue":
            queryset = queryset.filter(overdue_q())
        elif status != "all":
            queryset = queryset.filter(status=status)
        return queryset.order_by("deadline", "id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = dict(self.mine().order_by().values_list("status").annotate(n=Count("pk")))
        overdue = self.mine().filter(overdue_q()).count()
        tabs = [("open", "未办结", sum(counts.get(s, 0) for s in OPEN)), ("overdue", "已超期", overdue)]
        tabs += [(value, label, counts.get(value, 0)) for value, label in S.choices]
        tabs.append(("all", "全部", sum(counts.values())))
        # A department also answers for what it is charged, whoever handles it: its 条 list.
        context.update(tabs=tabs, current_status=self.status(), department=is_department_liaison(self.request.user))
        return context


def _back(request, problem: Problem) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = problem.get_absolute_url()
    return HttpResponseRedirect(target or problem.get_absolute_url())


@login_required
@require_POST
def problem_transition_view(request, pk):
    """One action from the problem page's form → the state machine. Out of scope: 404; no role: 403."""
    problem = problem_list(user=request.user).filter(pk=pk).first()
    if problem is None:
        raise Http404("未找到该问题，或您无权查看。")
    # A reader without a role on the problem (a charged department, an inspector) may comment only.
    if not roles_of(request.user, problem) and request.POST.get("action") != A.COMMENT:
        raise PermissionDenied("您不能处理该问题。")
    form = TransitionForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
        return _back(request, problem)
    data = form.cleaned_data
    action = data["action"]
    try:
        with transaction.atomic():
            photos = tuple(
                inspection_services.photo_upload(user=request.user, file=upload).pk
                for upload in request.FILES.getlist("photo_files")
            )
            problem = problem_transition(
                user=request.user,
                problem=problem,
                data=TransitionInput(
                    action=action,
                    note=data["note"],
                    photos=photos,
                    handler=data["handler"],
                    co_handlers=tuple(data["co_handlers"]) if action in (A.ASSIGN, A.REASSIGN) else None,
                    deadline=data["deadline"],
                    expected_version=data["version"],
                ),
            )
    except (TransitionRefused, TransitionConflict, PermissionDenied, ValidationError) as exc:
        messages.error(request, refusal_text(exc))
        return _back(request, problem)
    if action == A.COMMENT:
        messages.success(request, f"已留言：问题 #{problem.pk}。")
        return _back(request, problem)
    messages.success(request, f"已{A(action).label}：问题 #{problem.pk} 现为“{problem.get_status_display()}”。")
    return _back(request, problem)


def _serve(request, pk: int, *, thumbnail: bool):
    """A photo cited by an event of the loop (e.g. the after photos of a report): visible to whoever
    may see the problem, besides the inspections app's own rules."""
    photo = Photo.objects.filter(pk=pk).first()
    visible = photo is not None and (
        photo_visible_to(user=request.user, photo=photo)
        or problem_list(user=request.user).filter(events__photos=photo).exists()
    )
    if not visible:
        raise Http404("未找到该照片，或您无权查看。")
    return photo_response(photo, thumbnail=thumbnail)


@login_required
def event_photo_file(request, pk):
    return _serve(request, pk, thumbnail=False)


@login_required
def event_photo_thumb(request, pk):
    return _serve(request, pk, thumbnail=True)
