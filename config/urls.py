from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("accord.api.urls")),
    path("", include("accord.web.urls")),
]

handler400 = "accord.web.errors.bad_request"
handler403 = "accord.web.errors.forbidden"
handler404 = "accord.web.errors.not_found"
handler500 = "accord.web.errors.server_error"
