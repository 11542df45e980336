from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods

from accounts.forms import CompanyForm, LoginForm, SignupForm
from accounts.roles import Capability
from accounts.scoping import CompanyScopedView
from accounts.services import company_signup, company_update, user_for_supabase_claims
from accounts.supabase import (
    SupabaseAuthFailed,
    supabase_auth_enabled,
    supabase_send_password_reset,
    supabase_sign_in,
    supabase_sign_up,
)
from config.public import public

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


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
            next_url = request.POST.get("next") or request.GET.get("next") or ""
            return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "dashboard")
    return render(request, "accounts/login.html", {"form": form, "error": error,
                                                    "next": request.GET.get("next", "")})


def _login(request, form):
    """(user, None) on success, (None, message) otherwise; Supabase Auth checks the password when on."""
    if not supabase_auth_enabled():
        if form.is_valid():
            return form.user, None
        return None, " ".join(form.non_field_errors()) or "Enter your email and password."
    email = request.POST.get("email", "").strip().lower()
    try:
        identity = supabase_sign_in(email=email, password=request.POST.get("password", ""))
    except SupabaseAuthFailed as exc:
        return None, str(exc)
    user = user_for_supabase_claims({"sub": identity.uid, "email": identity.email})
    if user is None or not user.is_active:
        return None, "No Docent account uses this email yet: sign up first."
    return user, None


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
                                         redirect_to=self.request.build_absolute_uri(reverse("login")))
        except SupabaseAuthFailed as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        return redirect(self.success_url)


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
