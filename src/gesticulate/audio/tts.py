"""Offline speech synthesis with eSpeak NG, from the ``espeakng_loader`` wheel, via ctypes.

The wheel carries ``libespeak-ng.so`` and its ``espeak-ng-data`` folder, so no system
espeak is needed and nothing is downloaded. We drive the C API (``speak_lib.h``) directly:
``espeak_Initialize`` in synchronous mode with the wheel's data path, a callback that
collects the 16-bit samples, then ``espeak_SetVoiceByName`` / ``espeak_SetParameter`` /
``espeak_Synth`` per call. eSpeak keeps global state, so calls are serialised by a lock.
Used by ``gesticulate demo`` and the web app's text box.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from gesticulate.errors import InputError, OptionError

TTS_SR = 22050
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_RATE = 1  # espeak_PARAMETER espeakRATE, words per minute
_RATE_RANGE = (80, 450)
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)
_lock = threading.Lock()
_state: dict[str, object] = {}


def _engine():
    """The loaded library, initialised once per process; returns (lib, sample list)."""
    if "lib" not in _state:
        import espeakng_loader
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                   espeakng_loader.get_data_path().encode(),
                                   _INITIALIZE_DONT_EXIT)
        if sr <= 0:
            raise InputError(f"eSpeak NG could not start (code {sr}): its voice data is "
                             "missing or damaged. Reinstall it (pip install --force-reinstall "
                             "espeakng-loader), or give a recording of speech instead of text")
        chunks: list[np.ndarray] = []

        def collect(wav, num_samples, _events):
            if wav and num_samples > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
            return 0
        callback = _CALLBACK(collect)
        lib.espeak_SetSynthCallback(callback)
        _state.update(lib=lib, sr=sr, chunks=chunks, callback=callback)  # keep callback alive
    return _state["lib"], _state["chunks"]


def synthesize(text: str, *, voice: str = "en-us",
               rate_wpm: int = 150) -> tuple[np.ndarray, int]:
    """Speak ``text`` offline with eSpeak NG.

    Parameters
    ----------
    text : str
        What to say (UTF-8; punctuation gives pauses).
    voice : str
        eSpeak NG voice name, e.g. ``"en-us"``, ``"en"``, ``"de"``, ``"fr"``.
    rate_wpm : int
        Speaking rate in words per minute, 80..450.

    Returns
    -------
    y : np.ndarray, shape (N,), float32
        Mono speech in -1..1.
    sr : int
        Its sample rate, 22050 Hz.

    Raises
    ------
    InputError
        ``text`` is empty or only whitespace, eSpeak NG cannot start (its data is missing or
        damaged) or it made no sound for ``text``.
    OptionError
        Unknown voice or a rate outside 80..450.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("the text to speak is empty; type the words the person should say")
    if not _RATE_RANGE[0] <= rate_wpm <= _RATE_RANGE[1]:
        raise OptionError(f"rate_wpm={rate_wpm} is outside {_RATE_RANGE[0]}..{_RATE_RANGE[1]}"
                          " words per minute; 150 is a natural pace")
    with _lock:
        lib, chunks = _engine()
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise OptionError(f"unknown eSpeak voice {voice!r}; try 'en-us', 'en', 'de', "
                              "'fr' or 'es'")
        lib.espeak_SetParameter(_RATE, int(rate_wpm), 0)
        data = text.encode("utf-8") + b"\0"
        chunks.clear()
        err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE,
                               None, None)
        lib.espeak_Synchronize()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        chunks.clear()
    if err != 0 or len(samples) == 0:
        raise InputError(f"eSpeak NG made no sound (code {err}) for {text[:40]!r}; type words "
                         "of the voice's language, or give a recording of speech instead")
    return (samples.astype(np.float32) / 32768.0), int(_state["sr"])
