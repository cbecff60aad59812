from django.core.paginator import InvalidPage
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 by default; clients may ask for up to 500 with `page_size`. A page number past
    the end answers the last page (DRF's own answers 404), so a deep link never fails."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        number = super().get_page_number(request, paginator)
        if number in self.last_page_strings:
            return number
        try:
            paginator.validate_number(number)
        except InvalidPage:
            return paginator.num_pages if str(number).isdigit() and int(number) > 1 else 1
        return number
