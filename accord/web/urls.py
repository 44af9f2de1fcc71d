from django.urls import path

from accord.web import dpo_views, settings_views, signin, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("sign-in/", signin.sign_in, name="sign-in"),
    path("sign-in/second-factor/", signin.second_factor, name="second-factor"),
    path("sign-in/second-factor/set-up/", signin.second_factor_setup, name="second-factor-setup"),
    path("sign-out/", signin.sign_out, name="sign-out"),
    path("account/password/", views.account_password, name="account-password"),
    path("agencies/", views.agency_list, name="agency-list"),
    path("agencies/new/", views.agency_create, name="agency-create"),
    path("agencies/<uuid:agency_id>/", views.agency_edit, name="agency-edit"),
    path("users/", views.user_list, name="user-list"),
    path("users/new/", views.user_create, name="user-create"),
    path("users/<uuid:user_id>/", views.user_edit, name="user-edit"),
    path(
        "users/<uuid:user_id>/reset-second-factor/",
        views.user_reset_second_factor,
        name="user-reset-second-factor",
    ),
    path("users/<uuid:user_id>/unlock/", views.user_unlock_sign_in, name="user-unlock"),
    path("api-keys/", views.api_key_list, name="api-key-list"),
    path("api-keys/<uuid:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("people/<uuid:person_id>/who-saw/", dpo_views.person_who_saw, name="person-who-saw"),
    path(
        "people/<uuid:person_id>/subject-access.csv",
        dpo_views.subject_access_csv,
        name="subject-access-csv",
    ),
    path(
        "people/<uuid:person_id>/subject-access.pdf",
        dpo_views.subject_access_pdf,
        name="subject-access-pdf",
    ),
    path("sharing-settings/", settings_views.sharing_settings, name="sharing-settings"),
    path(
        "sharing-settings/bases/new/",
        settings_views.lawful_basis_create,
        name="lawful-basis-create",
    ),
    path(
        "sharing-settings/bases/<uuid:basis_id>/",
        settings_views.lawful_basis_edit,
        name="lawful-basis-edit",
    ),
]
