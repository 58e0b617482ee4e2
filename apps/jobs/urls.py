from django.urls import path

from apps.jobs import pages

urlpatterns = [
    path("jobs/", pages.job_list, name="job-list"),
    path("jobs/new/", pages.job_enqueue, name="job-enqueue"),
    path("jobs/<int:job_id>/", pages.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/cancel/", pages.job_cancel, name="job-cancel"),
    path("jobs/<int:job_id>/retry/", pages.job_retry, name="job-retry"),
    path("artifacts/<int:artifact_id>/download/", pages.artifact_download, name="artifact-download"),
]
