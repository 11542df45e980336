"""What the apps' admins share."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin import apps

from config import rls


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows a superuser may look at but not add, change or delete: they are derived from others
    (chunks from their data source, analytics from chat's messages) and are remade, not edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AdminSite(admin.AdminSite):
    """Superusers see every company: each admin page, once its permission check passed, is one of the ways
    around row-level security (config.rls)."""

    def admin_view(self, view, cacheable=False):
        @wraps(view)
        def every_company(request, *args, **kwargs):
            with rls.dangerously_all_companies(rls.WayAround.ADMIN):
                response = view(request, *args, **kwargs)
                if callable(getattr(response, "render", None)):
                    response.render()  # a template response reads its query sets as it renders, here
                return response
        return super().admin_view(every_company, cacheable)


class AdminConfig(apps.AdminConfig):
    default_site = "config.admin.AdminSite"
