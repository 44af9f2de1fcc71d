from django.urls import path

from accord.web import dpo_views, index_views, marac_views, settings_views, signin, views
from accord.web import people_views as people

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
    path("people/", people.people_search, name="people-search"),
    path("people/new/", people.person_new, name="person-new"),
    path("people/<uuid:person_id>/", people.person, name="person"),
    path("people/<uuid:person_id>/records/new/", people.record_new, name="record-new"),
    path("people/<uuid:person_id>/addresses/new/", people.address_new, name="address-new"),
    path("people/<uuid:person_id>/consents/new/", people.consent_new, name="consent-new"),
    path("people/<uuid:person_id>/disclosures/new/", people.decision_new, name="decision-new"),
    path("people/<uuid:person_id>/requests/new/", people.request_new, name="request-new"),
    path("records/<uuid:record_id>/", people.record, name="record"),
    path("records/<uuid:record_id>/correct/", people.record_correct, name="record-correct"),
    path("consents/<uuid:consent_id>/withdraw/", people.consent_withdraw, name="consent-withdraw"),
    path("disclosures/<uuid:decision_id>/", people.decision, name="decision"),
    path(
        "disclosures/<uuid:decision_id>/approve/", people.decision_approve, name="decision-approve"
    ),
    path("disclosures/<uuid:decision_id>/refuse/", people.decision_refuse, name="decision-refuse"),
    path("disclosures/<uuid:decision_id>/revoke/", people.decision_revoke, name="decision-revoke"),
    path("requests/<uuid:request_id>/", people.information_request, name="request"),
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
    path("marac/", marac_views.meeting_list, name="marac-meeting-list"),
    path("marac/new/", marac_views.meeting_new, name="marac-meeting-new"),
    path("marac/<uuid:meeting_id>/", marac_views.meeting, name="marac-meeting"),
    path(
        "marac/<uuid:meeting_id>/agencies/",
        marac_views.meeting_agencies,
        name="marac-meeting-agencies",
    ),
    path(
        "marac/<uuid:meeting_id>/cancel/", marac_views.meeting_cancel, name="marac-meeting-cancel"
    ),
    path("marac/cases/<uuid:case_id>/remove/", marac_views.case_remove, name="marac-case-remove"),
    path("people/<uuid:person_id>/marac/refer/", marac_views.person_refer, name="marac-refer"),
    path("index/", index_views.review_queue, name="index-queue"),
    path("index/reviews/<uuid:item_id>/", index_views.review_item, name="index-review"),
    path(
        "index/reviews/<uuid:item_id>/decide/",
        index_views.review_decide,
        name="index-review-decide",
    ),
    path(
        "people/<uuid:person_id>/merges/<uuid:merge_id>/undo/",
        index_views.merge_undo,
        name="merge-undo",
    ),
    path(
        "people/<uuid:person_id>/identities/<uuid:identity_id>/detach/",
        index_views.identity_detach,
        name="identity-detach",
    ),
    path("index/data-quality/", index_views.data_quality, name="data-quality"),
    path("index/settings/", index_views.index_settings, name="index-settings"),
    path("index/settings/rematch/", index_views.index_rematch, name="index-rematch"),
    path("index/settings/runs/<uuid:run_id>/", index_views.index_run, name="index-run"),
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
