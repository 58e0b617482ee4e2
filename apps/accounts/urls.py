from django.urls import path

from apps.accounts import pages

urlpatterns = [
    path("account/tokens/", pages.tokens, name="account-tokens"),
    path("account/tokens/<int:token_id>/revoke/", pages.token_revoke, name="account-token-revoke"),
]
