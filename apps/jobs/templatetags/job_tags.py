"""``{% job_requester job %}``: who asked for a job, as far as the visitor may know."""

from django import template

from apps.jobs.disclosure import requester_name

register = template.Library()


@register.simple_tag(takes_context=True)
def job_requester(context, job) -> str:  # noqa: ANN001
    request = context.get("request")
    return requester_name(user=getattr(request, "user", None), job=job)
