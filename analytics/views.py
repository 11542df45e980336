from django.shortcuts import render

from accounts.scoping import CompanyScopedView
from analytics.selectors import company_overview
from config.health import engines


class OverviewView(CompanyScopedView):
    def get(self, request):
        return render(request, "analytics/overview.html", {
            "overview": company_overview(company=self.company),
            "engines": engines(),
        })
