"""承诺事项 pages, mounted under /commitments/."""

from django.urls import path

from . import commitment_views as views

urlpatterns = [
    path("", views.commitment_list_page, name="commitment-list"),
    path("new/", views.CommitmentCreateView.as_view(), name="commitment-create"),
    path("<int:pk>/", views.commitment_detail, name="commitment-detail"),
    path("<int:pk>/edit/", views.CommitmentEditView.as_view(), name="commitment-edit"),
    path("<int:pk>/photos/<int:photo>/", views.commitment_photo, name="commitment-photo"),
    path("<int:pk>/report/", views.commitment_action, {"action": "report"}, name="commitment-report"),
    path("<int:pk>/confirm/", views.commitment_action, {"action": "confirm"}, name="commitment-confirm"),
    path("<int:pk>/return/", views.commitment_action, {"action": "return"}, name="commitment-return"),
    path("<int:pk>/cancel/", views.commitment_action, {"action": "cancel"}, name="commitment-cancel"),
]
