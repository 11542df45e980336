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

from accounts.forms import CompanyForm, LoginForm, SignupForm
from accounts.models import User
from accounts.roles import Capability
from accounts.scoping import CompanyScopedView
from accounts.services import company_signup, company_update, user_for_supabase_identity
from accounts.supabase import (
    SupabaseAuthFailed,
    SupabaseIdentity,
    supabase_auth_enabled,
    supabase_send_password_reset,
    supabase_sign_in,
    supabase_sign_up,
    supabase_update_password,
)
from accounts.tokens import verify_supabase_token
from config.public import public

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
NO_DOCENT_ACCOUNT = "No Docent account uses this email yet: sign up first."


@public("the signup page: shows no company data")
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = _signup(data)
        except SupabaseAuthFailed as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome to Docent, {user.name or user.email}.")
            return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form})


def _signup(data: dict):
    fields = {"company_name": data["company_name"], "name": data["name"], "email": data["email"]}
    if supabase_auth_enabled():
        identity = supabase_sign_up(email=data["email"], password=data["password"], name=data["name"])
        return company_signup(**fields, password=None, supabase_uid=identity.uid)
    return company_signup(**fields, password=data["password"])


@public("the login page: shows no company data")
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = LoginForm(request, request.POST or None) if not supabase_auth_enabled() else None
    error = None
    if request.method == "POST":
        user, error = _login(request, form)
        if user is not None:
            login(request, user, backend=MODEL_BACKEND)
            return redirect(_next_url(request) or "dashboard")
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
        identity = supabase_sign_in(email=email, password=password)
    except SupabaseAuthFailed as exc:
        return None, str(exc)
    user = _docent_user(identity)
    return (user, None) if user is not None else (None, NO_DOCENT_ACCOUNT)


def _docent_user(identity: SupabaseIdentity) -> User | None:
    user = user_for_supabase_identity(uid=identity.uid, email=identity.email,
                                      email_confirmed=identity.email_confirmed)
    return user if user is not None and user.is_active else None


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

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
                return redirect("dashboard")
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
        identity = supabase_update_password(access_token=access_token, refresh_token=refresh_token,
                                            password=form.cleaned_data["new_password1"])
    except SupabaseAuthFailed as exc:
        form.add_error(None, str(exc))
        return None
    user = _docent_user(identity)
    if user is None:
        form.add_error(None, NO_DOCENT_ACCOUNT)
    return user


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
