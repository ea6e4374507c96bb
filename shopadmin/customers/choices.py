"""The choices of a customer's gender and type, and their labels (no Flask in it: the import
reads them in every interface language)."""

import enum

from ..translation import lazy_gettext as _l


class CustomerType(enum.StrEnum):
    PRIVATE = "private"
    BUSINESS = "business"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


GENDER_LABELS = {
    Gender.FEMALE: _l("Female"),
    Gender.MALE: _l("Male"),
    Gender.OTHER: _l("Other"),
}
TYPE_LABELS = {CustomerType.PRIVATE: _l("Private"), CustomerType.BUSINESS: _l("Business")}
