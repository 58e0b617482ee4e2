"""Make the five role groups with their permissions, and make every existing account a viewer."""

from django.db import migrations

ROLES = ("viewer", "vetter", "adjudicator", "operator", "admin")
PERMISSIONS = {
    "view_site": "Read pages and the API when public reading is off",
    "label": "Label TCEs (vetting)",
    "adjudicate": "Record a final disposition on conflicting labels",
    "export_labels": "Export label snapshots",
    "run_jobs": "Queue processing, search, scoring, reductions and downloads of given targets",
    "manage_jobs": "Cancel and retry any job; see every job's details",
    "administer": "Train and change default models, catalogue-wide downloads, demo loads, users",
}
ADDED_BY_ROLE = {
    "viewer": ("view_site",),
    "vetter": ("label",),
    "adjudicator": ("adjudicate", "export_labels"),
    "operator": ("run_jobs", "manage_jobs"),
    "admin": ("administer",),
}


def make_roles(apps, schema_editor):
    # Permissions are normally made after migrate (post_migrate); the groups need them now.
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="access")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    for codename, name in PERMISSIONS.items():
        Permission.objects.get_or_create(content_type=content_type, codename=codename, defaults={"name": name})
    held = []
    groups = {}
    for role in ROLES:
        held.extend(ADDED_BY_ROLE[role])
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(Permission.objects.filter(content_type=content_type, codename__in=held))
        groups[role] = group
    # Existing staff become admins, everyone else a viewer (before roles, staff could do everything).
    for user in User.objects.all():
        user.groups.add(groups["admin" if user.is_staff or user.is_superuser else "viewer"])


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(make_roles, drop_roles)]
