from django.urls import path

from . import views

urlpatterns = [
    # Systems and the tree
    path("", views.SystemListView.as_view(), name="indicator-system-list"),
    path("systems/new/", views.SystemCreateView.as_view(), name="indicator-system-create"),
    path("systems/<int:pk>/", views.SystemDetailView.as_view(), name="indicator-system-detail"),
    path("systems/<int:pk>/edit/", views.SystemEditView.as_view(), name="indicator-system-edit"),
    path("systems/<int:pk>/set-current/", views.system_set_current, name="indicator-system-set-current"),
    path("systems/<int:pk>/import/", views.SystemImportView.as_view(), name="indicator-system-import"),
    path("systems/<int:pk>/export/", views.system_export, name="indicator-system-export"),
    # Indicators
    path("items/<int:pk>/", views.IndicatorDetailView.as_view(), name="indicator-detail"),
    path("items/<int:pk>/edit/", views.IndicatorEditView.as_view(), name="indicator-edit"),
    path("items/<int:pk>/units/", views.IndicatorUnitsView.as_view(), name="indicator-units"),
    # 任务单
    path("tasks/", views.my_tasks, name="task-list-mine"),
    path("tasks/<int:unit_pk>/", views.unit_tasks, name="task-list"),
    # Declaration materials
    path("materials/", views.MaterialListView.as_view(), name="material-list"),
    path("materials/new/", views.MaterialUploadView.as_view(), name="material-upload"),
    path("materials/<int:pk>/", views.material_detail, name="material-detail"),
    path("materials/<int:pk>/review/", views.material_review, name="material-review"),
    path("materials/<int:pk>/resubmit/", views.material_resubmit, name="material-resubmit"),
    path("materials/files/<int:pk>/", views.material_file_download, name="material-file"),
    path("board/", views.board, name="declaration-board"),
    # Negative list and risk events
    path("negative/", views.negative_list, name="negative-list"),
    path("negative/new/", views.NegativeItemCreateView.as_view(), name="negative-item-create"),
    path("risks/", views.RiskEventListView.as_view(), name="risk-event-list"),
    path("risks/new/", views.RiskEventCreateView.as_view(), name="risk-event-create"),
    path("risks/<int:pk>/resolve/", views.RiskEventResolveView.as_view(), name="risk-event-resolve"),
]
