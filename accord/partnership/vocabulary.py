"""Sectors, roles and each sector's word for the person harmed.

The words are defaults from common usage (see the domain notes); each agency can
set its own. The data model always says `victim_survivor`.
"""

from __future__ import annotations

from django.db import models


class Sector(models.TextChoices):
    POLICE = "police", "Police"
    PRIMARY_HEALTH = "primary_health", "Primary health (GP)"
    ACUTE_HEALTH = "acute_health", "Acute health (hospital)"
    AMBULANCE = "ambulance", "Ambulance"
    HOUSING = "housing", "Housing"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    PROBATION = "probation", "Probation"
    EDUCATION = "education", "Education"
    SPECIALIST_DA = "specialist_da", "Specialist domestic abuse service"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    MENTAL_HEALTH = "mental_health", "Mental health"
    OTHER = "other", "Other"


VICTIM_SURVIVOR_WORD: dict[str, str] = {
    Sector.POLICE: "victim",
    Sector.PRIMARY_HEALTH: "patient",
    Sector.ACUTE_HEALTH: "patient",
    Sector.AMBULANCE: "patient",
    Sector.HOUSING: "tenant",
    Sector.CHILDRENS_SOCIAL_CARE: "parent or carer",
    Sector.ADULT_SOCIAL_CARE: "adult at risk",
    Sector.PROBATION: "victim",
    Sector.EDUCATION: "parent or carer",
    Sector.SPECIALIST_DA: "client",
    Sector.SUBSTANCE_MISUSE: "service user",
    Sector.MENTAL_HEALTH: "service user",
    Sector.OTHER: "victim-survivor",
}


def default_word_for(sector: str) -> str:
    """The default word a sector uses for the victim-survivor."""
    return VICTIM_SURVIVOR_WORD.get(sector, "victim-survivor")


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    AGENCY_SPOC = "agency_spoc", "Agency single point of contact (SPOC)"
    IDVA = "idva", "Independent domestic violence adviser (IDVA)"
    MARAC_COORDINATOR = "marac_coordinator", "MARAC coordinator"
    MARAC_CHAIR = "marac_chair", "MARAC chair"
    PARTNERSHIP_ANALYST = "partnership_analyst", "Partnership analyst"
    DATA_PROTECTION_OFFICER = "data_protection_officer", "Data protection officer"
    AGENCY_ADMIN = "agency_admin", "Agency admin"
    PARTNERSHIP_ADMIN = "partnership_admin", "Partnership admin"


class TrainingLevel(models.TextChoices):
    NONE = "none", "None recorded"
    AWARENESS = "awareness", "Awareness (level 1)"
    PRACTITIONER = "practitioner", "Practitioner (level 2)"
    SPECIALIST = "specialist", "Specialist (level 3)"
    ACCREDITED = "accredited", "Accredited (for example the IDVA qualification)"
