from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.template.response import TemplateResponse

from accounts.models import Holder, User
from accounts.services import deactivate_user


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


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
    search_fields = ["email", "holder__first_name", "holder__last_name", "holder__accounts__number"]
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
    def deactivate(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            users = list(queryset.filter(is_active=True))
            for user in users:
                deactivate_user(user=user, by=request.user, reason=form.cleaned_data["reason"])
            self.message_user(request, f"{len(users)} user(s) deactivated.", messages.SUCCESS)
            return None
        context = {  # the page between choosing the action and running it: who, and why
            **self.admin_site.each_context(request),
            "title": "Deactivate users",
            "accounts": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "label": "Deactivate",
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/ledger/reason_form.html", context)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a customer with a ledger history is deactivated, never deleted

    @admin.display(description="Name")
    def full_name(self, user: User) -> str:
        return user.holder.full_name if hasattr(user, "holder") else ""
