from accounts.models import User


def user_by_supabase_uid(uid: str) -> User | None:
    return User.objects.select_related("company").filter(supabase_uid=uid).first()
