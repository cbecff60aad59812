"""Finding units by what offices write in a spreadsheet cell: a code, a full name or a short name."""

from __future__ import annotations

import re

from .choices import UnitKind
from .models import Unit
from .services import closest_names

LIST_SEPARATORS = re.compile(r"[、，,；;\n]+")
SPACES = re.compile(r"[\s\u3000]+")


def split_list(text: str) -> list[str]:
    """Several values in one cell, separated by 、 ， , ； ; or line breaks."""
    return [part.strip() for part in LIST_SEPARATORS.split(text or "") if part.strip()]


class UnitLookup:
    """Resolves unit references against one query of the units, with Chinese errors."""

    def __init__(self, queryset=None):
        units = list(
            (queryset if queryset is not None else Unit.objects.all()).only(
                "pk", "name", "short_name", "code", "kind", "path", "parent_id"
            )
        )
        self.by_code = {u.code: u for u in units}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in units:
            for name in {unit.name, unit.short_name} - {""}:
                self.by_name.setdefault(name, []).append(unit)

    def resolve(self, text: str, *, kinds=None) -> tuple[Unit | None, str | None]:
        """(unit, None) or (None, message)."""
        text = (text or "").strip()
        if text in self.by_code and (kinds is None or self.by_code[text].kind in kinds):
            return self.by_code[text], None
        candidates = [u for u in self.by_name.get(text, []) if kinds is None or u.kind in kinds]
        if len(candidates) == 1:
            return candidates[0], None
        if len(candidates) > 1:
            named = "、".join(f"{u.name}（编码 {u.code}）" for u in candidates[:5])
            more = f"等 {len(candidates)} 个" if len(candidates) > 5 else ""
            return None, f"有多个单位叫“{text}”：{named}{more}，请填写全称或编码。"
        wrong_kind = ([self.by_code[text]] if text in self.by_code else []) + self.by_name.get(text, [])
        if wrong_kind and kinds is not None:
            allowed = "或".join(UnitKind(k).label for k in UnitKind.values if k in kinds)
            return None, f"“{text}”是{wrong_kind[0].get_kind_display()}，此处应填写{allowed}。"
        hint = closest_names(text, sorted(self.by_name))
        suffix = f"相近的单位：{'、'.join(hint)}。" if hint else "请先在“单位”中新建或导入该单位。"
        return None, f"找不到单位“{text}”。{suffix}"

    def resolve_many(self, text: str, *, kinds=None) -> tuple[list[Unit], list[str]]:
        """Several units in one cell, separated by 、 ， , ； ; line breaks — or spaces, as
        evaluators write them ("区政务办 消防大队"): a part that names a unit as it stands is kept
        whole (a name may hold a space), otherwise it is split at its spaces. Returns the units
        (each once, in the cell's order) and the messages of the parts that resolve to none."""
        units: list[Unit] = []
        errors: list[str] = []
        for part in split_list(text):
            unit, message = self.resolve(part, kinds=kinds)
            pieces = [(unit, message)]
            if unit is None and SPACES.search(part):
                pieces = [self.resolve(piece, kinds=kinds) for piece in SPACES.split(part) if piece]
            for found, error in pieces:
                if found is None:
                    errors.append(error)
                elif found not in units:
                    units.append(found)
        return units, errors
