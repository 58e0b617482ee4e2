from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Access and roles"

    def ready(self) -> None:
        from django.contrib import admin

        from apps.accounts import signals  # noqa: F401 - new accounts get the viewer role
        from apps.accounts.permissions import admin_site_allows

        # The admin site follows the permission table too (staff alone is not enough).
        admin.site.has_permission = admin_site_allows
