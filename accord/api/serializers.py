"""Explicit input and output shapes. Agency and author always come from the actor."""

from __future__ import annotations

from rest_framework import serializers

from accord.partnership.vocabulary import Role, Sector, TrainingLevel


class AgencyOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    sector = serializers.ChoiceField(choices=Sector.choices)
    victim_survivor_word = serializers.CharField(source="word_for_victim_survivor")
    is_active = serializers.BooleanField()


class AgencyIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    sector = serializers.ChoiceField(choices=Sector.choices)
    victim_survivor_word = serializers.CharField(max_length=40, required=False, allow_blank=True)


class AgencyPatch(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    sector = serializers.ChoiceField(choices=Sector.choices, required=False)
    victim_survivor_word = serializers.CharField(max_length=40, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class MeOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField(source="actor_kind")
    display_name = serializers.CharField()
    role = serializers.CharField()
    agency = AgencyOut()


class UserOut(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    agency_id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Role.choices)
    training_level = serializers.ChoiceField(choices=TrainingLevel.choices)
    training_date = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField()


class UserIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    display_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    agency_id = serializers.UUIDField(
        required=False, help_text="Defaults to your own agency; only partnership admins may choose."
    )
    role = serializers.ChoiceField(choices=Role.choices)
    training_level = serializers.ChoiceField(choices=TrainingLevel.choices, required=False)
    training_date = serializers.DateField(required=False, allow_null=True)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class UserPatch(serializers.Serializer):
    display_name = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    training_level = serializers.ChoiceField(choices=TrainingLevel.choices, required=False)
    training_date = serializers.DateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


def page_of(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The shape of one page of a list: count, links and the results."""
    name = item.__name__.removesuffix("Out") + "Page"
    fields = {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item(many=True),
    }
    return type(name, (serializers.Serializer,), fields)


AgencyPage = page_of(AgencyOut)
UserPage = page_of(UserOut)
