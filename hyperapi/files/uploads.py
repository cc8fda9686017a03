"""What an uploaded file is: its type sniffed from its bytes (libmagic), checked against the allow-list
and against what the client claims; its size and SHA-256; a file name safe to show and to send back.

The client's `Content-Type` and file name are only ever *checked* against the bytes (a PDF named
`photo.png` is refused), never believed.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

import magic

from ..services.exceptions import Invalid, TooLarge, Unsupported

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SNIFF_BYTES = 1024 * 1024  # enough for libmagic to tell office documents from plain zip files

# Documents, images, audio, video and the text formats of field work (SPEC §7).
DEFAULT_ALLOWED_TYPES = (
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/rtf",
    "text/plain",
    "text/csv",
    "text/xml",
    "application/xml",
    "application/gpx+xml",
    "application/vnd.google-earth.kml+xml",
    "application/json",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/tiff",
    "image/webp",
    "audio/mpeg",
    "audio/x-wav",
    "audio/ogg",
    "audio/mp4",
    "audio/x-m4a",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-msvideo",
)

# Spellings of one type: compared after mapping each to the first.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/wav": "audio/x-wav",
    "audio/wave": "audio/x-wav",
    "audio/vnd.wave": "audio/x-wav",
    "audio/m4a": "audio/x-m4a",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "text/rtf": "application/rtf",
    "application/csv": "text/csv",
}
# Text has no magic number: libmagic can tell text from binary, not CSV from plain text. Any textual
# claim is consistent with textual bytes.
TEXTUAL = frozenset({"application/xml", "application/json", "application/gpx+xml",
                     "application/vnd.google-earth.kml+xml", "application/rtf"})
# Claims that say nothing.
UNSPECIFIC = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})

_XML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(gpx|kml)[\s>/]")
_UNSAFE_NAME_CHARACTERS = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


@dataclass(frozen=True)
class Inspected:
    original_file: str
    mime_type: str
    size: int
    sha256: str


def normalise(mime_type: str | None) -> str:
    value = (mime_type or "").split(";")[0].strip().lower()
    return ALIASES.get(value, value)


def is_textual(mime_type: str) -> bool:
    return mime_type.startswith("text/") or mime_type in TEXTUAL


def consistent(sniffed: str, claimed: str | None) -> bool:
    claimed = normalise(claimed)
    if claimed in UNSPECIFIC:
        return True
    return claimed == sniffed or (is_textual(claimed) and is_textual(sniffed))


def safe_filename(name: str | None) -> str:
    """The last component of a client's file name, without anything a path or a header could misread."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME_CHARACTERS.sub("_", name).strip(" .")
    return name[:255] or "file"


def sniff(source: BinaryIO) -> str:
    source.seek(0)
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    mime_type = normalise(magic.from_buffer(head, mime=True))
    if mime_type in ("text/xml", "application/xml"):
        # libmagic calls every XML document text/xml; a GPS track or a KML map says what it is.
        match = _XML_ROOT.search(head[:4096])
        if match:
            return {b"gpx": "application/gpx+xml", b"kml": "application/vnd.google-earth.kml+xml"}[match.group(1)]
    return mime_type


def measure(source: BinaryIO, limit: int) -> tuple[int, str]:
    """Size and SHA-256, reading in chunks; 413 as soon as the size passes `limit`."""
    source.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(limit)
        digest.update(chunk)
    source.seek(0)
    return size, digest.hexdigest()


@dataclass(frozen=True)
class UploadPolicy:
    """Which files are accepted: their types, as sniffed from the bytes, and their largest size."""

    allowed: frozenset[str]
    max_bytes: int

    @classmethod
    def from_settings(cls, settings) -> UploadPolicy:
        return cls(allowed_types(settings), max_upload_bytes(settings))


def inspect_upload(part, policy: UploadPolicy) -> Inspected:
    """Check an uploaded file part; raise the domain error that says what is wrong with it."""
    source = part.file
    size, sha256 = measure(source, policy.max_bytes)
    if size == 0:
        raise Invalid({"file": "The file is empty."})
    original = safe_filename(part.filename)
    mime_type = sniff(source)
    if mime_type not in policy.allowed:
        raise Unsupported(f"Files of type {mime_type} are not accepted here.")
    declared = part.headers.get("Content-Type") if part.headers is not None else None
    if not consistent(mime_type, declared):
        raise Unsupported(f"The file is {mime_type}, not {normalise(declared)} as it was sent.")
    by_name, _ = mimetypes.guess_type(original, strict=False)
    if by_name is not None and not consistent(mime_type, by_name):
        raise Unsupported(f"The file is {mime_type}, which its name {original!r} does not match.")
    return Inspected(original, mime_type, size, sha256)


def allowed_types(settings) -> frozenset[str]:
    configured = settings.get("hyperapi.upload_mime_types")
    return frozenset(normalise(t) for t in (configured.split() if configured else DEFAULT_ALLOWED_TYPES))


def max_upload_bytes(settings) -> int:
    return int(settings.get("hyperapi.max_upload_bytes", DEFAULT_MAX_UPLOAD_BYTES))
