"""The benchmark's yardstick: a bare DRF view doing one ORM read by primary key, on the same
Django and DRF as the bank, mounted only by the benchmark (bench/pipeline_urls.py), never by
bankproject/urls.py. No authentication, permission or throttle of its own."""

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class BareAccountView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request, pk):
        from ledger.models import Account

        account = Account.objects.get(pk=pk)
        return Response({"id": str(account.id), "balance": account.balance})
