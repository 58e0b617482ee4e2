"""A new account starts as a viewer (read only) until someone gives it another role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.roles import VIEWER, role_groups


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts_default_role")
def give_new_accounts_the_viewer_role(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:  # noqa: ANN001
    if not created or raw or instance.is_superuser:
        return
    instance.groups.add(role_groups()[VIEWER])
