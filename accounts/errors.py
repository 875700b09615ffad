from core.errors import BankError, ValidationFailed


class EmailTakenError(ValidationFailed):
    def __init__(self):
        super().__init__({"email": ["A customer with this email address already exists."]})


class WeakPasswordError(ValidationFailed):
    def __init__(self, messages: list[str]):
        super().__init__({"password": messages})


class InvalidTokenError(BankError):
    code = "authentication_failed"
    http_status = 401
    message = "The token is invalid, expired or revoked."
