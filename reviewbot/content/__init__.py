"""Content rules: route a hunk by what its added and removed code does, not only by its path."""

from .mask import mask_code, masker_for
from .matcher import ContentMatch, ContentRules

__all__ = ["ContentMatch", "ContentRules", "mask_code", "masker_for"]
