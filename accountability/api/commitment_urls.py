from django.urls import path

from . import commitments as views

app_name = "commitments-api"

urlpatterns = [
    path("commitments/", views.CommitmentListView.as_view(), name="commitment-list"),
    path("commitments/<int:pk>/", views.CommitmentDetailView.as_view(), name="commitment-detail"),
    *[
        path(
            f"commitments/<int:pk>/{action}/",
            views.CommitmentActionView.as_view(action_name=action),
            name=f"commitment-{action}",
        )
        for action in views.ACTIONS
    ],
]
