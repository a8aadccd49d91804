"""The kit's exceptions; the endpoint maps each to an HTTP answer in one place (app.py)."""


class FormkitError(Exception):
    """Base class: a problem the kit can explain in words."""

    status = 400
    title = "Felaktig begäran"

    def __init__(self, detail: str = ""):
        super().__init__(detail)
        self.detail = detail


class FormDefinitionError(FormkitError):
    """A schema file breaks the kit's conventions; `problems` names file, field and what to do."""

    status = 500

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class BadSubmission(FormkitError):
    """The body cannot be read: malformed, wrong encoding, too deep, unknown fields."""


class UnknownForm(FormkitError):
    status = 404
    title = "Formuläret finns inte"


class UnsupportedMediaType(FormkitError):
    status = 415
    title = "Fel innehållstyp"


class Invalid(FormkitError):
    """The submission was read but does not validate; `errors` holds one FieldError per field."""

    status = 422
    title = "Formuläret innehåller fel"

    def __init__(self, errors: list):
        super().__init__(f"{len(errors)} fel")
        self.errors = errors


class DeliveryUnavailable(FormkitError):
    """The report could neither be queued nor delivered; the user must try again."""

    status = 503
    title = "Tjänsten är tillfälligt otillgänglig"


class ForeignOrigin(FormkitError):
    """The submission comes from a web site that is not allowed to post to this handler."""

    status = 403
    title = "Otillåten webbplats"
