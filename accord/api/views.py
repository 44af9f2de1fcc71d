"""API endpoints: thin, each declaring its action per method, calling services and selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accord.api import serializers as s
from accord.api.authentication import ApiKeyAuthentication, VerifiedSessionAuthentication
from accord.api.permissions import DeclaredActionPermission
from accord.partnership import selectors, services
from accord.partnership.permissions import Action


class Paginated(APIView):
    """A list answered in pages of `?limit=` and `?offset=` (50 by default)."""

    def page(self, request: Request, queryset: Any, serializer: type[Any]) -> Response:
        paginator = LimitOffsetPagination()
        items: list[Any] | None = paginator.paginate_queryset(queryset, request, view=self)
        response: Response = paginator.get_paginated_response(serializer(items, many=True).data)
        return response


class MeView(APIView):
    required_actions = {"GET": Action.AGENCY_VIEW}

    @extend_schema(responses=s.MeOut, summary="Who the caller is: user or agency system")
    def get(self, request: Request) -> Response:
        return Response(s.MeOut(request.user).data)


class AgencyListView(Paginated):
    required_actions = {"GET": Action.AGENCY_VIEW, "POST": Action.AGENCY_MANAGE}

    @extend_schema(
        responses=s.AgencyPage, summary="Agencies in your partnership", operation_id="agencies_list"
    )
    def get(self, request: Request) -> Response:
        return self.page(request, selectors.agencies_for(actor=request.user), s.AgencyOut)  # type: ignore[arg-type]

    @extend_schema(request=s.AgencyIn, responses={201: s.AgencyOut}, summary="Add an agency")
    def post(self, request: Request) -> Response:
        data = s.AgencyIn(data=request.data)
        data.is_valid(raise_exception=True)
        agency = services.agency_create(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(s.AgencyOut(agency).data, status=201)


class AgencyDetailView(APIView):
    required_actions = {"GET": Action.AGENCY_VIEW, "PATCH": Action.AGENCY_MANAGE}

    @extend_schema(responses=s.AgencyOut, summary="One agency")
    def get(self, request: Request, agency_id: str) -> Response:
        agency = selectors.agency_get_for(actor=request.user, agency_id=agency_id)  # type: ignore[arg-type]
        return Response(s.AgencyOut(agency).data)

    @extend_schema(request=s.AgencyPatch, responses=s.AgencyOut, summary="Change an agency")
    def patch(self, request: Request, agency_id: str) -> Response:
        agency = selectors.agency_get_for(actor=request.user, agency_id=agency_id)  # type: ignore[arg-type]
        data = s.AgencyPatch(data=request.data)
        data.is_valid(raise_exception=True)
        agency = services.agency_update(actor=request.user, agency=agency, **data.validated_data)  # type: ignore[arg-type]
        return Response(s.AgencyOut(agency).data)


class UserListView(Paginated):
    required_actions = {"GET": Action.USER_VIEW, "POST": Action.USER_MANAGE}

    @extend_schema(responses=s.UserPage, summary="Users you administer", operation_id="users_list")
    def get(self, request: Request) -> Response:
        return self.page(request, selectors.users_for(actor=request.user), s.UserOut)  # type: ignore[arg-type]

    @extend_schema(request=s.UserIn, responses={201: s.UserOut}, summary="Add a user")
    def post(self, request: Request) -> Response:
        data = s.UserIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        agency_id = fields.pop("agency_id", None) or request.user.agency_id  # type: ignore[union-attr]
        agency = selectors.agency_get_for(actor=request.user, agency_id=agency_id)  # type: ignore[arg-type]
        user = services.user_create(actor=request.user, agency=agency, **fields)  # type: ignore[arg-type]
        return Response(s.UserOut(user).data, status=201)


class UserDetailView(APIView):
    required_actions = {"GET": Action.USER_VIEW, "PATCH": Action.USER_MANAGE}

    @extend_schema(responses=s.UserOut, summary="One user you administer")
    def get(self, request: Request, user_id: str) -> Response:
        user = selectors.user_get_for(actor=request.user, user_id=user_id)  # type: ignore[arg-type]
        return Response(s.UserOut(user).data)

    @extend_schema(request=s.UserPatch, responses=s.UserOut, summary="Change a user")
    def patch(self, request: Request, user_id: str) -> Response:
        user = selectors.user_get_for(actor=request.user, user_id=user_id)  # type: ignore[arg-type]
        data = s.UserPatch(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(actor=request.user, user=user, **data.validated_data)  # type: ignore[arg-type]
        return Response(s.UserOut(user).data)


class SchemaView(SpectacularAPIView):
    # drf-spectacular serves its views to anyone unless told otherwise.
    permission_classes = [DeclaredActionPermission]
    authentication_classes = [ApiKeyAuthentication, VerifiedSessionAuthentication]
    required_actions = {"GET": Action.API_SCHEMA_VIEW}
