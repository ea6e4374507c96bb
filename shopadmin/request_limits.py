"""What a request body may hold, enforced before anything reads it.

Werkzeug caps the fields of a multipart body (MAX_FORM_PARTS, MAX_FORM_MEMORY_SIZE) but reads a
URL-encoded body whole, up to MAX_CONTENT_LENGTH, the upload limit. Here every body that is not
a multipart upload is held to MAX_FORM_MEMORY_SIZE, and a URL-encoded one to MAX_FORM_PARTS
fields as well; only an upload may be as large as MAX_CONTENT_LENGTH.
"""

import io

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser


class FormParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        body = stream.read()
        if self.max_form_parts is not None and body.count(b"&") >= self.max_form_parts:
            raise RequestEntityTooLarge()
        return super()._parse_urlencoded(io.BytesIO(body), mimetype, content_length, options)


class LimitedRequest(Request):
    form_data_parser_class = FormParser

    @property
    def max_content_length(self) -> int | None:
        upload_limit = super().max_content_length
        if self._max_content_length is not None or self.mimetype == "multipart/form-data":
            return upload_limit
        body_limit = self.max_form_memory_size
        if body_limit is None or upload_limit is None:
            return body_limit if upload_limit is None else upload_limit
        return min(body_limit, upload_limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def is_upload_too_large(request: Request) -> bool:
    """Whether a 413 is about the size of an uploaded file (else: the form is too big)."""
    return (request.mimetype == "multipart/form-data"
            and (request.content_length or 0) > (request.max_content_length or 0))
