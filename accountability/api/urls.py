from django.urls import path

from . import notify, views

app_name = "accountability-api"

urlpatterns = [
    path("problems/<int:pk>/transitions/", views.ProblemTransitionView.as_view(), name="problem-transition"),
    path("problems/<int:pk>/events/", views.ProblemEventListView.as_view(), name="problem-events"),
    path("problems/<int:pk>/actions/", views.ProblemActionsView.as_view(), name="problem-actions"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="notification-read"),
    path("notifications/preferences/", notify.PreferenceView.as_view(), name="notification-preferences"),
    path("unit-channels/", notify.UnitChannelListView.as_view(), name="unit-channel-list"),
    path("unit-channels/<int:pk>/", notify.UnitChannelDetailView.as_view(), name="unit-channel-detail"),
    path("unit-channels/<int:pk>/test/", notify.UnitChannelTestView.as_view(), name="unit-channel-test"),
    path("deliveries/", notify.DeliveryListView.as_view(), name="delivery-list"),
    path("holidays/", views.HolidayListView.as_view(), name="holiday-list"),
    path("holidays/import/", views.HolidayImportView.as_view(), name="holiday-import"),
]
