"""Response headers that every page carries."""

from flask import Response, request

CACHEABLE_ENDPOINTS = {"static"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin keeps URL tokens off other sites yet lets Flask-WTF's HTTPS Referer check pass.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        # Pages, downloads and JSON hold personal data: never kept by a shared cache, the
        # browser's cache or the back button (send_file's own "max-age=0" included).
        headers["Cache-Control"] = "no-store"
    return response
