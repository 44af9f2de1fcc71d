"""The words sharing is scoped by: kinds of information, purposes, who gave consent."""

from __future__ import annotations

from django.db import models


class InformationCategory(models.TextChoices):
    CONTACT_DETAILS = "contact_details", "Contact details"
    ADDRESS = "address", "Address"
    HEALTH = "health", "Health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    CRIMINAL_JUSTICE = "criminal_justice", "Criminal justice"
    HOUSING = "housing", "Housing"
    CHILDREN = "children", "Children"
    RISK = "risk", "Risk"
    SAFETY_PLAN = "safety_plan", "Safety plan"
    OTHER = "other", "Other"


class Purpose(models.TextChoices):
    SAFETY_PLANNING = "safety_planning", "Safety planning"
    MARAC = "marac", "MARAC (multi-agency risk assessment conference)"
    REFERRAL_FOR_SUPPORT = "referral_for_support", "Referral for support"
    SAFEGUARDING_CHILDREN = "safeguarding_children", "Safeguarding children"
    RISK_ASSESSMENT = "risk_assessment", "Risk assessment"
    PREVENTING_CRIME = "preventing_crime", "Preventing or detecting crime"


class ConsentDecision(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"


class ConsentGivenBy(models.TextChoices):
    SELF = "self", "The victim-survivor herself"
    PARENT = "parent", "A parent or carer, for a child"
    REPRESENTATIVE = "representative", "A representative (for example an advocate or attorney)"


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", "Verbally"
    WRITTEN = "written", "In writing"


class Basis(models.TextChoices):
    """Why an actor may see an item: the policy's answer, shown to the DPO."""

    OWNER = "owner", "Owner agency"
    CONSENT = "consent", "Consent"
    DISCLOSURE = "disclosure", "Disclosure decision"
    MARAC = "marac", "MARAC"
    NAMED = "named", "Named user"
