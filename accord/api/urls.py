from django.urls import path

from accord.api import docs, people, views

app_name = "api"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("agencies/", views.AgencyListView.as_view(), name="agency-list"),
    path("agencies/<uuid:agency_id>/", views.AgencyDetailView.as_view(), name="agency-detail"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/<uuid:user_id>/", views.UserDetailView.as_view(), name="user-detail"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
]

# People, their records, consent, disclosure decisions and information requests.
urlpatterns += [
    path("people/", people.PersonCreateView.as_view(), name="person-create"),
    path("people/search/", people.PersonSearchView.as_view(), name="person-search"),
    path("people/<uuid:person_id>/", people.PersonDetailView.as_view(), name="person-detail"),
    path(
        "people/<uuid:person_id>/chronology/",
        people.ChronologyView.as_view(),
        name="person-chronology",
    ),
    path(
        "people/<uuid:person_id>/records/", people.RecordCreateView.as_view(), name="record-create"
    ),
    path(
        "people/<uuid:person_id>/addresses/",
        people.AddressCreateView.as_view(),
        name="address-create",
    ),
    path(
        "people/<uuid:person_id>/consents/", people.ConsentListView.as_view(), name="consent-list"
    ),
    path(
        "people/<uuid:person_id>/disclosures/",
        people.DecisionCreateView.as_view(),
        name="decision-create",
    ),
    path(
        "people/<uuid:person_id>/information-requests/",
        people.RequestCreateView.as_view(),
        name="request-create",
    ),
    path("records/<uuid:record_id>/", people.RecordDetailView.as_view(), name="record-detail"),
    path(
        "records/<uuid:record_id>/corrections/",
        people.RecordCorrectView.as_view(),
        name="record-correct",
    ),
    path(
        "consents/<uuid:consent_id>/withdrawals/",
        people.ConsentWithdrawView.as_view(),
        name="consent-withdraw",
    ),
    path(
        "disclosures/<uuid:decision_id>/",
        people.DecisionDetailView.as_view(),
        name="decision-detail",
    ),
    path(
        "disclosures/<uuid:decision_id>/approval/",
        people.DecisionApproveView.as_view(),
        name="decision-approve",
    ),
    path(
        "disclosures/<uuid:decision_id>/refusal/",
        people.DecisionRefuseView.as_view(),
        name="decision-refuse",
    ),
    path(
        "disclosures/<uuid:decision_id>/revocation/",
        people.DecisionRevokeView.as_view(),
        name="decision-revoke",
    ),
    path("information-requests/", people.RequestListView.as_view(), name="request-list"),
    path(
        "information-requests/<uuid:request_id>/decline/",
        people.RequestDeclineView.as_view(),
        name="request-decline",
    ),
]
