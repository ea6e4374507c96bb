"""The customer columns: one table that the form, the list, the import mapping and the export read.

Never write a second list of customer fields anywhere else; add a row here instead.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from ..translation import lazy_gettext as _l
from ..translation import lazy_pgettext as _lp


class Kind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    EMAIL = "email"
    PHONE = "phone"
    BOOL = "bool"
    DATE = "date"
    COUNTRY = "country"
    LANGUAGE = "language"
    GENDER = "gender"
    CUSTOMER_TYPE = "customer_type"
    GROUPS = "groups"
    INTEGER = "integer"
    TIMESTAMP = "timestamp"


class Section(StrEnum):
    PERSONAL = "personal"
    CONTACT = "contact"
    TYPE = "type"
    COMPANY = "company"
    BILLING = "billing"
    SHIPPING = "shipping"
    NOTES = "notes"
    GROUPS = "groups"
    RECORD = "record"


SECTION_LABELS = {
    Section.PERSONAL: _l("Personal information"),
    Section.CONTACT: _l("Contact details"),
    Section.TYPE: _l("Customer type"),
    Section.COMPANY: _l("Company information"),
    Section.BILLING: _l("Billing address"),
    Section.SHIPPING: _l("Shipping address"),
    Section.NOTES: _l("Notes"),
    Section.GROUPS: _l("Groups"),
    Section.RECORD: _l("Record"),
}


@dataclass(frozen=True)
class CustomerField:
    """One customer column.

    name: the attribute of Customer (and the form field's name).
    heading: the canonical English export heading, stable across releases.
    editable: staff can set it in the form and an import can write it.
    aliases: other platforms' headings that map to this field on import (imports/headings.py
        adds the field's heading and its label in every language).
    """

    name: str
    label: object
    section: Section
    kind: Kind = Kind.TEXT
    max_length: int | None = None
    heading: str = ""
    editable: bool = True
    listable: bool = True
    aliases: tuple[str, ...] = field(default=())

    @property
    def distinct_label(self):
        """The label where the field stands among all the others (column pickers, list headings,
        the import mapping): an address field says which address it belongs to."""
        if self.section in (Section.BILLING, Section.SHIPPING) and self.name != "shipping_differs":
            return _l("%(address)s: %(part)s", address=SECTION_LABELS[self.section],
                      part=self.label)
        return self.label


def _f(name, label, section, kind=Kind.TEXT, max_length=None, heading="", **options):
    return CustomerField(name, label, section, kind, max_length,
                         heading or name.replace("_", " ").capitalize(), **options)


S, K = Section, Kind
FIELDS: tuple[CustomerField, ...] = (
    _f("id", _l("ID"), S.RECORD, K.INTEGER, heading="ID", editable=False),
    _f("customer_number", _l("Customer number"), S.RECORD, max_length=64,
       heading="Customer number",
       aliases=("Customer number", "Customer ID", "customer_id", "Internal ID", "Kundennummer",
                "Numéro client", "Numer klienta")),
    _f("first_name", _l("First name"), S.PERSONAL, max_length=100, heading="First name",
       aliases=("Firstname", "First Name", "Vorname", "Prénom", "Imię", "billing_first_name",
                "_address_firstname", "Given name")),
    _f("initials", _l("Initials"), S.PERSONAL, max_length=20, heading="Initials",
       aliases=("Initialen", "Initiales", "Inicjały")),
    _f("last_name_prefix", _l("Last name prefix"), S.PERSONAL, max_length=30,
       heading="Last name prefix",
       aliases=("LastnamePreposition", "Preposition", "Tussenvoegsel", "Namenszusatz",
                "Particule")),
    _f("last_name", _l("Last name"), S.PERSONAL, max_length=100, heading="Last name",
       aliases=("Lastname", "Last Name", "Nachname", "Nom", "Nom de famille", "Nazwisko",
                "Surname", "Family name", "billing_last_name", "_address_lastname")),
    _f("email", _l("E-mail"), S.PERSONAL, K.EMAIL, 254, heading="E-mail",
       aliases=("E-mail", "E-Mail", "Email", "Email address", "E-Mail-Adresse",
                "Adresse e-mail", "Courriel", "Adres e-mail", "Customer e-mail",
                "billing_email", "Mail")),
    _f("username", _l("Username"), S.PERSONAL, max_length=100, heading="Username",
       aliases=("Username", "user_login", "Login", "Benutzername", "Nom d'utilisateur",
                "Nazwa użytkownika")),
    _f("approved", _l("Approved buyer"), S.PERSONAL, K.BOOL, heading="Approved",
       aliases=("Approved", "Freigegeben", "Approuvé", "Zatwierdzony")),
    _f("confirmed", _l("Confirmed"), S.PERSONAL, K.BOOL, heading="Confirmed",
       aliases=("Confirmed", "Bestätigt", "Confirmé", "Potwierdzony")),
    # (Shopify's "Default Address Phone" is left to staff: its "Phone" is the customer's.)
    _f("phone", _l("Phone"), S.CONTACT, K.PHONE, 40, heading="Phone",
       aliases=("Phone", "Telephone", "Telefon", "Téléphone", "Telefonnummer", "billing_phone",
                "_address_telephone", "Phone day", "Numer telefonu")),
    _f("mobile", _l("Mobile"), S.CONTACT, K.PHONE, 40, heading="Mobile",
       aliases=("Mobile", "Mobile phone", "Mobil", "Handy", "Mobiltelefon", "Portable",
                "Téléphone portable", "Telefon komórkowy", "Komórka", "Phone evening")),
    _f("language", _l("Language"), S.CONTACT, K.LANGUAGE, heading="Language",
       aliases=("Language", "Sprache", "Langue", "Język", "Locale")),
    _f("gender", _l("Gender"), S.CONTACT, K.GENDER, heading="Gender",
       aliases=("Gender", "Geschlecht", "Anrede", "Salutation", "Sexe", "Civilité", "Płeć",
                "Zwrot grzecznościowy", "prefix", "Title")),
    _f("birth_date", _l("Birth date"), S.CONTACT, K.DATE, heading="Birth date",
       aliases=("Date of birth", "Birth date", "Birthdate", "Birthday", "dob", "Geburtsdatum",
                "Geburtstag", "Date de naissance", "Data urodzenia")),
    _f("newsletter", _l("Newsletter"), S.CONTACT, K.BOOL, heading="Newsletter",
       aliases=("Newsletter", "Accepts Email Marketing", "Accepts Marketing",
                "Newsletter-Abonnement", "Abonné à la newsletter", "Zgoda na newsletter")),
    _f("customer_type", _l("Customer type"), S.TYPE, K.CUSTOMER_TYPE, heading="Customer type",
       aliases=("Customer type", "Kundentyp", "Kundenart", "Type de client", "Typ klienta")),
    _f("company_name", _l("Company name"), S.COMPANY, max_length=200, heading="Company",
       aliases=("Company", "Company name", "Company/Organisation", "Default Address Company",
                "billing_company", "_address_company", "Firma", "Firmenname", "Société",
                "Entreprise", "Nazwa firmy")),
    _f("company_id_number", _l("Identification number"), S.COMPANY, max_length=64,
       heading="Identification number",
       aliases=("Identification number", "Person/organisation no", "Organisation number",
                "SIRET", "REGON", "DNI")),
    _f("coc_number", _l("Chamber of commerce number"), S.COMPANY, max_length=64,
       heading="CoC number",
       aliases=("Coc number", "CoC", "KvK", "Chamber of commerce number",
                "Handelsregisternummer", "RCS", "KRS")),
    _f("vat_number", _l("VAT number"), S.COMPANY, max_length=32, heading="VAT number",
       aliases=("Vat number", "VAT", "VAT ID", "taxvat", "_address_vat_id", "USt-IdNr",
                "Umsatzsteuer-ID", "Numéro de TVA", "TVA intracommunautaire", "NIP", "Numer VAT")),
    _f("billing_country", _l("Country"), S.BILLING, K.COUNTRY, heading="Country",
       aliases=("Country", "Country Code", "Default Address Country Code", "billing_country",
                "_address_country_id", "Land", "Pays", "Kraj")),
    _f("billing_attention", _l("Attention of"), S.BILLING, max_length=200, heading="Attention",
       aliases=("Attn", "Attention", "z. Hd.", "À l'attention de", "Do rąk")),
    _f("billing_address1", _l("Address 1"), S.BILLING, max_length=200, heading="Address 1",
       aliases=("Address1", "Address 1", "Address", "Streetname", "Street", "Straße", "Strasse",
                "Rue", "Adresse", "Ulica", "Adres", "Default Address Address1",
                "billing_address_1", "_address_street")),
    _f("billing_house_number", _l("House number"), S.BILLING, max_length=20,
       heading="House number",
       aliases=("Number", "House number", "Hausnummer", "Numéro", "Numer domu", "Nr")),
    _f("billing_house_number_ext", _l("Extension"), S.BILLING, max_length=20,
       heading="House number extension",
       aliases=("Extension", "House number extension", "Hausnummernzusatz",
                "Complément de numéro", "Numer lokalu")),
    _f("billing_address2", _l("Address 2"), S.BILLING, max_length=200, heading="Address 2",
       aliases=("Address2", "Address 2", "Default Address Address2", "billing_address_2",
                "Adresszusatz", "Complément d'adresse")),
    _f("billing_postcode", _l("Postcode"), S.BILLING, max_length=20, heading="Postcode",
       aliases=("Zipcode", "Zip", "Postcode", "Postal code", "Default Address Zip",
                "billing_postcode", "_address_postcode", "PLZ", "Postleitzahl", "Code postal",
                "Kod pocztowy")),
    _f("billing_city", _l("City"), S.BILLING, max_length=100, heading="City",
       aliases=("City", "Default Address City", "billing_city", "_address_city", "Ort", "Stadt",
                "Ville", "Miasto", "Miejscowość")),
    _f("billing_region", _l("Region"), S.BILLING, max_length=100, heading="Region",
       aliases=("Region", "Province", "Province Code", "State", "Default Address Province Code",
                "billing_state", "_address_region", "Bundesland", "Département", "Województwo")),
    _f("shipping_differs", _l("Shipping address differs from billing"), S.SHIPPING, K.BOOL,
       heading="Shipping differs"),
    _f("shipping_company", _l("Company"), S.SHIPPING, max_length=200,
       heading="Shipping company"),
    _f("shipping_country", _l("Country"), S.SHIPPING, K.COUNTRY, heading="Shipping country"),
    _f("shipping_attention", _l("Attention of"), S.SHIPPING, max_length=200,
       heading="Shipping attention"),
    _f("shipping_address1", _l("Address 1"), S.SHIPPING, max_length=200,
       heading="Shipping address 1"),
    _f("shipping_house_number", _l("House number"), S.SHIPPING, max_length=20,
       heading="Shipping house number"),
    _f("shipping_house_number_ext", _l("Extension"), S.SHIPPING, max_length=20,
       heading="Shipping house number extension"),
    _f("shipping_address2", _l("Address 2"), S.SHIPPING, max_length=200,
       heading="Shipping address 2"),
    _f("shipping_postcode", _l("Postcode"), S.SHIPPING, max_length=20,
       heading="Shipping postcode"),
    _f("shipping_city", _l("City"), S.SHIPPING, max_length=100, heading="Shipping city"),
    _f("shipping_region", _l("Region"), S.SHIPPING, max_length=100, heading="Shipping region"),
    _f("notes", _l("Notes"), S.NOTES, K.LONG_TEXT, heading="Notes", listable=False,
       aliases=("Notes", "Note", "Comment", "Notizen", "Bemerkung", "Remarques", "Uwagi",
                "Other")),
    _f("groups", _l("Groups"), S.GROUPS, K.GROUPS, heading="Groups",
       aliases=("Groups", "Group", "Tags", "Customer group", "Kundengruppe", "Gruppen",
                "Groupes", "Grupy", "Grupa klientów")),
    _f("created_at", _lp("timestamp", "Created"), S.RECORD, K.TIMESTAMP, heading="Created",
       editable=False),
    _f("updated_at", _lp("timestamp", "Modified"), S.RECORD, K.TIMESTAMP, heading="Modified",
       editable=False),
)

BY_NAME: dict[str, CustomerField] = {f.name: f for f in FIELDS}
EDITABLE: tuple[CustomerField, ...] = tuple(f for f in FIELDS if f.editable)


# What a new customer needs: the form requires all of these. An import rejects a new customer
# without the e-mail (its key) and takes one without a name, with a warning naming the empty
# column (a newsletter list has no names).
REQUIRED_NAMES = ("first_name", "last_name")
REQUIRED_TO_CREATE = ("email", *REQUIRED_NAMES)


def fields_in(section: Section) -> tuple[CustomerField, ...]:
    return tuple(f for f in FIELDS if f.section == section)


# What only a business customer has, and the shipping address apart from its switch: both are
# left out of a save when the form hides them.
COMPANY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields_in(Section.COMPANY))
SHIPPING_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields_in(Section.SHIPPING) if f.name != "shipping_differs")
