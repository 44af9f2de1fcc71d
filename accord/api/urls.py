from django.urls import path

from accord.api import docs, views

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
