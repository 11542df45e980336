from django.db import transaction

from accounts.models import Company, User
from accounts.roles import Role
from accounts.selectors import user_by_supabase_uid


@transaction.atomic
def company_signup(*, company_name: str, name: str, email: str, password: str | None,
                   supabase_uid: str | None = None) -> User:
    """Create a company and its owner. With Supabase auth the password lives in Supabase."""
    company = Company.objects.create(name=company_name.strip())
    user = User.objects.create_user(
        email=email, password=password, name=name.strip(), company=company, role=Role.OWNER,
        supabase_uid=supabase_uid,
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def user_for_supabase_identity(*, uid: str, email: str, email_confirmed: bool) -> User | None:
    """The local user a Supabase identity maps to: by its id, else by email on first use (linked).

    Linking by email needs Supabase's word that the address was confirmed: otherwise anyone could
    register somebody else's address in Supabase and take over that person's Docent account.
    """
    user = user_by_supabase_uid(uid)
    if user is not None or not (email and email_confirmed):
        return user
    user = User.objects.select_related("company").filter(email=email.strip().lower(),
                                                         supabase_uid__isnull=True).first()
    if user is not None:
        user.supabase_uid = uid
        user.save(update_fields=["supabase_uid"])
    return user


def company_update(*, company: Company, **fields) -> Company:
    for name, value in fields.items():
        setattr(company, name, value)
    company.save(update_fields=list(fields))
    return company


@transaction.atomic
def company_delete(*, company: Company) -> None:
    """Delete the company with everything it owns (users, files, chatbots, conversations)."""
    company.delete()
