"""Make model output safe to display: plain text and markers, nothing that loads or links out.

>>> sanitize('Voir ![x](http://evil.example/p.png) <script>alert(1)</script> [1]')
'Voir alert(1) [1]'
"""

from __future__ import annotations

import re

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*[^)]*\)")
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->", re.S)
_URL = re.compile(r"\b(?:https?|ftp|file|data|javascript):\S*|\bwww\.\S+", re.I)
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)


def sanitize(text: str) -> str:
    """Drop images, HTML tags, URLs and link targets (keeping link text)."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE.sub("", text)
    text = _TAG.sub("", text)
    text = _URL.sub("", text)
    text = text.replace("<", "‹").replace(">", "›")
    return re.sub(r"[ \t]{2,}", " ", text)
