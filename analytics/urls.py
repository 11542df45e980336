from django.urls import path

from analytics import views

urlpatterns = [
    path("", views.OverviewView.as_view(), name="dashboard"),
]
