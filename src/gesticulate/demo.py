"""``gesticulate demo``: a video from inputs that ship with the project's dependencies only.

The photo is scikit-image's bundled ``astronaut`` (Eileen Collins, NASA, public domain; head
and shoulders). The speech is synthesised offline by eSpeak NG from the ``espeakng-loader``
wheel. Nothing is downloaded and nothing from ``../shared`` is read.
"""

from __future__ import annotations

from gesticulate.pipeline import GenerateOptions, GeneratePipeline, GenerateResult

DEMO_TEXT = (
    "Hello! I am a gesticulate demo. I was animated from a single photo and a voice track, "
    "on an ordinary laptop, with nothing to download. Give me your own speech and your own "
    "photo, and I will talk, nod, and move my hands with the rhythm of your words."
)


def demo_photo():
    """The bundled public-domain demo photo, RGB uint8 (512, 512, 3)."""
    from skimage.data import astronaut
    return astronaut()


def run_demo(*, output, text: str | None = None, options: GenerateOptions | None = None,
             motion_output=None, progress: bool = True) -> GenerateResult:
    from gesticulate.audio.tts import synthesize
    y, sr = synthesize(text or DEMO_TEXT)
    return GeneratePipeline(options)(audio=(y, sr), image=demo_photo(), output=output,
                                     motion_output=motion_output, progress=progress)
