"""People in the API (office only): memberships (list, create, change role or unit, deactivate,
import) and the users' list with their roles, so that nobody needs the admin to find an id."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from .. import people
from ..choices import Role
from ..models import Membership, Unit
from ..permissions import IsOffice
from .serializers import ImportUploadSerializer, ModelSerializer, Serializer
from .views import run_import

User = get_user_model()


ROLE_HELP = "角色：" + "、".join(f"{value}（{label}）" for value, label in Role.choices)


def _role_field(**kwargs):
    """A role as its code. A plain string in the schema (its codes in the help text): a second enum
    named "role" beside the indicator assignments' would collide in the OpenAPI components."""
    return serializers.CharField(help_text=ROLE_HELP, **kwargs)


def _check_role(value: str) -> str:
    if value not in Role.values:
        raise serializers.ValidationError(f"未知的角色“{value[:20]}”。{ROLE_HELP}。")
    return value


class MembershipSerializer(ModelSerializer):
    role = _role_field(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    full_name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, default="")

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "username",
            "full_name",
            "phone",
            "role",
            "role_display",
            "unit",
            "unit_name",
            "created_at",
        ]
        read_only_fields = fields

    def get_full_name(self, obj) -> str:
        return people.display_name(obj.user)

    def get_phone(self, obj) -> str:
        return people.profile_phone(obj.user)


class MembershipCreateSerializer(Serializer):
    # Either an existing person (`user` id or `username`), or a new one (`full_name`, `phone`,
    # optional `username`: the phone number when blank) who gets a one-time password.
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    username = serializers.CharField(required=False, max_length=150)
    full_name = serializers.CharField(required=False, max_length=150)
    phone = serializers.CharField(required=False, max_length=30, allow_blank=True)
    role = _role_field()
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)

    def validate_role(self, value):
        return _check_role(value)

    def validate(self, data):
        new_person = "full_name" in data or "phone" in data
        if "user" in data and ("username" in data or new_person):
            raise serializers.ValidationError({"user": ["已指定 user 时不要再填 username、full_name 或 phone。"]})
        if "user" not in data:
            username = data.get("username", "")
            existing = User.objects.filter(username=username).first() if username else None
            if existing is not None:
                if new_person:
                    message = f"账号“{username}”已存在：给已有人员添加角色只需填写 username（或 user）。"
                    raise serializers.ValidationError({"username": [message]})
                data["user"] = existing
            elif not new_person:
                message = "请指定已有人员（user 或已存在的 username），或填写新人员的 full_name 和 phone。"
                raise serializers.ValidationError({"user": [message]})
            elif not data.get("full_name"):
                raise serializers.ValidationError({"full_name": ["新人员须填写姓名（full_name）。"]})
        return data


class MembershipUpdateSerializer(Serializer):
    role = _role_field(required=False)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)

    def validate_role(self, value):
        return _check_role(value)


class MembershipCreatedSerializer(MembershipSerializer):
    initial_password = serializers.CharField(read_only=True, help_text="新账号的一次性初始密码，只返回这一次")

    class Meta(MembershipSerializer.Meta):
        fields = [*MembershipSerializer.Meta.fields, "initial_password"]
        read_only_fields = fields


class DeactivatedSerializer(Serializer):
    detail = serializers.CharField()
    user_active = serializers.BooleanField()


class MembershipFilterSet(django_filters.FilterSet):
    class Meta:
        model = Membership
        fields = ["role", "unit"]


def _memberships():
    return Membership.objects.select_related("user", "user__profile", "unit").order_by("user__username", "role", "id")


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Memberships (成员角色): one person's role in a unit. The office only.

    Create: an existing person (`user` or `username`) or a new one (`full_name`, `phone`, optional
    `username`) — a new person's one-time password is in the response once (`initial_password`)
    and must be changed at the first sign-in. PATCH changes `role` or `unit`. `deactivate` removes
    the membership (never the last 创建办); a person left without roles is set inactive."""

    serializer_class = MembershipSerializer
    permission_classes = [IsOffice]
    filterset_class = MembershipFilterSet
    search_fields = ["user__first_name", "user__username", "user__profile__phone"]

    def get_queryset(self):
        return _memberships()

    @extend_schema(request=MembershipCreateSerializer, responses={201: MembershipCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = MembershipCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        membership, password = people.membership_add_person(
            user=values.get("user"),
            full_name=values.get("full_name", ""),
            phone=values.get("phone", ""),
            username=values.get("username", ""),
            role=values["role"],
            unit=values.get("unit"),
        )
        membership = _memberships().get(pk=membership.pk)
        body = MembershipSerializer(membership).data
        if password is not None:
            body["initial_password"] = password
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipUpdateSerializer, responses=MembershipSerializer)
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        data = MembershipUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        people.membership_change(membership=membership, role=values.get("role"), unit=values.get("unit", ...))
        return Response(MembershipSerializer(_memberships().get(pk=membership.pk)).data)

    @extend_schema(request=None, responses=DeactivatedSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Remove the membership; the person is set inactive when no role is left."""
        membership = self.get_object()
        person = people.display_name(membership.user)
        active = people.membership_deactivate(membership=membership)
        detail = f"已移除“{person}”的角色：{membership.get_role_display()}。"
        if not active:
            detail += "该人员已没有任何角色，账号已停用。"
        return Response({"detail": detail, "user_active": active})

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[OpenApiParameter("dry_run", bool, description="1 = 只预览，不写入")],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_people(self, request):
        """Import people from Excel (导入人员): `file`, `dry_run=1` for the preview. Row errors → 400,
        nothing written. New accounts' one-time passwords are in `initial_passwords`, this once."""
        captured = {}

        def importer(*, file, dry_run):
            captured["result"] = people.people_import(file=file, dry_run=dry_run)
            return captured["result"]

        response = run_import(request, importer)
        result = captured.get("result")
        if result is not None and result.ok and not result.dry_run:
            response.data["initial_passwords"] = [
                {"username": p.username, "full_name": p.full_name, "password": p.password} for p in result.passwords
            ]
        return response


class UserRoleSerializer(Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    role_display = serializers.CharField()
    unit = serializers.IntegerField(allow_null=True)
    unit_name = serializers.CharField()


class UserSerializer(ModelSerializer):
    full_name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    active = serializers.BooleanField(source="is_active", read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "phone", "active", "roles"]
        read_only_fields = fields

    def get_full_name(self, obj) -> str:
        return obj.first_name

    def get_phone(self, obj) -> str:
        return people.profile_phone(obj)

    @extend_schema_field(UserRoleSerializer(many=True))
    def get_roles(self, obj) -> list[dict]:
        return [
            {
                "id": m.pk,
                "role": m.role,
                "role_display": m.get_role_display(),
                "unit": m.unit_id,
                "unit_name": m.unit.name if m.unit_id else "",
            }
            for m in obj.memberships.all()
        ]


class UserViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """People (人员) with their roles, to find a person's id: `?search=` over 姓名, 账号 and 手机号.
    The office only."""

    serializer_class = UserSerializer
    permission_classes = [IsOffice]
    search_fields = ["first_name", "username", "profile__phone"]

    def get_queryset(self):
        roles = Membership.objects.select_related("unit").order_by("role", "id")
        return (
            User.objects.select_related("profile")
            .prefetch_related(Prefetch("memberships", queryset=roles))
            .order_by("username", "id")
        )
