from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import Company, Invitation, User


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "user_count", "created_at"]
    list_filter = ["plan", "created_at"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "created_at"]

    @admin.display(description="users")
    def user_count(self, company):
        return company.users.count()


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "company", "role")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreateForm
    form = UserEditForm
    ordering = ["-created_at"]
    list_display = ["email", "name", "company", "role", "is_active", "is_staff", "created_at"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser", "company__plan"]
    search_fields = ["email", "name", "company__name"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    readonly_fields = ["id", "created_at", "last_login", "supabase_uid"]
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("name", "company", "role", "supabase_uid")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at")}),
    )
    add_fieldsets = ((None, {
        "classes": ("wide",),
        "fields": ("email", "company", "role", "usable_password", "password1", "password2"),
    }),)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Superusers see and revoke invitations; the link itself exists only in the email."""

    list_display = ["email", "company", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["role", "created_at"]
    search_fields = ["email", "company__name"]
    list_select_related = ["company", "invited_by"]
    autocomplete_fields = ["company"]
    readonly_fields = ["id", "token_hash", "invited_by", "created_at", "accepted_at", "status"]
    fields = ["id", "company", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at",
              "revoked_at", "status", "token_hash"]

    def has_add_permission(self, request):
        return False  # invitations are made from the team page, which emails the link
