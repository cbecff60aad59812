"""Survey pages (问卷调查), mounted under /surveys/."""

from django.urls import path

from . import survey_views as views

urlpatterns = [
    path("", views.survey_list_view, name="survey-list"),
    path("import/", views.SurveyImportView.as_view(), name="survey-import"),
    path("template/", views.survey_template, name="survey-template"),
]
