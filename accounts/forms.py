from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordResetForm

from accounts.models import Company, User
from accounts.roles import ASSIGNABLE_ROLES, Role
from accounts.selectors import account_exists
from config import rls


def check_password(form: forms.Form, candidate: User) -> None:
    """Django's password validators on the form's `password`, judged against the future account."""
    try:
        password_validation.validate_password(form.cleaned_data["password"], candidate)
    except forms.ValidationError as exc:
        form.add_error("password", exc)


class SignupForm(forms.Form):
    company_name = forms.CharField(max_length=200, label="Company name")
    name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if account_exists(email=email):
            raise forms.ValidationError("An account with this email already exists. Log in instead.")
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("email"):
            check_password(self, User(email=cleaned["email"], name=cleaned.get("name", "")))
        return cleaned


class ResetPasswordForm(PasswordResetForm):
    """Django's, finding the accounts of the email through a way around row-level security (config.rls)."""

    def get_users(self, email):
        with rls.dangerously_all_companies(rls.WayAround.PASSWORD_RESET):
            return list(super().get_users(email))


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.user = authenticate(self.request, email=cleaned["email"].lower(), password=cleaned["password"])
        if self.user is None:
            raise forms.ValidationError("Email or password is wrong.")
        return cleaned


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "logo"]
        widgets = {"name": forms.TextInput(), "logo": forms.URLInput()}
        labels = {"logo": "Logo URL"}


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=ASSIGNABLE_ROLES, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ASSIGNABLE_ROLES)


class MemberRemoveForm(forms.Form):
    """What becomes of the company API keys acting as the person removed."""

    REVOKE, TRANSFER = "revoke", "transfer"
    api_keys = forms.ChoiceField(choices=[(REVOKE, "Revoke them: they stop working now."),
                                          (TRANSFER, "Transfer them to me: they keep working, acting as me.")],
                                 initial=REVOKE, required=False, widget=forms.RadioSelect)

    @property
    def transfer_api_keys(self) -> bool:
        return self.cleaned_data.get("api_keys") == self.TRANSFER


class AcceptInvitationForm(forms.Form):
    """A new account for the invited address: the invitee only chooses a name and a password."""

    name = forms.CharField(max_length=200, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput, strip=False,
                               help_text=password_validation.password_validators_help_text_html())

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password"):
            check_password(self, User(email=self.email, name=cleaned.get("name", "")))
        return cleaned
