"""Companies, people, invitations and company API keys for superusers. Keys: find, rotate, revoke;
never a hash or a stored secret. Keys are made through the API and the dashboard only; rotating
from here shows each new key once, on the page that answers the action, like the dashboard does."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.template.response import TemplateResponse

from accounts.models import Company, CompanyApiKey, Invitation, User
from accounts.services import account_changed_by_admin, api_key_revoke, api_key_rotate, grace_hours
from config.errors import ApiError
from config.sockets import access_changed


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

    def save_model(self, request, user, form, change):
        before = User.objects.filter(pk=user.pk).first() if change else None
        super().save_model(request, user, form, change)
        if before is not None:
            account_changed_by_admin(before=before, after=user)

    def delete_model(self, request, user):
        access_changed("user", user.pk)  # their open sockets close
        super().delete_model(request, user)

    def delete_queryset(self, request, queryset):
        for user_id in queryset.values_list("pk", flat=True):
            access_changed("user", user_id)
        super().delete_queryset(request, queryset)


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


HIDDEN_KEY_FIELDS = ["key_hash", "previous_key_hash"]
KEY_STATE_FIELDS = ["api_key", "key_last_four", "previous_api_key", "previous_valid_until", "revoked_at",
                    "last_used_at"]


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return [("yes", "Revoked"), ("no", "Active")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(queryset.model.refused())
        if self.value() == "no":
            return queryset.exclude(queryset.model.refused())
        return queryset


class KeyAdmin(admin.ModelAdmin):
    """What integrations and company keys share: key display, filters, rotate and revoke actions."""

    exclude = HIDDEN_KEY_FIELDS
    actions = ["rotate_keys", "revoke_keys"]

    def has_add_permission(self, request):
        return False  # a key is made by the API or the dashboard, which show its secret once

    @admin.display(description="key")
    def key(self, record):
        return record.key_preview

    @admin.display(description="revoked", boolean=True)
    def revoked(self, record):
        return bool(record.refusal_reason)

    @admin.display(description="why refused")
    def refusal_reason(self, record):
        return record.refusal_reason or "-"

    @admin.action(description="Rotate the keys (the old ones work for the grace period)")
    def rotate_keys(self, request, queryset):
        rotated, refused = [], []
        for record in queryset:
            try:
                rotated.append(self.rotate(record))
            except ApiError as exc:
                refused.append(f"{record}: {exc.message}")
        for message in refused:
            self.message_user(request, message, messages.WARNING)
        return TemplateResponse(request, "accounts/admin_rotated_keys.html", {
            **self.admin_site.each_context(request), "title": "Rotated keys", "rotated": rotated,
            "opts": self.model._meta, "grace_hours": grace_hours(),
        })

    @admin.action(description="Revoke the keys (refused at once)")
    def revoke_keys(self, request, queryset):
        for record in queryset:
            self.revoke(record)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(CompanyApiKey)
class CompanyApiKeyAdmin(KeyAdmin):
    list_display = ["name", "company", "scope", "key", "revoked", "refusal_reason", "created_by", "last_used_at",
                    "created_at"]
    list_filter = ["scope", RevokedFilter, ("company", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["id", "name", "api_key", "company__name", "created_by__email"]
    list_select_related = ["company", "created_by"]
    readonly_fields = ["id", "company", "scope", "created_by", "key", *KEY_STATE_FIELDS, "refusal_reason",
                       "created_at"]
    fields = ["id", "name", "company", "scope", "created_by", "key", *KEY_STATE_FIELDS, "refusal_reason",
              "created_at"]

    def rotate(self, api_key):
        return api_key_rotate(api_key=api_key)

    def revoke(self, api_key):
        return api_key_revoke(api_key=api_key)
