"""Pages of the rectification loop, mounted under /problems/."""

from django.urls import path

from . import views

urlpatterns = [
    path("assign/", views.AssignQueueView.as_view(), name="problem-queue-assign"),
    path("review/", views.ReviewQueueView.as_view(), name="problem-queue-review"),
    path("mine/", views.MyProblemsView.as_view(), name="problem-mine"),
    path("<int:pk>/transition/", views.problem_transition_view, name="problem-transition"),
    path("photos/<int:pk>/", views.event_photo_file, name="problem-photo-file"),
    path("photos/<int:pk>/thumb/", views.event_photo_thumb, name="problem-photo-thumb"),
]
