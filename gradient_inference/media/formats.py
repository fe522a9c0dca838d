"""What a downloaded media file really is, from its first bytes, so the file name follows the content.

Magic numbers: ID3v2 tag "ID3" and the MPEG audio frame header (11 sync bits, a version other than
the reserved 01, a layer other than 00); RIFF "WAVE" (Microsoft RIFF spec); "OggS" (RFC 3533); "fLaC"
(RFC 9639); ISO base media "ftyp" box at offset 4 (ISO/IEC 14496-12); EBML 1A 45 DF A3 with DocType
"webm" (RFC 8794, WebM spec).
"""

from __future__ import annotations

# format -> (content type, file extension)
AUDIO_FORMATS = {
    "mp3": ("audio/mpeg", ".mp3"),
    "wav": ("audio/wav", ".wav"),
    "ogg": ("audio/ogg", ".ogg"),
    "flac": ("audio/flac", ".flac"),
    "m4a": ("audio/mp4", ".m4a"),
    "webm": ("audio/webm", ".webm"),
}
AUDIO_SUFFIXES = {
    "mp3": (".mp3",),
    "wav": (".wav", ".wave"),
    "ogg": (".ogg", ".oga", ".opus"),
    "flac": (".flac",),
    "m4a": (".m4a", ".mp4", ".aac"),
    "webm": (".webm", ".weba"),
}


def audio_format(data: bytes) -> str | None:
    """'mp3', 'wav', 'ogg', 'flac', 'm4a' or 'webm' from the file's magic bytes, else None."""
    if data.startswith(b"ID3") or _mpeg_frame(data):
        return "mp3"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"OggS"):
        return "ogg"
    if data.startswith(b"fLaC"):
        return "flac"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "m4a"
    if data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]:
        return "webm"
    return None


def _mpeg_frame(data: bytes) -> bool:
    """An MPEG audio frame header: sync bits set, version not reserved, layer I-III (not AAC's 00)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer = (data[1] >> 3) & 0b11, (data[1] >> 1) & 0b11
    bitrate, rate = data[2] >> 4, (data[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and rate != 0b11
