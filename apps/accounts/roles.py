"""Roles: five cumulative Django groups, each a set of the permissions on ``accounts.Access``.

The groups are made by a data migration (``0002_roles``); this module is the one description of
what each role may do, used by that migration, ``set_role`` and the README's permission table.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

VIEWER, VETTER, ADJUDICATOR, OPERATOR, ADMIN = "viewer", "vetter", "adjudicator", "operator", "admin"

#: Lowest to highest; each role has every permission of the roles before it.
ROLES: tuple[str, ...] = (VIEWER, VETTER, ADJUDICATOR, OPERATOR, ADMIN)

_ADDED_BY_ROLE: dict[str, tuple[str, ...]] = {
    VIEWER: ("view_site",),
    VETTER: ("label",),
    ADJUDICATOR: ("adjudicate", "export_labels"),
    OPERATOR: ("run_jobs", "manage_jobs"),
    ADMIN: ("administer",),
}


def role_permissions(role: str) -> tuple[str, ...]:
    """Codenames (on ``accounts.Access``) that ``role`` holds, its own and all lower roles'."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    held: list[str] = []
    for name in ROLES[: ROLES.index(role) + 1]:
        held.extend(_ADDED_BY_ROLE[name])
    return tuple(held)


def role_of(user) -> str | None:  # noqa: ANN001 - a django user or AnonymousUser
    """The highest role of ``user`` (superusers are admins); None for anonymous visitors."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return ADMIN
    names = {g.name for g in user.groups.all()}
    held = [role for role in ROLES if role in names]
    return held[-1] if held else None


def role_groups() -> dict[str, Group]:
    """The role groups by name, made again with their permissions if something deleted them.

    The migration ``0002_roles`` makes them; this restores them where tables were flushed since
    (``flush``, transactional tests) so that roles never silently stop working.
    """
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    if len(groups) == len(ROLES):
        return groups
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from apps.accounts.models import Access

    content_type = ContentType.objects.get_for_model(Access, for_concrete_model=False)
    labels = dict(Access._meta.permissions)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        perms = [
            Permission.objects.get_or_create(content_type=content_type, codename=code, defaults={"name": labels[code]})[0]
            for code in role_permissions(role)
        ]
        group.permissions.set(perms)
        groups[role] = group
    return groups


def set_role(user, role: str) -> None:  # noqa: ANN001 - a django user
    """Give ``user`` exactly ``role``: one role group; admins also get the Django admin (staff)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    groups = role_groups()
    user.groups.remove(*[groups[name] for name in ROLES if name != role])
    user.groups.add(groups[role])
    user.is_staff = role == ADMIN
    user.is_superuser = role == ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, cache):
            delattr(user, cache)
