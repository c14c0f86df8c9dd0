"""Audio in: reading any audio or video file, per-frame features, voice activity, phones, TTS.

Heavy libraries (librosa, torch, pocketsphinx, eSpeak NG) are imported only when a function
that needs them is called, so ``import gesticulate.audio`` is cheap.
"""

from gesticulate.audio.features import AudioFeatures, compute_features, load_features, num_frames
from gesticulate.audio.io import (MAX_DURATION_S, MIN_DURATION_S, audio_duration, check_audio,
                                  load_audio)
from gesticulate.audio.phones import recognize_phones, viseme_openness
from gesticulate.audio.tts import synthesize
from gesticulate.audio.vad import frame_speech_probability, speech_probability, speech_segments

__all__ = [
    "AudioFeatures", "compute_features", "load_features", "num_frames",
    "MAX_DURATION_S", "MIN_DURATION_S", "audio_duration", "check_audio", "load_audio",
    "recognize_phones", "viseme_openness", "synthesize",
    "frame_speech_probability", "speech_probability", "speech_segments",
]
