import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.roles import Capability, Role, role_allows


class Company(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField()
    logo = models.TextField(blank=True, null=True)
    plan = models.TextField(default="free")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "companies"
        verbose_name_plural = "companies"
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def limits(self) -> dict:
        """The plan's limits (files, storage, messages per month, requests per minute)."""
        return settings.PLANS.get(self.plan, settings.PLANS["free"])


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.TextField(blank=True, default="")
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    supabase_uid = models.UUIDField(unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into Django admin.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        ordering = ["created_at"]

    def __str__(self):
        return self.email

    def can(self, capability: Capability) -> bool:
        return self.company_id is not None and role_allows(self.role, capability)
