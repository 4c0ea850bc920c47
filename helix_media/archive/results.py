"""What encoding and decoding an archive report: strands made; strands and frames recovered;
what was lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helix_media.media.codec import VideoInfo


@dataclass
class EncodeResult:
    strands: np.ndarray
    metadata: dict[str, Any]
    data_strands: int
    metadata_strands: int
    payload_bytes: int
    #: strands outside the synthesis constraints (only a coder that does not guarantee them
    #: can make any; the CLI warns with the count)
    violations: int = 0
    #: what the source had that the archive does not keep (streams, bit depth, timing)
    not_kept: list[str] = field(default_factory=list)


@dataclass
class DecodeResult:
    metadata: dict[str, Any]
    frames_written: int
    strands_read: int
    strands_ok: int
    symbols_corrected: int
    lost_units: dict[str, list[list[int]]] = field(default_factory=dict)
    concealed_frames: list[int] = field(default_factory=list)
    #: everything else measured on the way: read-path counts ("reads"), outer-code recovery
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def data_strands_missing(self) -> int:
        return data_strands_missing(self.stats)

    @property
    def complete(self) -> bool:
        """Nothing was lost: every data strand there (or rebuilt), no unit lost, no frame
        concealed. False means the output was written but is not what was stored."""
        lost_units = any(self.lost_units.values())
        return not (self.data_strands_missing or lost_units or self.concealed_frames)

    def loss_report(self) -> str:
        """One line saying what was lost (empty when :attr:`complete`)."""
        if self.complete:
            return ""
        parts = []
        if self.data_strands_missing:
            # (with an outer code, the count of data strands without its parity strands)
            total = self.stats.get("data_strands", 0) - self.stats.get("parity_strands", 0)
            parts.append(f"{self.data_strands_missing} of {total} data strands missing")
        for kind, units in self.lost_units.items():
            if units:
                parts.append(f"{len(units)} {kind} units lost")
        if self.concealed_frames:
            parts.append(
                f"{len(self.concealed_frames)} of {self.frames_written} frames concealed "
                f"(first: {self.concealed_frames[:10]})"
            )
        return "data lost: " + "; ".join(parts)


def strand_counts(stats: dict[str, Any]) -> str:
    """The data strands found (before the outer code), the lost ones it rebuilt and the
    parity strands it had, as one phrase for messages."""
    found, n = stats.get("data_strands_found", 0), stats.get("data_strands", 0)
    if "parity_strands" not in stats:
        return f"data strands: {found} of {n} found"
    parity, parity_found = stats["parity_strands"], stats["parity_strands_found"]
    text = f"data strands: {found - parity_found} of {n - parity} found"
    if stats.get("strands_recovered"):
        text += f", {stats['strands_recovered']} rebuilt by the outer code"
    return text + f" (parity strands: {parity_found} of {parity} found)"


def data_strands_missing(stats: dict[str, Any]) -> int:
    """Data strands lost for good: after the outer code, if the archive has one."""
    if "strands_unrecoverable" in stats:
        return int(stats["strands_unrecoverable"])
    return max(0, stats.get("data_strands", 0) - stats.get("data_strands_found", 0))


@dataclass
class DecodedMedia:
    """Everything decoded from strands: frames in display order (lost ones concealed)."""

    info: VideoInfo
    frames: list[Any]
    audio_frames: list[Any]
    audio_params: dict[str, Any] | None
    result: DecodeResult
