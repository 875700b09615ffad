"""Card numbers and the two keyed HMACs that stand in for what PCI DSS forbids keeping.

- `new_pan()`: the bank's BIN (`CARD_BIN`), nine digits from `secrets` and the Luhn digit.
- `fingerprint(pan, key_id)`: HMAC-SHA-256 of the whole PAN under `CARD_PAN_KEYS[key_id]`
  (PCI DSS v4.0 3.5.1.1, a keyed cryptographic hash). A card stores it with its key id;
  `fingerprints(pan)` gives it under every configured key, so a payment finds a card issued
  under an older key while new cards use the current (first) one.
- `cvc_for(pan, month, year)`: three digits derived from HMAC-SHA-256 under `CARD_CVC_KEY`
  (its own key, as issuers derive CVV2), checked with `cvc_matches` in constant time. The CVC
  is never stored: it can always be derived again from what the cardholder presents.

Neither key is `SECRET_KEY`, and production refuses to start without them (settings)."""

import hashlib
import hmac
import secrets

from django.conf import settings

PAN_LENGTH = 16
RANDOM_DIGITS = PAN_LENGTH - 6 - 1  # BIN, account digits, Luhn digit


def luhn_digit(partial: str) -> str:
    """The check digit that makes `partial + digit` pass the Luhn test."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:  # doubled: these sit at odd positions once the check digit is added
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(pan: str) -> bool:
    return pan.isascii() and pan.isdigit() and luhn_digit(pan[:-1]) == pan[-1]


def new_pan() -> str:
    body = settings.CARD_BIN + "".join(str(secrets.randbelow(10)) for _ in range(RANDOM_DIGITS))
    return body + luhn_digit(body)


def current_key_id() -> str:
    return next(iter(settings.CARD_PAN_KEYS))


def fingerprint(pan: str, key_id: str) -> str:
    key = settings.CARD_PAN_KEYS[key_id].encode()
    return hmac.new(key, pan.encode(), hashlib.sha256).hexdigest()


def fingerprints(pan: str) -> list[str]:
    """The PAN's fingerprint under every configured key: one lookup finds it, however old."""
    return [fingerprint(pan, key_id) for key_id in settings.CARD_PAN_KEYS]


def cvc_for(pan: str, month: int, year: int) -> str:
    message = f"{pan}|{month:02d}|{year:04d}".encode()
    digest = hmac.new(settings.CARD_CVC_KEY.encode(), message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1000:03d}"


def cvc_matches(pan: str, month: int, year: int, cvc: str) -> bool:
    """Always one HMAC and one constant-time comparison, whatever is presented."""
    return hmac.compare_digest(cvc_for(pan, month, year).encode(), cvc.encode())
