"""The embedded conversion engine: anything in, FLAC out, with ffmpeg (and espeak-ng for text).

Pure Python and subprocess: imports nothing from Django, only converter.options.
"""

from .conversion import convert
from .errors import ConversionCanceled
from .interface import EngineInput, InputFailure, ProducedOutput
from .probe import probe
from .waveform import Waveform, waveform

__all__ = ["ConversionCanceled", "EngineInput", "InputFailure", "ProducedOutput", "Waveform", "convert",
           "probe", "waveform"]
