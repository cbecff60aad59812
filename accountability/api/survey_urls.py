from django.urls import path

from . import surveys

app_name = "surveys-api"

urlpatterns = [
    path("surveys/", surveys.SurveyListView.as_view(), name="survey-list"),
    path("surveys/import/", surveys.SurveyImportView.as_view(), name="survey-import"),
]
