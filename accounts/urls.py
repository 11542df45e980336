from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import api, views
from config.paths import SpecRouter, spec_path
from config.public import public

AUTH_PAGE = "an authentication page: shows no company data before login"
OWN_ACCOUNT = "acts only on the logged-in user's own password, never on company data"

router = SpecRouter()
router.register("api/team/members", api.MemberViewSet, basename="api-team-member")
router.register("api/team/invitations", api.InvitationViewSet, basename="api-team-invitation")
router.register("api/keys", api.ApiKeyViewSet, basename="api-key")

urlpatterns = [
    *spec_path("api/me", api.MeView.as_view(), name="api-me"),
    *spec_path("api/company", api.CompanyView.as_view(), name="api-company"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", public(AUTH_PAGE)(auth_views.LogoutView.as_view()), name="logout"),
    path("password/change/", public(OWN_ACCOUNT)(views.PasswordChangeView.as_view()), name="password_change"),
    path("password/change/done/", public(OWN_ACCOUNT)(auth_views.PasswordChangeDoneView.as_view(
        template_name="accounts/password_change_done.html")), name="password_change_done"),
    path("password/reset/", public(AUTH_PAGE)(views.PasswordResetView.as_view()), name="password_reset"),
    path("password/reset/sent/", public(AUTH_PAGE)(auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html")), name="password_reset_done"),
    path("password/reset/supabase/", views.supabase_password_reset, name="supabase_password_reset"),
    path("password/reset/<uidb64>/<token>/", public(AUTH_PAGE)(views.PasswordResetConfirmView.as_view()),
         name="password_reset_confirm"),
    path("password/reset/complete/", public(AUTH_PAGE)(auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html")), name="password_reset_complete"),
    path("settings/company/", views.CompanySettingsView.as_view(), name="company_settings"),
    *router.urls,
    path("settings/team/", views.TeamPage.as_view(), name="team"),
    path("settings/team/invite/", views.TeamInviteView.as_view(), name="team_invite"),
    path("settings/team/members/<uuid:pk>/role/", views.MemberRoleView.as_view(), name="team_member_role"),
    path("settings/team/members/<uuid:pk>/remove/", views.MemberRemoveView.as_view(), name="team_member_remove"),
    path("settings/api-keys/", views.ApiKeysPage.as_view(), name="api_keys"),
    path("settings/team/members/<uuid:pk>/transfer-ownership/", views.OwnershipTransferView.as_view(),
         name="team_ownership_transfer"),
    path("settings/team/invitations/<uuid:pk>/resend/", views.InvitationResendView.as_view(),
         name="team_invitation_resend"),
    path("settings/team/invitations/<uuid:pk>/revoke/", views.InvitationRevokeView.as_view(),
         name="team_invitation_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
