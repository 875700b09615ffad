from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import Holder, User
from accounts.services import deactivate_user


class HolderInline(admin.StackedInline):
    model = Holder
    can_delete = False
    fields = ["first_name", "last_name", "phone", "address", "date_of_birth"]


class EmailUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    inlines = [HolderInline]
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "holder__first_name", "holder__last_name"]
    list_select_related = ["holder"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        ),
    ]
    filter_horizontal = ["groups"]
    actions = ["deactivate"]

    # A password set here (the password form) or `is_active` cleared on the change form ends
    # the user's sessions too: accounts/signals.py sees every save.
    @admin.action(
        description="Deactivate the selected users (ends their sessions)", permissions=["change"]
    )
    def deactivate(self, request, queryset) -> None:
        users = list(queryset.filter(is_active=True))
        for user in users:
            deactivate_user(user=user)
        self.message_user(request, f"{len(users)} user(s) deactivated.", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a customer with a ledger history is deactivated, never deleted

    @admin.display(description="Name")
    def full_name(self, user: User) -> str:
        return user.holder.full_name if hasattr(user, "holder") else ""
