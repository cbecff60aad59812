"""Pages of notifications, mounted under /notifications/."""

from django.urls import path

from . import notify_views as views

urlpatterns = [
    path("", views.notification_list_page, name="notification-list"),
    path("read/", views.notification_read, name="notification-read"),
    path("<int:pk>/", views.notification_open, name="notification-open"),
    path("settings/", views.notification_settings, name="notification-settings"),
    path("channels/", views.UnitChannelListView.as_view(), name="unit-channel-list"),
    path("channels/new/", views.unit_channel_create_page, name="unit-channel-create"),
    path("channels/<int:pk>/edit/", views.unit_channel_edit_page, name="unit-channel-edit"),
    path("channels/<int:pk>/toggle/", views.unit_channel_toggle, name="unit-channel-toggle"),
    path("channels/<int:pk>/test/", views.unit_channel_test_page, name="unit-channel-test"),
    path("deliveries/", views.DeliveryListView.as_view(), name="delivery-list"),
]
