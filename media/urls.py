"""What a line of a URL list may be, and how URLs appear in logs and dead letters.

A URL list names remote images: http(s) URLs, or object-store URLs (gs://, s3://, ...) of a scheme the caller
can read. Anything else on a line (a local path, /etc/passwd, ftp://) is refused with a reason, so a list
never makes the pipeline read local files. A URL carrying credentials (user:password@) is refused too, and
only ever shown with them masked.
"""

import urllib.parse
from collections.abc import Collection

WEB_SCHEMES = ("http", "https")


def redact(url: str) -> str:
    """`url` with any user:password@ replaced by ***@ (the form logs and dead letters use)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url[:200]
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def url_problem(line: str, object_schemes: Collection[str] = ()) -> str | None:
    """Why `line` is not a URL a list may hold, or None when it is one.

    `object_schemes` are the non-web schemes the caller can read (e.g. Beam FileSystems' gs, s3)."""
    if not line or any(c.isspace() for c in line):
        return "not a URL (URL lists hold http(s) or object-store URLs, one a line)"
    try:
        parts = urllib.parse.urlsplit(line)
    except ValueError as error:
        return f"not a URL: {error}"
    scheme = parts.scheme.lower()
    if not scheme or "://" not in line or len(scheme) == 1:  # no scheme, or a Windows drive letter
        return "not a URL (a local path? URL lists hold http(s) or object-store URLs only)"
    if scheme not in WEB_SCHEMES and scheme not in object_schemes:
        return f"unsupported URL scheme: {scheme}"
    if parts.username is not None or parts.password is not None:
        return "URL has credentials in it (user:password@): refused; give a URL without them"
    if scheme in WEB_SCHEMES and not parts.hostname:
        return "not a URL: no host"
    return None


def host_of(url: str) -> str:
    """The host a URL points at ('' for paths): what per-host download limits count by."""
    try:
        return (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
