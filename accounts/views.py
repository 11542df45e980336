from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import AuthenticationFailed

from accounts.forms import (
    AcceptInvitationForm,
    CompanyForm,
    InviteForm,
    LoginForm,
    MemberRemoveForm,
    ResetPasswordForm,
    RoleForm,
    SignupForm,
)
from accounts.models import CompanyApiKey, Invitation, User
from accounts.roles import ASSIGNABLE_ROLES, Capability
from accounts.scoping import CompanyScopedView, request_company
from accounts.selectors import (
    account_exists,
    api_key_list,
    api_keys_acting_as,
    invitation_by_token,
    invitation_list,
    member_list,
)
from accounts.services import (
    UNUSABLE_INVITATION,
    company_signup,
    company_update,
    grace_hours,
    invitation_accept_existing_user,
    invitation_accept_new_user,
    invitation_create,
    invitation_join_check,
    invitation_resend,
    invitation_revoke,
    member_remove,
    member_update_role,
    ownership_transfer,
    supabase_login,
    supabase_password_set,
)
from accounts.supabase import SupabaseAuthFailed, supabase_auth_enabled, supabase_send_password_reset
from accounts.tokens import verify_supabase_token
from config import rls
from config.errors import ApiError
from config.public import public

MODEL_BACKEND = "accounts.backends.CompanyUserBackend"


@public("the signup page: shows no company data")
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = company_signup(company_name=data["company_name"], name=data["name"], email=data["email"],
                                  password=data["password"])
        except SupabaseAuthFailed as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome to Docent, {user.name or user.email}.")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form})


@public("the login page: shows no company data")
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request, request.POST or None) if not supabase_auth_enabled() else None
    error = None
    if request.method == "POST":
        user, error = _login(request, form)
        if user is not None:
            login(request, user, backend=MODEL_BACKEND)
            return redirect(_next_url(request) or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/login.html", {"form": form, "error": error,
                                                    "next": request.GET.get("next", "")})


def _next_url(request) -> str | None:
    """Where the login form says to go, if it is on this site: browsers read `/\\host` as
    `//host`, so a prefix check on "/" would let a crafted link send users elsewhere."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return next_url
    return None


def _login(request, form):
    """(user, None) on success, (None, message) otherwise; Supabase Auth checks the password when on."""
    if not supabase_auth_enabled():
        if form.is_valid():
            return form.user, None
        return None, " ".join(form.non_field_errors()) or "Enter your email and password."
    email = request.POST.get("email", "").strip().lower()
    password = request.POST.get("password", "")
    if not email or not password:
        return None, "Enter your email and password."
    try:
        return supabase_login(email=email, password=password), None
    except SupabaseAuthFailed as exc:
        return None, str(exc)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    form_class = ResetPasswordForm

    def form_valid(self, form):
        if not supabase_auth_enabled():
            return super().form_valid(form)
        try:
            supabase_send_password_reset(email=form.cleaned_data["email"],
                                         redirect_to=self.request.build_absolute_uri(
                                             reverse("supabase_password_reset")))
        except SupabaseAuthFailed as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        return redirect(self.success_url)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's; the account its link names is found through a way around row-level security, and the
    request's transaction then admits that account's row, for its new password."""

    template_name = "accounts/password_reset_confirm.html"

    def get_user(self, uidb64):
        with rls.dangerously_all_companies(rls.WayAround.PASSWORD_RESET):
            user = super().get_user(uidb64)
        rls.admit_user(user)
        return user


@public("the page Supabase's password recovery link opens: shows no company data")
@require_http_methods(["GET", "POST"])
def supabase_password_reset(request):
    """Choose a new password with the session a Supabase recovery link opens.

    The link brings that session in the URL fragment, which only the browser sees:
    static/js/supabase-recovery.js moves its tokens into the form's hidden fields.
    """
    if not supabase_auth_enabled():
        raise Http404
    access_token = request.POST.get("access_token", "")
    refresh_token = request.POST.get("refresh_token", "")
    form, link_error = SetPasswordForm(None), None
    if request.method == "POST":
        try:
            claims = verify_supabase_token(access_token)
        except AuthenticationFailed as exc:
            link_error = f"This link cannot be used: {exc.detail}"
        else:
            form = SetPasswordForm(User(email=claims.get("email", "")), request.POST)
            user = _set_supabase_password(form, access_token=access_token, refresh_token=refresh_token)
            if user is not None:
                login(request, user, backend=MODEL_BACKEND)
                messages.success(request, "Your password is changed.")
                return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/supabase_password_reset.html", {
        "form": form, "link_error": link_error,
        "access_token": access_token, "refresh_token": refresh_token})


def _set_supabase_password(form: SetPasswordForm, *, access_token: str, refresh_token: str
                           ) -> User | None:
    """The Docent user whose Supabase password is now the form's, or None with the reason on the form.
    Django's validators run first, so a weak password never reaches Supabase."""
    if not form.is_valid():
        return None
    try:
        return supabase_password_set(access_token=access_token, refresh_token=refresh_token,
                                     password=form.cleaned_data["new_password1"])
    except SupabaseAuthFailed as exc:
        form.add_error(None, str(exc))
        return None


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page; with Supabase Auth on, the password lives there, so it offers the emailed link."""

    template_name = "accounts/password_change.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "supabase_auth": supabase_auth_enabled()}


class CompanySettingsView(CompanyScopedView):
    required_capability = Capability.MANAGE_COMPANY

    def get(self, request):
        return render(request, "accounts/company.html", {"form": CompanyForm(instance=self.company)})

    def post(self, request):
        form = CompanyForm(request.POST, instance=self.company)
        if form.is_valid():
            company_update(company=self.company, name=form.cleaned_data["name"], logo=form.cleaned_data["logo"])
            messages.success(request, "Company settings saved.")
            return redirect("company_settings")
        return render(request, "accounts/company.html", {"form": form})


# --- Team ------------------------------------------------------------------------------------

NEW_INVITATION = "new_invitation"


def _hand_link_to_inviter(request, invitation: Invitation) -> None:
    """Keep the new invitation's link for the team page the inviter is sent back to: it shows it once,
    so the inviter can pass it on whether or not the email arrives (only the token's hash is stored)."""
    request.session[NEW_INVITATION] = {"email": invitation.email, "link": invitation.accept_link}


def _team_page(request, invite_form: InviteForm, status: int = 200):
    company, user = request_company(request), request.user
    return render(request, "accounts/team.html", {
        "new_invitation": request.session.pop(NEW_INVITATION, None),
        "members": member_list(company=company),
        "invitations": invitation_list(company=company),
        "invite_form": invite_form,
        "roles": ASSIGNABLE_ROLES,
        "can_manage": user.can(Capability.MANAGE_MEMBERS),
        "can_transfer": user.can(Capability.CHANGE_OWNER),
        "expiry_hours": settings.INVITATION_EXPIRY_HOURS,
    }, status=status)


class TeamPage(CompanyScopedView):
    """Everyone sees who is in the company; owners and admins also invite and manage people."""

    def get(self, request):
        return _team_page(request, InviteForm())


class TeamInviteView(CompanyScopedView):
    required_capability = Capability.MANAGE_MEMBERS
    http_method_names = ["post"]

    def post(self, request):
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation = invitation_create(company=self.company, invited_by=request.user,
                                               site_url=request.build_absolute_uri("/"), **form.cleaned_data)
            except ApiError as error:
                form.add_error("email" if error.code == "already_member" else None, error.message)
            else:
                _hand_link_to_inviter(request, invitation)
                messages.success(request, f"Invitation emailed to {invitation.email}.")
                return redirect("team")
        return _team_page(request, form, status=400)


class TeamAction(CompanyScopedView):
    """A button on the team page: one service call on one member or invitation, then back to the page
    with what happened, or why not (the same refusals the API gives)."""

    required_capability = Capability.MANAGE_MEMBERS
    http_method_names = ["post"]

    def perform(self, request, target) -> str:
        raise NotImplementedError

    def post(self, request, pk):
        target = self.get_object(pk)
        try:
            messages.success(request, self.perform(request, target))
        except ApiError as error:
            messages.error(request, error.message)
        return redirect("team")


class MemberAction(TeamAction):
    def safely_get_queryset(self, company):
        return member_list(company=company)


class InvitationAction(TeamAction):
    def safely_get_queryset(self, company):
        return invitation_list(company=company)


class MemberRoleView(MemberAction):
    def perform(self, request, member):
        form = RoleForm(request.POST)
        if not form.is_valid():
            raise ApiError("Choose admin or member.")
        member = member_update_role(member=member, role=form.cleaned_data["role"])
        return f"{member.name or member.email} is now {member.get_role_display().lower()}."


class MemberRemoveView(MemberAction):
    """The removal dialog lists the company API keys acting as the person first (a live integration may
    depend on one) and offers to transfer them to the remover instead of revoking them."""

    http_method_names = ["get", "post"]

    def get(self, request, pk):
        member = self.get_object(pk)
        return render(request, "accounts/member_remove.html", {
            "member": member, "api_keys": api_keys_acting_as(member=member), "form": MemberRemoveForm(),
            "can_take_keys": member != request.user})

    def perform(self, request, member):
        form = MemberRemoveForm(request.POST)
        if not form.is_valid():
            raise ApiError("Choose whether to revoke their API keys or transfer them to you.")
        api_keys = member_remove(member=member, removed_by=request.user, transfer_api_keys=form.transfer_api_keys)
        name = member.name or member.email
        if not api_keys:
            return f"{name} no longer belongs to {self.company.name}."
        fate = "transferred to you" if form.transfer_api_keys and member != request.user else "revoked"
        return f"{name} no longer belongs to {self.company.name}; their {len(api_keys)} API key(s) were {fate}."


class ApiKeysPage(CompanyScopedView):
    """The company's API keys: create (shown once), rotate, revoke, delete; refused ones say why."""

    required_capability = Capability.MANAGE_KEYS

    def safely_get_queryset(self, company):
        return api_key_list(company=company)

    def get(self, request):
        return render(request, "accounts/api_keys.html", {
            "api_keys": self.get_queryset(),
            "scopes": CompanyApiKey.Scope.choices,
            "origin": request.build_absolute_uri("/").rstrip("/"),
            "grace_hours": grace_hours(),
        })


class OwnershipTransferView(MemberAction):
    required_capability = Capability.CHANGE_OWNER

    def perform(self, request, member):
        ownership_transfer(owner=request.user, new_owner=member)
        return f"{member.name or member.email} is now the owner; you are an admin."


class InvitationResendView(InvitationAction):
    def perform(self, request, invitation):
        invitation = invitation_resend(invitation=invitation, resent_by=request.user,
                                       site_url=request.build_absolute_uri("/"))
        _hand_link_to_inviter(request, invitation)
        return f"A new invitation link was emailed to {invitation.email}; the earlier one no longer works."


class InvitationRevokeView(InvitationAction):
    def perform(self, request, invitation):
        invitation_revoke(invitation=invitation)
        return f"The invitation to {invitation.email} is revoked; its link no longer works."


# --- Accepting an invitation -----------------------------------------------------------------

INVALID_INVITATION = "This invitation link is not valid. Check that you opened the whole link from the email."


@public("reached with the secret token of an emailed invitation; shows its holder only the inviting "
        "company's name and the invited address")
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = invitation_by_token(token)
    if invitation is None:
        return _invitation_page(request, None, problem=INVALID_INVITATION, status=404)
    if invitation.status != Invitation.Status.PENDING:
        return _invitation_page(request, invitation, problem=UNUSABLE_INVITATION[invitation.status], status=410)
    if request.user.is_authenticated:
        return _accept_as_logged_in_user(request, invitation)
    if account_exists(email=invitation.email):
        return _invitation_page(request, invitation, login_needed=True)
    return _accept_as_new_user(request, invitation)


def _invitation_page(request, invitation: Invitation | None, status: int = 200, **context):
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation, **context}, status=status)


def _joined(request, user: User):
    messages.success(request, f"Welcome to {user.company.name}, {user.name or user.email}.")
    return redirect(settings.LOGIN_REDIRECT_URL)


def _accept_as_new_user(request, invitation: Invitation):
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = invitation_accept_new_user(invitation=invitation, name=data["name"], password=data["password"])
        except SupabaseAuthFailed as exc:
            form.add_error(None, str(exc))
        except ApiError as error:
            return _invitation_page(request, invitation, problem=error.message, status=error.status_code)
        else:
            login(request, user, backend=MODEL_BACKEND)
            return _joined(request, user)
    return _invitation_page(request, invitation, form=form)


def _accept_as_logged_in_user(request, invitation: Invitation):
    user = request.user
    if user.company_id == invitation.company_id:
        messages.info(request, f"You already belong to {invitation.company.name}.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    try:
        invitation_join_check(user=user, invitation=invitation)
        if request.method == "POST":
            return _joined(request, invitation_accept_existing_user(invitation=invitation, user=user))
    except ApiError as error:
        return _invitation_page(request, invitation, problem=error.message, status=error.status_code)
    return _invitation_page(request, invitation, join=True)
