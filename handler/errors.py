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


class TooLarge(FormkitError):
    """The body is larger than the form takes (a form with files takes more than one without)."""

    status = 413
    title = "Innehållet är för stort"


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


class FormChanged(Invalid):
    """The form changed after the page was loaded, and the answers no longer fit the new one."""

    title = "Formuläret har ändrats"

    def __init__(self, errors: list):
        super().__init__(errors)
        self.detail = (
            "Formuläret har ändrats sedan du öppnade sidan, och några svar passar inte längre. "
            "Det du har skrivit finns kvar. Rätta de markerade fälten och skicka igen."
        )


class DeliveryUnavailable(FormkitError):
    """The report could neither be queued nor delivered; the user must try again."""

    status = 503
    title = "Tjänsten är tillfälligt otillgänglig"


class BadLink(FormkitError):
    """The answer link's token was altered, forged or signed with another key: the answer cannot be routed."""

    status = 403
    title = "Länken fungerar inte"


class MissingLink(BadLink):
    """An answer was sent without the token from the report e-mail's link."""

    status = 400
    title = "Länken saknas"


class ExpiredLink(BadLink):
    """The answer link is older than its lifetime (FORMKIT_REPLY_TOKEN_DAYS)."""

    title = "Länken har gått ut"


class ForeignOrigin(FormkitError):
    """The submission comes from a web site that is not allowed to post to this handler."""

    status = 403
    title = "Otillåten webbplats"


class TooManyRequests(FormkitError):
    """A rate limit is used up; `retry_after` is how many seconds the client should wait before trying again."""

    status = 429
    title = "För många försök"

    def __init__(self, retry_after: int, detail: str = ""):
        super().__init__(detail or "Du har skickat många formulär på kort tid. Vänta en stund och försök igen.")
        self.retry_after = max(1, int(retry_after))
