"""The API's JSON parser: DRF's, with a nesting bomb answered as bad input.

Python's json module recurses once per `[` or `{`; 50,000 of them (a 50 kB body, well under
the 1 MiB limit) raise RecursionError, which DRF does not catch and which became a 500.
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BankJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The body is not valid JSON: it is nested too deeply.") from None
