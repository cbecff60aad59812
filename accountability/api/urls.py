from django.urls import path

from . import views

app_name = "accountability-api"

urlpatterns = [
    path("problems/<int:pk>/transitions/", views.ProblemTransitionView.as_view(), name="problem-transition"),
    path("problems/<int:pk>/events/", views.ProblemEventListView.as_view(), name="problem-events"),
    path("problems/<int:pk>/actions/", views.ProblemActionsView.as_view(), name="problem-actions"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="notification-read"),
    path("holidays/", views.HolidayListView.as_view(), name="holiday-list"),
    path("holidays/import/", views.HolidayImportView.as_view(), name="holiday-import"),
]
