"""Signing in with users behind row-level security (config.rls)."""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from config import rls


class CompanyUserBackend(ModelBackend):
    """Django's email-and-password backend. A login or a session names its user before the request knows a
    company, so the user is found through a way around the wall; the request's transaction then admits that
    user's own row and their company's rows (a last-login time, a new password, their company's pages)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        with rls.dangerously_all_companies(rls.WayAround.SIGNING_IN):
            user = super().authenticate(request, username=username, password=password, **kwargs)
        rls.admit_user(user)
        return user

    def get_user(self, user_id):
        with rls.dangerously_all_companies(rls.WayAround.SIGNING_IN):
            user = User._default_manager.select_related("company").filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        rls.admit_user(user)
        return user
