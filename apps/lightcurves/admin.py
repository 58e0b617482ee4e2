from apps.catalog.admin import TargetAdmin
from apps.jobs.admin_actions import target_job_action

process_targets = target_job_action(
    name="process_targets", kind="process_target",
    description="Reprocess selected targets (views for every TCE, new versions)",
    done="Queued processing of {n} target(s).",
)
search_targets = target_job_action(
    name="search_targets", kind="search_target",
    description="Search selected targets for transits (BLS)",
    done="Queued searches of {n} target(s).",
)


TargetAdmin.actions = [*TargetAdmin.actions, process_targets, search_targets]
